"""Keep Glance's import task fresh while a plugin does long work.

Glance lets another import break the lock of an import whose task has not
been updated for 60 minutes. A plugin that reads a large image calls
``beat()`` as it goes; at most once per ``heartbeat_interval`` seconds this
saves the task (updating its ``updated_at``) with a progress message, and
stops the work if the task is no longer ours to run.
"""

import time

from glance_import_ext.common import options
from glance_import_ext import glance_internals


class Heartbeat:

    def __init__(self, task_repo, task_id, interval=None,
                 clock=time.monotonic):
        self.task_repo = task_repo
        self.task_id = task_id
        self.interval = (interval if interval is not None else
                         options.CONF[options.GROUP].heartbeat_interval)
        self._clock = clock
        self._last = clock()

    def beat(self, message):
        now = self._clock()
        if now - self._last < self.interval:
            return False
        self._last = now
        self.touch(message)
        return True

    def touch(self, message):
        """Save the task now with ``message``; abort if it is not running."""
        task = self.task_repo.get(self.task_id)
        if task.status != 'processing':
            # Someone failed or finished this task (lock broken): stop.
            raise glance_internals.exceptions.TaskAbortedError()
        task.message = message
        self.task_repo.save(task)
