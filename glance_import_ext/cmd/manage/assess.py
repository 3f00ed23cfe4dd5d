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

"""What an image's import is: alive, dead, or none at all.

An import is **alive** while its task is updated: every import that runs
through a plugin of this library is kept fresh by its glance-api process
(``common/keepalive.py``); a ``processing`` task not updated for
``keepalive.stale_after`` seconds has no live worker. Imports the library
does not watch are dead only after Glance's own lock expiry (60 minutes).

Which worker holds data is read from Glance's own records only:
``os_glance_stage_host`` (users cannot write ``os_glance_*``) and the
import task (users cannot write tasks), where the library records the
worker running the import and the staging worker. ``import_ext_*``
properties are the image owner's to edit: never trusted here.
"""

import datetime

from glance_import_ext.cmd.manage import values
from glance_import_ext.common import keepalive
from glance_import_ext.common import options
from glance_import_ext.common import records
from glance_import_ext import glance_internals

LOCK = glance_internals.IMPORT_LOCK
STAGE_HOST = glance_internals.STAGE_HOST
IMPORTING_TO = glance_internals.IMPORTING_TO_STORES
RECORDS = records.NAMESPACE
# Written by staging_owner; named here because it was once trusted.
STAGED_ON = 'import_ext_staged_on'

# Statuses an import can be stuck in.
STUCK = ('uploading', 'importing')
# Statuses of images the command changes (queued: still locked).
RECOVERABLE = ('queued', 'uploading', 'importing')
# A task the library does not watch (no plugin of it ran, or the worker
# died before the flow was built) is dead after Glance's own lock expiry;
# Glance doubles it for pending tasks.
UNWATCHED_EXPIRY = 60 * 60
PENDING_EXPIRY = 2 * UNWATCHED_EXPIRY

# What an image's import is (Assessment.verdict).
ALIVE = 'alive'   # running, or cannot be told dead yet: never touched
DEAD = 'dead'     # no live worker runs it: recoverable
NONE = 'none'     # no import holds the image (e.g. staged, waiting)

task_facts = keepalive.task_facts


def task_method(task, facts=None):
    """The import method: Glance's task input, else the library's record.

    :param task: the import task (a dict), or None.
    :param facts: what the library recorded in the task (task_facts).
    """
    try:
        name = task['input']['import_req']['method']['name']
    except (KeyError, TypeError):
        name = None
    if not name and facts:
        name = facts.get('method')
    return name if isinstance(name, str) else None


class Assessment:
    """One image that an import holds or may hold, and what that import is.

    ``data_worker``: the worker holding the image's staged data (or the
    residue of a dead import), from Glance's records and the task only.

    :param image: the image (get_image's shape).
    :param task: the import task that holds or last held it, or None.
    :param verdict: ALIVE, DEAD or NONE.
    :param reason: why, in a sentence an operator reads.
    :param age: seconds since the task (or image) was last updated.
    :param stale_after: seconds without update after which it is dead.
    :param facts: what the library recorded in the task (task_facts).
    """

    def __init__(self, image, task, verdict, reason, age=None,
                 stale_after=None, facts=None):
        self.image = image
        self.task = task
        self.verdict = verdict
        self.reason = reason
        self.age = age
        self.stale_after = stale_after
        facts = facts or {}
        self.watched = bool(facts)
        self.method = task_method(task, facts)
        self.worker = values.worker_of(facts.get('worker'))
        self.stage_host = values.worker_of(facts.get('stage_host'))
        glance_stage_host = values.worker_of(self.properties.get(STAGE_HOST))
        if verdict == NONE:
            self.data_worker = glance_stage_host
        elif self.method == 'glance-direct' or self.method is None:
            self.data_worker = (self.stage_host or glance_stage_host or
                                self.worker)
        else:
            self.data_worker = self.worker

    @property
    def image_id(self):
        """The image's id."""
        return self.image['id']

    @property
    def status(self):
        """The image's status."""
        return self.image['status']

    @property
    def properties(self):
        """The image's properties (a dict)."""
        return self.image['properties']

    @property
    def lock(self):
        """The id of the task holding the image's import lock, or None."""
        return self.properties.get(LOCK)

    def as_dict(self):
        """The assessment as a row of ``imports list``."""
        task = self.task or {}
        return {
            'image': self.image_id,
            'status': self.status,
            'import': self.verdict,
            'reason': self.reason,
            'lock': self.lock,
            'task': task.get('id') or self.lock,
            'task_status': task.get('status') if self.task else None,
            'task_updated_at': _iso(task.get('updated_at')),
            'age_seconds': self.age,
            'dead_after_seconds': self.stale_after,
            'watched': self.watched,
            'method': self.method,
            'worker': self.worker,
            'staging_worker': self.stage_host,
            'data_worker': self.data_worker,
        }


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else None


def _age(now, then):
    if then is None:
        return None
    return max(0, int((now - then).total_seconds()))


def assess(image, task, now, interval=None):
    """The Assessment of ``image``, whose lock (or last import) is ``task``.

    :param image: {'id', 'status', 'updated_at', 'properties': {...},
        'locations': n}
    :param task: the task holding the lock, or when there is no lock, the
        image's latest import task; None if there is none.
    :param now: the time (naive UTC datetime) ages are counted to.
    :param interval: heartbeat_interval of this configuration.
    """
    facts = task_facts(task)
    if facts and isinstance(facts.get('interval'), int):
        interval = facts['interval']
    limit = keepalive.stale_after(interval)
    lock = image['properties'].get(LOCK)
    if lock is None and image['status'] != 'importing':
        verdict = (NONE, 'no import holds the image', None)
    elif task is None:
        verdict = _without_task(image, lock, _age(now, image.get(
            'updated_at')), limit)
    elif task['status'] == 'processing':
        verdict = _processing(task, facts, now, interval, limit)
    elif task['status'] == 'pending':
        verdict = _pending(task, _age(now, task['updated_at']))
    else:
        verdict = _ended(image, task, lock, _age(now, task['updated_at']),
                         limit)
    return Assessment(image, task, *verdict, stale_after=limit, facts=facts)


def _without_task(image, lock, age, limit):
    """(verdict, reason, age) of an image whose lock names no task."""
    if image['status'] != 'importing':
        # Glance sets the lock just before it creates the task, and
        # itself breaks a lock whose task does not exist when the next
        # import comes: nothing to do, and no race with a starting import.
        return (NONE, 'locked by task %s, which does not exist: Glance '
                'releases the lock at the next import' % values.show(lock),
                None)
    what = ('locked by task %s, which does not exist' % values.show(lock)
            if lock else 'importing, with no import lock and no task')
    if age is not None and age > limit:
        return DEAD, '%s; image not updated for %d s' % (what, age), age
    return (ALIVE, '%s; image updated %s s ago, dead after %d s' % (
        what, age, limit), age)


def _processing(task, facts, now, interval, limit):
    """(verdict, reason, age) of a running task: watched or not."""
    age = _age(now, task['updated_at'])
    if facts:
        if keepalive.is_stale(task['status'], task['updated_at'], now,
                              interval):
            return (DEAD, 'task %s not updated for %d s (a live import is '
                    'updated every %s s)' % (
                        task['id'], age, interval or
                        options.CONF[options.GROUP].heartbeat_interval),
                    age)
        return (ALIVE, 'task %s updated %d s ago; dead after %d s without '
                'update' % (task['id'], age, limit), age)
    if age >= UNWATCHED_EXPIRY:
        return (DEAD, 'task %s not updated for %d s (not watched by this '
                'library: dead after Glance\'s lock expiry of %d s)' % (
                    task['id'], age, UNWATCHED_EXPIRY), age)
    return (ALIVE, 'task %s not watched by this library (no plugin of it '
            'ran): dead only after %d s without update, as Glance\'s lock '
            'expiry; updated %d s ago' % (task['id'], UNWATCHED_EXPIRY, age),
            age)


def _pending(task, age):
    """(verdict, reason, age) of a task Glance has not started."""
    if age >= PENDING_EXPIRY:
        return DEAD, 'task %s pending for %d s' % (task['id'], age), age
    return (ALIVE, 'task %s pending, updated %d s ago' % (task['id'], age),
            age)


def _ended(image, task, lock, age, limit):
    """(verdict, reason, age) of a task that ended but holds the image."""
    if age > limit:
        return (DEAD, 'task %s ended (%s) %d s ago but the image is still '
                '%s%s' % (task['id'], task['status'], age, image['status'],
                          ' and locked' if lock else ''), age)
    return (ALIVE, 'task %s ended (%s) %d s ago; its worker may still be '
            'finishing' % (task['id'], task['status'], age), age)


def task_of(db, image):
    """The task holding ``image``'s lock, else its latest import task.

    Without a lock only an ``importing`` image has one that matters.

    :param db: the GlanceDb (or a fake) to read from.
    :param image: the image (get_image's shape).
    """
    lock = image['properties'].get(LOCK)
    if lock:
        return db.task(lock)
    if image['status'] == 'importing':
        return db.latest_import_task(image['id'])
    return None


def collect(db, now, interval=None, image_ids=None):
    """Assessments of every image an import holds or may hold.

    Images ``uploading`` or ``importing``, and ``queued`` ones still locked
    by an import (Glance refuses a new import for 60 minutes).

    :param db: the GlanceDb (or a fake) to read from.
    :param now: the time (naive UTC datetime) ages are counted to.
    :param interval: heartbeat_interval of this configuration.
    :param image_ids: only these images (those that exist), or None.
    """
    if image_ids is not None:
        found = [db.image(i) for i in image_ids]
        images = [i for i in found if i is not None]
    else:
        images = []
        for status in STUCK:
            images.extend(db.images(status))
        seen = {i['id'] for i in images}
        for image_id in db.locked_image_ids(['queued']):
            if image_id not in seen:
                image = db.image(image_id)
                if image is not None:
                    images.append(image)
    return [assess(image, task_of(db, image), now, interval)
            for image in images]
