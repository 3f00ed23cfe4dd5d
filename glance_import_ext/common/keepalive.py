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

"""Liveness: every import task's freshness, and every wait for its end.

A task whose worker died (SIGKILL, a SIGTERM that uWSGI escalated) stays
``processing`` for good and its image ``importing``, locked. To tell such
a task from a live one, every import that runs through a plugin of this
library is watched, from the moment its flow is built (before Glance's
own download or staging checks) until the task leaves ``processing``:
one thread per glance-api process (``TaskKeepalive``) updates each
watched task's ``updated_at`` every ``heartbeat_interval`` seconds.

The thread dies with its process, whichever uWSGI process or thread ran
the import. So a ``processing`` task not updated for several intervals
has no live worker (``is_stale``); the admin command recovers those.

The update touches ``updated_at`` only (``glance_internals.touch_tasks``):
it cannot overwrite the status or message Glance writes when the import
ends.

The same thread is the one place that waits for a task's end: work that
must follow the import (image versions' rotation, the end of a failed
glance-download's revert) registers a callback (``when_done``,
``wait_for_end``) instead of polling the task itself.

A plugin's long work also reports progress in the task message
(``Heartbeat``): it saves the task at most once per interval and stops
the work once the task is no longer ``processing``.
"""

import collections
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
# Threads that run the work after imports (TaskKeepalive._finished).
AFTER_IMPORT_THREADS = 2


class _Waiter:
    """A callback waiting for a task's end, for ``timeout`` s at most."""

    def __init__(self, callback, poll, timeout):
        self.callback = callback
        self.poll = poll  # seconds between looks at the task
        # Monotonic time past which it is dropped; None: no limit.
        self.deadline = (None if timeout is None else
                         time.monotonic() + timeout)


class _Watched:

    def __init__(self, context, task_id, keep_fresh=True):
        self.context = context
        self.task_id = task_id
        # False: only waited on (wait_for_end), its updated_at untouched.
        self.keep_fresh = keep_fresh
        self.touched = None   # monotonic time of the last update
        # _Waiters, called with the task's final status once it leaves
        # processing.
        self.when_done = []


class TaskKeepalive:
    """The process's keepalive thread and the imports it watches.

    :param interval: seconds between updates of a task; default: the
        ``heartbeat_interval`` option.
    :param done_poll: seconds between looks at a task someone waits on
        (when_done), at most, unless the waiter asks for less.
    """

    def __init__(self, interval=None, done_poll=1.0):
        self._interval = interval
        self.done_poll = done_poll
        self._watched = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        # Work after imports (when_done callbacks): queued, run by at most
        # AFTER_IMPORT_THREADS threads, each holding database connections
        # while it runs. A thread per import ending would take as many
        # connections at once as imports end together.
        self._after = collections.deque()
        self._after_threads = 0

    @property
    def interval(self):
        """Seconds between two updates of a watched task."""
        return (self._interval or
                options.CONF[options.GROUP].heartbeat_interval)

    def watch(self, context, task_id, facts=None):
        """Keep ``task_id`` fresh while it is ``processing`` here.

        :param context: the request context the task is read and updated
            with.
        :param task_id: the import's task.
        :param facts: where the import runs, saved once in the task's
            result (RESULT_KEY) for the admin command.
        """
        with self._lock:
            item = self._watched.get(task_id)
            if item is not None and item.keep_fresh:
                return
            if item is None:
                self._watched[task_id] = _Watched(context, task_id)
            else:
                item.keep_fresh = True  # was only waited on until now
        if facts:
            glance_internals.set_task_result(context, task_id,
                                             {RESULT_KEY: facts})
        self._start()

    def when_done(self, task_id, callback, poll=None, timeout=None):
        """Call ``callback(status)`` once ``task_id`` leaves processing.

        For work that must follow the import's end (image versions): the
        task is then looked at every ``poll`` seconds instead of every
        heartbeat. The callback runs in a thread of its own with the
        task's final status (None: the task is gone); nothing calls it if
        this process dies first (the caller records its intent
        beforehand).

        :param task_id: a task this process watches.
        :param callback: called with the final status.
        :param poll: seconds between looks at the task; default
            ``done_poll``.
        :param timeout: seconds after which the callback is dropped, not
            called, if the task is still processing; default: no limit.
        :raises KeyError: ``task_id`` is not watched.
        """
        with self._lock:
            item = self._watched.get(task_id)
            if item is None:
                raise KeyError('task %s is not watched' % task_id)
            item.when_done.append(_Waiter(callback, poll, timeout))
        self._wake.set()

    def wait_for_end(self, context, task_id, callback, timeout, poll=None):
        """``when_done``, whether or not this process watches ``task_id``.

        A task the process does not watch (its watch failed while the
        flow was built) is looked at, not kept fresh, for ``timeout``
        seconds at most: the wait is bounded either way.

        :param context: the request context to read the task with.
        :param task_id: the task whose end is waited for.
        :param callback: called with the final status (None: gone) in a
            thread of its own; not called after ``timeout`` seconds.
        :param timeout: seconds to wait at most.
        :param poll: seconds between looks at the task.
        """
        with self._lock:
            item = self._watched.get(task_id)
            if item is None:
                item = self._watched[task_id] = _Watched(
                    context, task_id, keep_fresh=False)
            item.when_done.append(_Waiter(callback, poll, timeout))
        self._start()
        self._wake.set()

    def watching(self):
        """The ids of the tasks watched or waited on now, sorted."""
        with self._lock:
            return sorted(self._watched)

    def _start(self):
        """Start the thread unless it runs."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name='import-ext-keepalive',
                    daemon=True)
                self._thread.start()

    def _period(self):
        with self._lock:
            polls = [w.poll or self.done_poll
                     for item in self._watched.values()
                     for w in item.when_done]
        return min([self.interval] + polls)

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
        """Look at every task once, update those kept fresh; True if any left.

        One read for all the tasks and one write for those due (however
        many imports this process runs). A task that left processing is
        dropped and its waiters called with its status (None: gone).
        """
        with self._lock:
            watched = list(self._watched.values())
        watched = [item for item in watched if self._expire(item)]
        statuses = self._statuses(watched)
        if statuses is None:
            # A database hiccup: try again next time, a task is stale
            # only after several missed updates.
            return True
        for item in watched:
            status = statuses.get(item.task_id, 'processing')
            if status != 'processing':
                with self._lock:
                    self._watched.pop(item.task_id, None)
                self._finished(item, status)
        self._touch([item for item in watched
                     if statuses.get(item.task_id) == 'processing' and
                     self._due(item)])
        with self._lock:
            return bool(self._watched)

    def _expire(self, item):
        """Drop ``item``'s waiters past their deadline; False: forget it."""
        now = time.monotonic()
        with self._lock:
            late = [w for w in item.when_done
                    if w.deadline is not None and now >= w.deadline]
            for waiter in late:
                item.when_done.remove(waiter)
            if not item.keep_fresh and not item.when_done:
                self._watched.pop(item.task_id, None)
                forget = True
            else:
                forget = False
        if late:
            LOG.info('Import task %s still processing: stopped waiting for '
                     'its end', item.task_id)
        return not forget

    @staticmethod
    def _statuses(watched):
        """{task id: status} of ``watched`` (None: gone); None: unreadable."""
        if not watched:
            return {}
        ids = [item.task_id for item in watched]
        try:
            found = glance_internals.task_statuses(ids)
        except Exception as exc:
            LOG.warning('Could not read the import tasks %s: %s',
                        ', '.join(ids), type(exc).__name__)
            return None
        return {task_id: found.get(task_id) for task_id in ids}

    def _due(self, item):
        """True if ``item`` is kept fresh and its update is due."""
        # With a short poll (someone waits on a task's end) every look at
        # the task is not yet a due update. 0.9: the wait's own jitter.
        return item.keep_fresh and (item.touched is None or (
            time.monotonic() - item.touched >= 0.9 * self.interval))

    @staticmethod
    def _touch(due):
        """Update the tasks of ``due`` (updated_at only), in one write."""
        if not due:
            return
        try:
            glance_internals.touch_tasks([item.task_id for item in due])
        except Exception as exc:
            LOG.warning('Could not update the import tasks %s: %s',
                        ', '.join(item.task_id for item in due),
                        type(exc).__name__)
            return
        now = time.monotonic()
        for item in due:
            item.touched = now

    def _finished(self, item, status):
        """Queue ``item``'s callbacks with the final ``status``."""
        with self._lock:
            for waiter in item.when_done:
                self._after.append((waiter.callback, status))
            idle = AFTER_IMPORT_THREADS - self._after_threads
            start = max(0, min(idle, len(self._after)))
            self._after_threads += start
        for _ in range(start):
            threading.Thread(target=self._run_after, name='import-ext-after-'
                             'import', daemon=True).start()

    def _run_after(self):
        """Run queued callbacks until none is left."""
        while True:
            with self._lock:
                if not self._after:
                    self._after_threads -= 1
                    return
                callback, status = self._after.popleft()
            _call(callback, status)


def _call(callback, status):
    try:
        callback(status)
    except Exception:
        LOG.exception('Work after an import failed')


class Heartbeat:
    """Progress of a plugin's long work, saved in the task message.

    Glance lets another import break the lock of an import whose task has
    not been updated for 60 minutes. A plugin that reads a large image
    calls ``beat()`` as it goes; at most once per ``interval`` this saves
    the task (updating its ``updated_at``) with a progress message, and
    stops the work if the task is no longer ours to run.

    :param task_repo: Glance's task repository of the import.
    :param task_id: the import's task.
    :param interval: seconds between two saves, at least; default: the
        ``heartbeat_interval`` option.
    :param clock: returns the time in seconds (monotonic).
    """

    def __init__(self, task_repo, task_id, interval=None,
                 clock=time.monotonic):
        self.task_repo = task_repo
        self.task_id = task_id
        self.interval = (interval if interval is not None else
                         options.CONF[options.GROUP].heartbeat_interval)
        self._clock = clock
        self._last = clock()

    def beat(self, message):
        """Save the task with ``message`` if an interval has passed.

        :param message: the progress, for the task message.
        :returns: True if the task was saved.
        :raises TaskAbortedError: the task is no longer processing.
        """
        now = self._clock()
        if now - self._last < self.interval:
            return False
        self._last = now
        self.touch(message)
        return True

    def touch(self, message):
        """Save the task now with ``message``; abort if it is not running.

        :param message: the progress, for the task message.
        :raises TaskAbortedError: the task is no longer processing.
        """
        task = self.task_repo.get(self.task_id)
        if task.status != 'processing':
            # Someone failed or finished this task (lock broken): stop.
            raise glance_internals.exceptions.TaskAbortedError()
        task.message = message
        self.task_repo.save(task)


# One per glance-api process: imports of every thread share its thread.
KEEPALIVE = TaskKeepalive()


def utcnow():
    """Now, as Glance stores times: naive UTC."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
