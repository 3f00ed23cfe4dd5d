# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

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
