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

"""Keep a running import's task fresh for as long as its worker lives.

A task whose worker died (SIGKILL, a SIGTERM that uWSGI escalated) stays
``processing`` for good and its image ``importing``, locked. To tell such
a task from a live one, every import that runs through a plugin of this
library is watched, from the moment its flow is built (before Glance's
own download or staging checks) until the task leaves ``processing``:
one thread per glance-api process updates each watched task's
``updated_at`` every ``heartbeat_interval`` seconds.

The thread dies with its process, whichever uWSGI process or thread ran
the import. So a ``processing`` task not updated for several intervals
has no live worker (``is_stale``); the admin command recovers those.

The update touches ``updated_at`` only (``glance_internals.touch_task``):
it cannot overwrite the status or message Glance writes when the import
ends.
"""

import datetime
import json
import threading
import time

from oslo_log import log as logging

from glance_import_ext.common import options
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)

# A task is dead once it missed this many updates in a row.
MISSED_UPDATES = 3


def stale_after(interval=None):
    """Seconds without an update after which a processing task is dead."""
    interval = interval or options.CONF[options.GROUP].heartbeat_interval
    return MISSED_UPDATES * interval + 30


def is_stale(status, updated_at, now, interval=None):
    """True if a task with this status and last update has no live worker.

    :param updated_at: naive UTC datetime, as Glance stores it.
    """
    if status != 'processing':
        return False
    age = (now - updated_at).total_seconds()
    return age > stale_after(interval)


def task_facts(task):
    """Where the import runs, as the library recorded it in ``task``.

    :param task: a task as Glance's DB API returns it (``result`` a dict
        or its JSON text).
    """
    result = (task or {}).get('result')
    if isinstance(result, str):
        try:
            result = json.loads(result)
        except ValueError:
            return None
    facts = result.get(RESULT_KEY) if isinstance(result, dict) else None
    return facts if isinstance(facts, dict) else None


def task_alive(task, now):
    """True while ``task`` runs on a live worker (not ended, not stale)."""
    if not task or task.get('status') != 'processing':
        return False
    facts = task_facts(task) or {}
    interval = facts.get('interval')
    interval = interval if isinstance(interval, int) and interval > 0 \
        else None
    return not is_stale(task['status'], task['updated_at'], now, interval)


# The task's ``result`` carries where the import runs, while it runs:
# {RESULT_KEY: {'worker': url, 'stage_host': url, 'method': name,
#               'interval': heartbeat seconds}}.
# Users cannot write a task; Glance replaces the result when the import
# succeeds. The admin command reads it to recover a dead import.
RESULT_KEY = 'import_ext'


class _Watched:

    def __init__(self, context, task_id):
        self.context = context
        self.task_id = task_id
        self.touched = None   # monotonic time of the last update
        # Called with the task's final status once it leaves processing.
        self.when_done = []


class TaskKeepalive:
    """The process's keepalive thread and the imports it watches.

    :param interval: seconds between updates of a task; default: the
        ``heartbeat_interval`` option.
    :param done_poll: seconds between looks at a task someone waits on
        (when_done), at most.
    """

    def __init__(self, interval=None, done_poll=1.0):
        self._interval = interval
        # Seconds between looks at tasks someone waits on (when_done).
        self.done_poll = done_poll
        self._watched = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None

    @property
    def interval(self):
        return (self._interval or
                options.CONF[options.GROUP].heartbeat_interval)

    def watch(self, context, task_id, facts=None):
        """Keep ``task_id`` fresh while it is ``processing`` here.

        :param facts: where the import runs, saved once in the task's
            result (RESULT_KEY) for the admin command.
        """
        with self._lock:
            if task_id in self._watched:
                return
            self._watched[task_id] = _Watched(context, task_id)
        if facts:
            glance_internals.set_task_result(context, task_id,
                                             {RESULT_KEY: facts})
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name='import-ext-keepalive',
                    daemon=True)
                self._thread.start()

    def when_done(self, task_id, callback, poll=None):
        """Call ``callback(status)`` once ``task_id`` leaves processing.

        For work that must follow the import's end (image versions): the
        task is then looked at every ``poll`` seconds instead of every
        heartbeat. The callback runs in a thread of its own; nothing
        calls it if this process dies first (the caller records its
        intent beforehand).
        """
        with self._lock:
            item = self._watched.get(task_id)
            if item is None:
                raise KeyError('task %s is not watched' % task_id)
            item.when_done.append(callback)
            if poll:
                self.done_poll = min(self.done_poll, poll)
        self._wake.set()

    def watching(self):
        with self._lock:
            return sorted(self._watched)

    def _period(self):
        with self._lock:
            waited_on = any(w.when_done for w in self._watched.values())
        return min(self.interval, self.done_poll) if waited_on \
            else self.interval

    def _run(self):
        while True:
            self._wake.wait(self._period())
            self._wake.clear()
            if not self.tick():
                with self._lock:
                    if not self._watched:
                        self._thread = None
                        return

    def tick(self):
        """Update every watched task still processing; True if any left."""
        with self._lock:
            watched = list(self._watched.values())
        for item in watched:
            try:
                keep = self._touch(item)
            except Exception as exc:
                # A database hiccup: try again next time, the task is
                # stale only after several missed updates.
                LOG.warning('Could not update import task %s: %s',
                            item.task_id, type(exc).__name__)
                keep = True
            if keep is not True:
                with self._lock:
                    self._watched.pop(item.task_id, None)
                self._finished(item, keep)
        with self._lock:
            return bool(self._watched)

    def _touch(self, item):
        """True while processing; else the task's status (None: gone)."""
        # With a short poll (someone waits on a task's end) every look at
        # the task is not yet a due update. 0.9: the wait's own jitter.
        due = item.touched is None or (
            time.monotonic() - item.touched >= 0.9 * self.interval)
        try:
            task = glance_internals.get_task(item.context, item.task_id)
        except glance_internals.exceptions.NotFound:
            return None
        if task['status'] != 'processing':
            return task['status']
        if due:
            glance_internals.touch_task(item.context, item.task_id)
            item.touched = time.monotonic()
        return True

    @staticmethod
    def _finished(item, status):
        for callback in item.when_done:
            threading.Thread(target=_call, args=(callback, status),
                             name='import-ext-after-import',
                             daemon=True).start()


def _call(callback, status):
    try:
        callback(status)
    except Exception:
        LOG.exception('Work after an import failed')


# One per glance-api process: imports of every thread share its thread.
KEEPALIVE = TaskKeepalive()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
