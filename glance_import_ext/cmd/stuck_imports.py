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

"""glance-import-ext-stuck-imports: find and recover imports that cannot end.

Run it where glance-api's configuration is: it reads glance-api.conf and,
from the same directory, glance-image-import.conf (as glance-api does), and
works on Glance's database::

    glance-import-ext-stuck-imports list [--format json]
    glance-import-ext-stuck-imports recover [--image ID] [--apply]
    glance-import-ext-stuck-imports clean --worker URL [--action delete] \
        [--apply]
    glance-import-ext-stuck-imports verify-records [IMAGE ...]

What decides, and what never does:

- An import is **alive** while its task is updated: every import that runs
  through a plugin of this library is kept fresh by its glance-api process
  (``common/keepalive.py``); a ``processing`` task not updated for
  ``keepalive.stale_after`` seconds has no live worker. Imports the library
  does not watch are dead only after Glance's own lock expiry (60 minutes).
  Nothing here ever changes an image whose import is alive, and every
  change is conditional on what was read (image status, lock, properties,
  the task's status and last update): an import that comes back to life or
  anything that changed meanwhile makes the change a no-op.
- Which worker holds data is read from Glance's own records only:
  ``os_glance_stage_host`` (users cannot write ``os_glance_*``) and the
  import task (users cannot write tasks), where the library records the
  worker running the import and the staging worker. ``import_ext_*``
  properties are the image owner's to edit: never trusted here.
- Worker URLs are validated (http or https, with a host) before they are
  compared or probed; values are escaped when printed.

Exit codes: 0 done, or nothing to do; 1 refused (a live import or a worker
that answers would be touched, something changed meanwhile; for
verify-records: forged, rolled-back, removed or unsealed records found); 2
error (arguments, configuration, database).
"""

import argparse
import datetime
import json
import logging as std_logging
import os
import re
import sys
import time
import urllib.parse
import warnings

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.common import keepalive
from glance_import_ext.common import options
from glance_import_ext.common import records
from glance_import_ext.common import workers
from glance_import_ext import glance_internals
from glance_import_ext.plugins.image_versions import rotation

LOG = logging.getLogger(__name__)

PROG = 'glance-import-ext-stuck-imports'

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_ERROR = 2

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
MAX_TASK_MESSAGE = 900

# What an image's import is (Assessment.verdict).
ALIVE = 'alive'   # running, or cannot be told dead yet: never touched
DEAD = 'dead'     # no live worker runs it: recoverable
NONE = 'none'     # no import holds the image (e.g. staged, waiting)

# Glance database settings for this command: fail in seconds, not after
# oslo.db's default 10 retries 10 s apart.
DB_MAX_RETRIES = 0
DB_RETRY_INTERVAL = 1
DB_CONNECT_TIMEOUT = 5


class CommandError(Exception):
    """Stops the command with one line (exit 2); ``hint`` says what to do."""

    def __init__(self, message, hint=None):
        self.hint = hint
        super().__init__(message)

    def __str__(self):
        text = super().__str__()
        return '%s. Hint: %s' % (text, self.hint) if self.hint else text


class Changed(Exception):
    """A conditional change found the image or task changed meanwhile."""


# -- values ----------------------------------------------------------------
def parse_worker(value):
    """The canonical form of a glance-api worker URL; ValueError if not one.

    http or https, a host, an optional port and path; no credentials,
    query, fragment, spaces or control characters. Scheme and host are
    lowercased, a default port and a trailing slash dropped.
    """
    if not isinstance(value, str) or not value:
        raise ValueError('empty')
    text = value
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError('contains spaces or control characters')
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError('not a URL: %s' % exc)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        raise ValueError('not an http or https URL')
    host = parts.hostname
    if not host:
        raise ValueError('no host')
    if parts.username is not None or parts.password is not None:
        raise ValueError('credentials in the URL')
    if parts.query or parts.fragment:
        raise ValueError('a query or fragment in the URL')
    if port == {'http': 80, 'https': 443}[scheme]:
        port = None
    netloc = ('[%s]' % host) if ':' in host else host
    if port is not None:
        netloc += ':%d' % port
    return urllib.parse.urlunsplit(
        (scheme, netloc, parts.path.rstrip('/'), '', ''))


def worker_of(value):
    """``parse_worker(value)``, or None if it is not a worker URL."""
    try:
        return parse_worker(value)
    except ValueError:
        return None


def show(value, limit=120):
    """``value`` safe to print on one line: escaped, bounded."""
    if value is None:
        return '-'
    out = []
    for ch in str(value):
        if ch == '\\' or not ch.isprintable():
            out.append(ch.encode('unicode_escape').decode('ascii'))
        else:
            out.append(ch)
    text = ''.join(out)
    if len(text) > limit:
        text = text[:limit] + '...'
    return text


_CREDENTIALS = re.compile(r'(//)[^/@\s]*@')


def _reason(exc):
    """One line about ``exc``, without credentials of a database URL."""
    inner = getattr(exc, 'inner_exception', None) or exc
    lines = [line for line in str(inner).splitlines() if line.strip()]
    text = lines[0] if lines else type(inner).__name__
    return show(_CREDENTIALS.sub(r'\1***@', text), limit=300)


def _age(now, then):
    if then is None:
        return None
    return max(0, int((now - then).total_seconds()))


# -- what an image's import is -------------------------------------------
task_facts = keepalive.task_facts


def task_method(task, facts=None):
    """The import method: Glance's task input, else the library's record."""
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
        self.worker = worker_of(facts.get('worker'))
        self.stage_host = worker_of(facts.get('stage_host'))
        glance_stage_host = worker_of(self.properties.get(STAGE_HOST))
        if verdict == NONE:
            self.data_worker = glance_stage_host
        elif self.method == 'glance-direct' or self.method is None:
            self.data_worker = (self.stage_host or glance_stage_host or
                                self.worker)
        else:
            self.data_worker = self.worker

    @property
    def image_id(self):
        return self.image['id']

    @property
    def status(self):
        return self.image['status']

    @property
    def properties(self):
        return self.image['properties']

    @property
    def lock(self):
        return self.properties.get(LOCK)

    def as_dict(self):
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


def assess(image, task, now, interval=None):
    """The Assessment of ``image``, whose lock (or last import) is ``task``.

    :param image: {'id', 'status', 'updated_at', 'properties': {...},
        'locations': n}
    :param task: the task holding the lock, or when there is no lock, the
        image's latest import task; None if there is none.
    :param interval: heartbeat_interval of this configuration.
    """
    facts = task_facts(task)
    if facts and isinstance(facts.get('interval'), int):
        interval = facts['interval']
    limit = keepalive.stale_after(interval)
    lock = image['properties'].get(LOCK)

    def verdict(v, reason, age=None):
        return Assessment(image, task, v, reason, age, limit, facts)

    if task is None:
        age = _age(now, image.get('updated_at'))
        if lock is None and image['status'] != 'importing':
            return verdict(NONE, 'no import holds the image')
        if image['status'] != 'importing':
            # Glance sets the lock just before it creates the task, and
            # itself breaks a lock whose task does not exist when the
            # next import comes: nothing to do, and no race with a
            # starting import.
            return verdict(NONE, 'locked by task %s, which does not exist: '
                           'Glance releases the lock at the next import' %
                           show(lock))
        what = ('locked by task %s, which does not exist' % show(lock)
                if lock else 'importing, with no import lock and no task')
        if age is not None and age > limit:
            return verdict(DEAD, '%s; image not updated for %d s' % (
                what, age), age)
        return verdict(ALIVE, '%s; image updated %s s ago, dead after %d s'
                       % (what, age, limit), age)

    status = task['status']
    age = _age(now, task['updated_at'])
    if lock is None and image['status'] != 'importing':
        return verdict(NONE, 'no import holds the image')
    if status == 'processing':
        if facts:
            if keepalive.is_stale(status, task['updated_at'], now, interval):
                return verdict(DEAD, 'task %s not updated for %d s (a live '
                               'import is updated every %s s)' % (
                                   task['id'], age, interval or
                                   options.CONF[options.GROUP]
                                   .heartbeat_interval), age)
            return verdict(ALIVE, 'task %s updated %d s ago; dead after %d s '
                           'without update' % (task['id'], age, limit), age)
        if age >= UNWATCHED_EXPIRY:
            return verdict(DEAD, 'task %s not updated for %d s (not watched '
                           'by this library: dead after Glance\'s lock expiry '
                           'of %d s)' % (task['id'], age, UNWATCHED_EXPIRY),
                           age)
        return verdict(ALIVE, 'task %s not watched by this library (no plugin '
                       'of it ran): dead only after %d s without update, '
                       'as Glance\'s lock expiry; updated %d s ago' % (
                           task['id'], UNWATCHED_EXPIRY, age), age)
    if status == 'pending':
        if age >= PENDING_EXPIRY:
            return verdict(DEAD, 'task %s pending for %d s' % (
                task['id'], age), age)
        return verdict(ALIVE, 'task %s pending, updated %d s ago' % (
            task['id'], age), age)
    # success or failure, but the image is still held by it.
    if age > limit:
        return verdict(DEAD, 'task %s ended (%s) %d s ago but the image is '
                       'still %s%s' % (task['id'], status, age,
                                       image['status'],
                                       ' and locked' if lock else ''), age)
    return verdict(ALIVE, 'task %s ended (%s) %d s ago; its worker may still '
                   'be finishing' % (task['id'], status, age), age)


# -- what to change --------------------------------------------------------
class Change:
    """A conditional change of one image (and its import task)."""

    def __init__(self, assessment, to_status, delete=False):
        self.assessment = assessment
        self.image_id = assessment.image_id
        self.from_status = assessment.status
        self.to_status = 'deleted' if delete else to_status
        self.delete = delete
        # name -> value each property must still have (None: absent)
        self.expect = {}
        self.remove = []
        self.set = {}
        self.clear_size = False
        self.fail_task = None      # (task id, status, updated_at)
        self.task_message = None
        self.remove_files = []
        self.notes = []
        # Glance 33's parallel import: location rows, partial store objects
        self.import_rows = []
        self.store_files = []

    def drop(self, name):
        value = self.assessment.properties.get(name)
        self.expect[name] = value
        if value is not None and name not in self.remove:
            self.remove.append(name)

    def put(self, name, value):
        self.expect.setdefault(name, self.assessment.properties.get(name))
        if self.assessment.properties.get(name) != value:
            self.set[name] = value

    @property
    def properties_after(self):
        """The image's properties once the change is made."""
        after = {k: v for k, v in self.assessment.properties.items()
                 if k not in self.remove}
        after.update(self.set)
        return after

    def describe(self):
        """What changes, with the values before and after."""
        parts = []
        if self.delete:
            parts.append('image deleted (was %s)' % self.from_status)
        elif self.to_status != self.from_status:
            parts.append('status %s -> %s' % (self.from_status,
                                              self.to_status))
        props = self.assessment.properties
        for name, value in sorted(self.set.items()):
            parts.append('%s: %s -> %s' % (
                name, show(props.get(name), 80) if name in props
                else '(absent)', show(value, 80)))
        if not self.delete:
            for name in self.remove:
                parts.append('%s: %s -> (removed)' % (
                    name, show(props.get(name), 80)))
            if self.clear_size and self.assessment.image.get('size'):
                parts.append('size: %s -> (none)' %
                             self.assessment.image.get('size'))
        if self.fail_task:
            parts.append('task %s: %s -> failure' % self.fail_task[:2])
        for path in self.remove_files:
            parts.append('staged file %s removed' % show(path, 200))
        if self.import_rows:
            parts.append('%d pending:// location row(s) of the parallel '
                         'import deleted' % len(self.import_rows))
        for path in self.store_files:
            parts.append('partial store object %s removed' % show(path, 200))
        return '; '.join(parts) or 'nothing'


def _base_change(a, to_status, delete=False):
    change = Change(a, to_status, delete)
    change.drop(LOCK)
    change.drop(IMPORTING_TO)
    # The library's records are from the dead import (or the owner's).
    for name in sorted(a.properties):
        if name.startswith(RECORDS):
            change.drop(name)
    change.import_rows, change.store_files, unseen = (
        glance_internals.parallel_import_leftovers(a.image))
    change.notes.extend('partial data of the import may remain in store %s '
                        '(not a file store here): remove it before a retry '
                        'to that store' % show(s) for s in unseen)
    task = a.task
    if task and task['status'] in ('processing', 'pending'):
        change.fail_task = (task['id'], task['status'], task['updated_at'])
    return change


def _task_message(a, change, why):
    after = ('deleted' if change.delete else
             'back to %s' % change.to_status)
    then = {
        'uploading': 'import it again: its staged data is kept',
        'queued': 'stage or upload its data again, then import',
    }.get(change.to_status, 'create it again')
    text = ('Import stopped: %s (the import task was not updated for %s s). '
            'Recovered by %s: image %s is %s; %s.' % (
                why, a.age, PROG, a.image_id, after, then))
    return text[:MAX_TASK_MESSAGE]


def staged_files(staging_dir, image_id, listdir=os.listdir):
    """Paths of ``image_id``'s staged data and residue in ``staging_dir``.

    As Glance's staging cleaner: ``<id>`` and ``<id>.<anything>``.
    """
    try:
        names = listdir(staging_dir)
    except OSError:
        return []
    return [os.path.join(staging_dir, name) for name in sorted(names)
            if name == image_id or name.startswith(image_id + '.')]


class Here:
    """What this configuration says about the worker it belongs to."""

    def __init__(self, worker=None, staging_dir=None, interval=None,
                 isfile=os.path.isfile, listdir=os.listdir,
                 getmtime=os.path.getmtime, clock=time.time):
        self.worker = worker_of(worker)
        self.staging_dir = staging_dir
        self.interval = interval
        self.isfile = isfile
        self.listdir = listdir
        self.getmtime = getmtime
        self.clock = clock

    def sees(self, data_worker):
        """True if this worker's staging dir is where the data would be.

        No worker recorded: the import was not proxied, the data is in the
        one staging dir of the deployment.
        """
        if not self.staging_dir:
            return False
        return data_worker is None or data_worker == self.worker

    def staged(self, image_id):
        return self.isfile(os.path.join(self.staging_dir, image_id))

    def residue(self, image_id):
        return staged_files(self.staging_dir, image_id, self.listdir)

    def untouched_for(self, path):
        """Seconds since ``path`` was written; 0 if it is gone."""
        try:
            return max(0, self.clock() - self.getmtime(path))
        except OSError:
            return 0


def plan_recovery(a, here):
    """The Change that makes the dead import ``a`` retryable, or a reason.

    glance-direct: ``uploading`` with Glance's record of the staging worker
    back when the staged file is there; ``queued`` when this worker is the
    one that would hold it and it is not. Data on another worker cannot be
    seen from here: ``uploading`` too; a retry whose data is gone fails
    and the library's guard puts the image to ``queued``.
    web-download, glance-download: ``queued``, with the staged residue
    (Glance's staging store refuses to write over it) removed if it is
    here.
    """
    if a.verdict != DEAD:
        return None, 'import %s: %s' % (a.verdict, a.reason)
    if a.status not in RECOVERABLE:
        return None, ('%s image: only %s images are recovered (copy-image '
                      'locks are Glance\'s to expire)' % (
                          a.status, '/'.join(RECOVERABLE)))
    if a.status == 'importing' and a.image.get('locations'):
        return None, ('data already reached a store (the image has a '
                      'location): not changed, check the image and its '
                      'stores by hand')
    if a.status != 'importing':
        # Locked while uploading/queued: the import died before it set
        # 'importing'; only the lock and the bookkeeping go.
        change = _base_change(a, a.status)
        why = 'its glance-api worker stopped as the import started'
        change.task_message = _task_message(a, change, why)
        return change, None
    if a.method == 'glance-direct' or (a.method is None and
                                       a.stage_host is not None):
        on = a.data_worker
        if here.sees(on):
            to = 'uploading' if here.staged(a.image_id) else 'queued'
            where = 'here' if to == 'uploading' else 'not here'
            note = 'staged data %s (%s)' % (where, show(os.path.join(
                here.staging_dir, a.image_id), 200))
        else:
            to = 'uploading'
            note = ('staged data on %s, which this configuration cannot see: '
                    'kept as uploading; a retry whose data is gone fails and '
                    'the image goes back to queued' % show(on or 'an '
                                                           'unrecorded '
                                                           'worker'))
        change = _base_change(a, to)
        change.notes.append(note)
        if to == 'uploading' and a.stage_host:
            change.put(STAGE_HOST, a.stage_host)
        elif to == 'queued':
            change.drop(STAGE_HOST)
            change.clear_size = True
            change.remove_files = here.residue(a.image_id)
    else:
        change = _base_change(a, 'queued')
        change.drop(STAGE_HOST)
        change.clear_size = True
        if here.sees(a.worker):
            change.remove_files = here.residue(a.image_id)
        else:
            change.notes.append(
                'staged residue of the dead import may remain on %s: a '
                'retry there fails until it is gone; run "%s recover" with '
                'that worker\'s configuration to remove it' % (
                    show(a.worker or 'an unrecorded worker'), PROG))
    why = 'the glance-api worker running it (%s) stopped' % (
        a.worker or 'unrecorded')
    change.task_message = _task_message(a, change, why)
    return change, None


def plan_clean(a, action):
    """The Change that resets or deletes an image of a gone worker."""
    if a.verdict == ALIVE:
        return None, 'import alive: %s' % a.reason
    if a.status not in RECOVERABLE:
        return None, '%s image: not cleaned' % a.status
    if a.status == 'importing' and a.image.get('locations'):
        return None, ('data already reached a store: not changed, check the '
                      'image by hand')
    change = _base_change(a, 'queued', delete=(action == 'delete'))
    change.drop(STAGE_HOST)
    change.clear_size = True
    if change.fail_task:
        change.task_message = _task_message(
            a, change, 'the glance-api worker holding its staged data (%s) '
            'is gone' % a.data_worker)
    return change, None


def plan_residue(image, here):
    """Staged files here of a queued image no import holds, or [].

    Only files nobody wrote for as long as an import is considered alive
    without an update: a stage or a download writes to the staged file
    only while the image is ``uploading`` or ``importing``.
    """
    if (image['status'] != 'queued' or LOCK in image['properties'] or
            not here.staging_dir):
        return []
    quiet = keepalive.stale_after(here.interval)
    return [path for path in here.residue(image['id'])
            if here.untouched_for(path) > quiet]


# -- Glance's database -----------------------------------------------------
class GlanceDb:
    """The command's reads and conditional changes of Glance's database.

    As an admin, through the seam's verbs (glance_internals.db); a
    ``Change`` becomes one recover_image.
    """

    def __init__(self):
        self.context = glance_internals.admin_context()

    # reads
    def images(self, status):
        """Every image whose status is ``status`` (get_image's shape)."""
        return glance_internals.images_with_status(self.context, status)

    def image(self, image_id):
        """``image_id`` (get_image's shape), or None."""
        return glance_internals.image_or_none(self.context, image_id)

    def locked_image_ids(self, statuses):
        """Ids of the images in one of ``statuses`` an import locks."""
        return glance_internals.locked_image_ids(statuses)

    def task(self, task_id):
        """Task ``task_id`` (a dict), or None."""
        return glance_internals.task_or_none(self.context, task_id)

    def latest_import_task(self, image_id):
        """The image's newest import task, or None."""
        return glance_internals.latest_import_task(self.context, image_id)

    # writes
    def apply(self, change):
        """Make ``change`` in one transaction, or raise Changed."""
        try:
            glance_internals.recover_image(
                change.image_id, change.from_status,
                to_status=change.to_status, delete=change.delete,
                clear_size=change.clear_size, expect=change.expect,
                remove=change.remove, set_to=change.set,
                fail_task=change.fail_task, task_message=change.task_message,
                drop_locations=change.import_rows)
        except glance_internals.RecoveryConflict as exc:
            raise Changed(_conflict(exc)) from None


def _conflict(exc):
    """What a RecoveryConflict says, in the command's words."""
    if exc.what == 'status':
        return 'the image is no longer %s' % exc.expected
    if exc.what == 'task':
        return ('task %s was updated meanwhile: its import may be alive' %
                exc.name)
    return '%s changed from %s to %s' % (exc.name, show(exc.expected, 80),
                                         show(exc.found, 80))


def task_of(db, image):
    """The task holding ``image``'s lock, else its latest import task.

    Without a lock only an ``importing`` image has one that matters.
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


# -- commands --------------------------------------------------------------
class Reporter:
    """Says every change on stdout and logs it with before and after."""

    def __init__(self, out):
        self.out = out

    def say(self, text):
        self.out.write(text + '\n')

    def changed(self, verb, change):
        line = '%s image %s: %s' % (verb, change.image_id, change.describe())
        self.say(line)
        LOG.info('%s', line)
        for note in change.notes:
            self.say('  note: ' + note)
            LOG.info('image %s: %s', change.image_id, note)


def _probe(urls, probe):
    return {url: probe(url) for url in sorted({u for u in urls if u})}


def _answers(url, timeout=2.0):
    return workers.connection_state(url, timeout=timeout) == \
        workers.CONNECTED


def cmd_list(db, args, out, here, now, probe=_answers):
    found = collect(db, now, here.interval)
    answers = {} if args.no_probe else _probe(
        (a.data_worker for a in found), probe)
    rows = []
    for a in found:
        row = a.as_dict()
        row['data_worker_answers'] = answers.get(a.data_worker)
        rows.append(row)
    if args.format == 'json':
        json.dump(rows, out, indent=2, sort_keys=True)
        out.write('\n')
        return EXIT_OK
    fmt = '%-36s  %-9s  %-6s  %-6s  %-7s  %s\n'
    out.write(fmt % ('IMAGE', 'STATUS', 'IMPORT', 'AGE', 'ANSWERS',
                     'WORKER'))
    for row in rows:
        state = row['data_worker_answers']
        out.write(fmt % (
            show(row['image'], 36), show(row['status'], 9), row['import'],
            '-' if row['age_seconds'] is None else '%ds' % row['age_seconds'],
            '-' if state is None else ('yes' if state else 'NO'),
            show(row['data_worker'] or '(not recorded)', 200)))
    return EXIT_OK


def cmd_recover(db, args, out, here, now):
    report = Reporter(out)
    ids = args.image or None
    found = collect(db, now, here.interval, image_ids=ids)
    if ids:
        missing = set(ids) - {a.image_id for a in found}
        for image_id in sorted(missing):
            report.say('Not found: image %s' % show(image_id))
    planned = []
    refused = False
    for a in found:
        if a.verdict == NONE:
            if ids:
                report.say('Nothing to recover: image %s (%s): %s' % (
                    a.image_id, a.status, a.reason))
            continue
        change, why = plan_recovery(a, here)
        if change is None:
            report.say('Not touched: image %s (%s): %s' % (
                a.image_id, a.status, why))
            refused = refused or bool(ids) or a.verdict == DEAD
            continue
        planned.append(change)
    ok = _run(db, planned, args.apply, 'recover', report)
    residue = _residue(db, here, args.apply, report) if not ids else True
    if not planned and not ids:
        report.say('No dead import to recover.')
    elif planned and not args.apply:
        report.say('Dry run: nothing changed. Add --apply to recover %d '
                   'image(s).' % len(planned))
    if ids and len(found) < len(ids):
        return EXIT_ERROR
    return EXIT_REFUSED if (refused or not ok or not residue) else EXIT_OK


def _run(db, changes, apply, verb, report):
    ok = True
    for change in changes:
        if not apply:
            report.changed('would %s' % verb, change)
            continue
        try:
            if change.delete or not any(k.startswith(RECORDS)
                                        for k in change.remove):
                db.apply(change)
            else:
                # The records it removes are anchored as removed by the
                # library, not by someone else.
                with records.anchoring(change.image_id,
                                       change.properties_after):
                    db.apply(change)
        except Changed as exc:
            ok = False
            report.say('Not touched: image %s: %s' % (change.image_id, exc))
            LOG.warning('Not changing image %s: %s', change.image_id, exc)
            continue
        for path in change.remove_files + change.store_files:
            _remove(path, change.image_id)
        report.changed({'recover': 'recovered', 'reset': 'reset',
                        'delete': 'deleted'}[verb], change)
    return ok


def _remove(path, image_id):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        LOG.warning('image %s: could not remove staged file %s: %s',
                    image_id, path, exc)


def _residue(db, here, apply, report):
    """Remove staged residue here of queued images no import holds."""
    if not here.staging_dir:
        return True
    try:
        names = here.listdir(here.staging_dir)
    except OSError:
        return True
    ids = sorted({n.split('.', 1)[0] for n in names})
    for image_id in ids:
        if not _uuid_like(image_id):
            continue
        image = db.image(image_id)
        if image is None:
            continue  # Glance's own cleaner removes a deleted image's
        paths = plan_residue(image, here)
        if not paths:
            continue
        line = '%s staged residue of queued image %s: %s' % (
            'removed' if apply else 'would remove', image_id,
            ', '.join(show(p, 200) for p in paths))
        if apply:
            for path in paths:
                _remove(path, image_id)
            LOG.info('%s', line)
        report.say(line)
    return True


_UUID = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?'
                   r'[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')


def _uuid_like(value):
    return bool(_UUID.match(value or ''))


def cmd_clean(db, args, out, here, now, down=workers.down):
    report = Reporter(out)
    worker = args.worker
    state = down(worker)
    if state is None:
        report.say('Refusing: worker %s answers. Its staged data may still '
                   'be imported; clean only a worker that is gone for good.'
                   % worker)
        LOG.warning('clean refused: worker %s answers', worker)
        return EXIT_REFUSED
    report.say('Worker %s does not accept connections (%s).' % (
        worker, state))
    mine = [a for a in collect(db, now, here.interval)
            if a.data_worker == worker]
    refused = False
    planned = []
    for a in mine:
        change, why = plan_clean(a, args.action)
        if change is None:
            refused = True
            report.say('Not touched: image %s (%s): %s' % (
                a.image_id, a.status, why))
            continue
        planned.append(change)
    ok = _run(db, planned, args.apply, args.action, report)
    if not mine:
        report.say('No stuck image has its data on %s.' % worker)
    elif planned and not args.apply:
        report.say('Dry run: nothing changed. Add --apply to %s %d image(s).'
                   % (args.action, len(planned)))
    return EXIT_REFUSED if (refused or not ok) else EXIT_OK


def cmd_verify(db, args, out, here, now):
    rows = []
    missing = []
    if args.images:
        for image_id in args.images:
            image = db.image(image_id)
            if image is None:
                missing.append(image_id)
                continue
            rows.append(image)
    else:
        rows = [i for i in db.images('active')
                if any(k.startswith(RECORDS) for k in i['properties'])]
        # An image whose records were all removed has none to find it by:
        # its anchor still names it.
        listed = {i['id'] for i in rows}
        for image_id in sorted(set(glance_internals.anchored_image_ids()) -
                               listed):
            image = db.image(image_id)
            if image is not None:
                rows.append(image)
    results = []
    for image in rows:
        verdict, detail = records.verify(image['id'], image['properties'])
        if verdict == records.NO_RECORDS and not args.images:
            continue
        results.append({'image': image['id'], 'status': image['status'],
                        'verdict': verdict, 'detail': detail})
    if args.format == 'json':
        json.dump({'images': results, 'not_found': missing}, out, indent=2,
                  sort_keys=True)
        out.write('\n')
    else:
        fmt = '%-36s  %-9s  %-8s  %s\n'
        out.write(fmt % ('IMAGE', 'STATUS', 'RECORDS', 'DETAIL'))
        for r in results:
            out.write(fmt % (show(r['image'], 36), show(r['status'], 9),
                             r['verdict'], show(r['detail'], 300)))
        for image_id in missing:
            out.write('Not found: image %s\n' % show(image_id))
    verdicts = {r['verdict'] for r in results}
    if records.NO_KEY in verdicts:
        raise CommandError(
            'sealed records cannot be checked: [%s] record_key is not set in '
            'the configuration read' % options.GROUP,
            'run where glance-image-import.conf has it, or pass its '
            'directory\'s glance-api.conf with --config-file')
    if missing:
        raise CommandError('%d image(s) not found: %s' % (
            len(missing), ', '.join(show(i) for i in missing)),
            'give ids of existing images')
    if verdicts & records.BAD:
        return EXIT_REFUSED
    return EXIT_OK


def cmd_versions(db, args, out, here, now):
    from glance_import_ext.plugins import image_versions
    conf = cfg.CONF[image_versions.NAME]
    report = Reporter(out)
    repo = glance_internals.image_repo(db.context)
    distrusted = []
    found = rotation.stranded(db.context, repo, now=now, refused=distrusted)
    if args.image:
        found = [i for i in found if i.image_id in set(args.image)]
        distrusted = [(i, w) for i, w in distrusted
                      if i.image_id in set(args.image)]
    for image, why in distrusted:
        report.say('Not touched: image %s: %s' % (image.image_id, why))
        LOG.warning('Not completing the rotation of image %s: %s',
                    image.image_id, why)
    if not found:
        report.say('No image version waits for its rotation.')
        return EXIT_REFUSED if distrusted else EXIT_OK
    verb = 'completed' if args.apply else 'would complete'
    for image in found:
        # The admin's rights are never lent: the rotation acts as the
        # caller of the image's import, as recorded in the anchor.
        caller = rotation.import_caller(image.image_id)
        if caller is None:
            distrusted.append((image, 'the caller of its import is not '
                                      'recorded'))
            report.say('Not touched: image %s: the caller of its import '
                       'is not recorded (imported before this release); '
                       'its owner can import it again' % image.image_id)
            continue
        try:
            rotations = rotation.rotate(
                caller, image.image_id, conf.keep_versions,
                conf.lock_timeout, now, apply=args.apply)
        except glance_internals.LockTimeout as exc:
            report.say('Not touched: image %s: %s (an import of its lineage '
                       'is rotating; run again)' % (image.image_id, exc))
            continue
        for rotated in rotations:
            report.say('%s the rotation of image %s (lineage %s)' % (
                verb, rotated.image.image_id,
                rotated.lineage.describe()))
            for other, why in rotated.refused:
                distrusted.append((other, why))
                report.say('  not changing image %s: the caller of the '
                           'import may not (%s)' % (other.image_id, why))
            for change in (rotated.done if args.apply
                           else rotated.changes):
                line = '  %s image %s: %s' % (
                    'changed' if args.apply else 'would change',
                    change.image_id, change.describe())
                report.say(line)
                LOG.info('%s', line.strip())
    if not args.apply:
        report.say('Dry run: nothing changed. Add --apply to complete %d '
                   'rotation(s).' % len(found))
    return EXIT_REFUSED if distrusted else EXIT_OK


COMMANDS = {'list': cmd_list, 'recover': cmd_recover, 'clean': cmd_clean,
            'verify-records': cmd_verify, 'versions': cmd_versions}


# -- command line ----------------------------------------------------------
def version():
    import pbr.version
    try:
        return pbr.version.VersionInfo('glance-import-ext').version_string()
    except Exception:  # not installed: running from a source tree
        return 'unknown'


class _Parser(argparse.ArgumentParser):

    def error(self, message):
        self.exit(EXIT_ERROR, '%s: error: %s. Hint: %s --help\n' % (
            self.prog, message, self.prog))


EPILOG = """\
exit codes:
  0  done, or nothing to do (dry runs included)
  1  refused: an image whose import is alive, or a worker that answers,
     would have been touched; something changed meanwhile; verify-records
     found forged, rolled-back, removed or unsealed records
  2  error: arguments, configuration, database

Liveness: an import running through a plugin of glance-import-ext is
updated every [glance_import_ext] heartbeat_interval seconds by its
glance-api process; it is dead once not updated for %(missed)d intervals
+ %(margin)d s (%(default)d s with the default interval of 60 s).
Other imports are dead only after Glance's lock expiry (60 minutes).
Which worker holds data comes from Glance's records only
(os_glance_stage_host, the import task), never from image properties the
owner can edit. Clocks of glance-api hosts and of this host must agree.
"""


def build_parser():
    parser = _Parser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Find imports that cannot finish (their glance-api '
                    'worker died, or the worker\nholding their staged data '
                    'is gone) and make the images usable again; check\nthe '
                    "records the library's plugins write. Works on Glance's "
                    "database\nwith glance-api's configuration.",
        epilog=EPILOG % {
            'missed': keepalive.MISSED_UPDATES,
            'margin': (keepalive.stale_after(60) -
                       keepalive.MISSED_UPDATES * 60),
            'default': keepalive.stale_after(60)})
    parser.add_argument('--version', action='version', version=version(),
                        help="print this library's version and exit")
    parser.add_argument(
        '--config-file', action='append', metavar='PATH',
        help='glance-api.conf to read (repeatable; default: '
             '$OS_GLANCE_CONFIG_DIR/glance-api.conf, else the places '
             'glance-api looks). glance-image-import.conf from the same '
             'directory is read too when it exists.')
    parser.add_argument('--config-dir', action='append', metavar='DIR',
                        help='a directory of *.conf files read after them')
    parser.add_argument('--log-file', metavar='PATH',
                        help='log every change here (default: the log '
                             'destination of the configuration; none: '
                             'stdout only)')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND',
                                parser_class=_Parser)
    sub.required = True

    lst = sub.add_parser(
        'list', help='show images held by an import, or staged and waiting',
        description='Show every image that is uploading, importing, or '
                    'queued but still locked by an import: whether its '
                    'import is alive or dead (IMPORT), seconds since its '
                    'task was updated (AGE), the worker holding its data '
                    '(WORKER, from Glance\'s records) and whether that '
                    'worker accepts connections (ANSWERS). Changes nothing.')
    lst.add_argument('--format', choices=('table', 'json'), default='table',
                     help='output format (default: table)')
    lst.add_argument('--no-probe', action='store_true',
                     help='do not connect to workers to see if they answer')

    rec = sub.add_parser(
        'recover', help='make images of dead imports retryable (dry run '
                        'unless --apply)',
        description='For every image whose import is dead (its task no '
                    'longer updated: its glance-api worker died): mark the '
                    'task failed with a message saying so, drop the import '
                    'lock and the dead import\'s bookkeeping and records, '
                    'and put the image back where a new import can start: '
                    'glance-direct: uploading with its staged data (queued '
                    'if this worker should hold the data and does not); '
                    'web-download, glance-download: queued, with the staged '
                    'residue in this worker\'s staging dir removed. Also '
                    'removes staged residue here of queued images no import '
                    'holds. Live imports are never touched.')
    rec.add_argument('--image', action='append', metavar='ID',
                     help='only this image (repeatable)')
    rec.add_argument('--apply', action='store_true',
                     help='change the images (default: dry run)')

    cln = sub.add_parser(
        'clean', help='reset or delete images whose data was on a worker '
                      'that is gone (dry run unless --apply)',
        description='For images whose staged data (per Glance\'s records) '
                    'was on WORKER, which is gone for good: reset them to '
                    'queued (their owner stages or uploads again) or delete '
                    'them. Refuses while WORKER accepts connections; never '
                    'touches an image whose import is alive.')
    cln.add_argument('--worker', required=True, metavar='URL',
                     help="the gone worker's worker_self_reference_url "
                          '(http or https, with a host)')
    cln.add_argument('--action', choices=('reset', 'delete'),
                     default='reset', help='default: reset')
    cln.add_argument('--apply', action='store_true',
                     help='change the images (default: dry run)')

    ver = sub.add_parser(
        'verify-records', help="tell whether the library's records on "
                               'images are as its plugins wrote them',
        description='For each image (default: every active image with '
                    'import_ext_* records, and every image the plugins '
                    'ever wrote records on), check its records against '
                    'their seal and their anchor (the library\'s table in '
                    'Glance\'s database, out of users\' reach): valid (as '
                    'the plugins last wrote them), forged (changed since, '
                    'or the seal removed), rolled-back (an earlier sealed '
                    'state put back), removed (every record removed), '
                    'unsealed (written without [glance_import_ext] '
                    'record_key), none, no-key (no key configured here to '
                    'check). Exit 1 if any is forged, rolled-back, removed '
                    'or unsealed.')
    ver.add_argument('images', nargs='*', metavar='IMAGE',
                     help='image ids (default: every image with records '
                          'or an anchor)')
    ver.add_argument('--format', choices=('table', 'json'), default='table',
                     help='output format (default: table)')
    vers = sub.add_parser(
        'versions', help='complete image-version rotations a dead worker '
                         'left undone',
        description='Find active images whose image_versions rotation is '
                    'pending although their import ended (the worker died '
                    'between activation and rotation) and show the changes '
                    'that complete it: other versions hidden and linked, '
                    'old ones deactivated per [image_versions] '
                    'keep_versions. With --apply, make them, with admin '
                    'rights, under the lineage lock imports use.')
    vers.add_argument('image', nargs='*',
                      help='only these image ids (default: all)')
    vers.add_argument('--apply', action='store_true',
                      help='make the changes (default: dry run)')
    return parser


def check_args(parser, args):
    if args.command == 'clean':
        try:
            args.worker = parse_worker(args.worker)
        except ValueError as exc:
            raise CommandError(
                '--worker %s is not a worker URL: %s' % (
                    show(args.worker or "''", 200), exc),
                'give the gone worker\'s worker_self_reference_url, e.g. '
                'http://glance-1.example.com:9292')
    for image_id in (getattr(args, 'image', None) or []) + (
            getattr(args, 'images', None) or []):
        if not _uuid_like(image_id):
            raise CommandError('%s is not an image id' % show(image_id),
                               'image ids are UUIDs')


def config_files(args, environ=os.environ):
    """[glance-image-import.conf if there] + the glance-api.conf files."""
    api_files = list(args.config_file or [])
    if not api_files:
        conf_dir = environ.get('OS_GLANCE_CONFIG_DIR', '').strip()
        if conf_dir:
            candidate = os.path.join(conf_dir, 'glance-api.conf')
            api_files = [candidate] if os.path.isfile(candidate) else []
        else:
            api_files = cfg.find_config_files(project='glance',
                                              prog='glance-api')
        if not api_files:
            raise CommandError(
                'no glance-api.conf found (%s)' % (
                    'in $OS_GLANCE_CONFIG_DIR' if conf_dir else
                    'in ~/.glance, ~/, /etc/glance, /etc'),
                'run where glance-api is configured, or pass '
                '--config-file /etc/glance/glance-api.conf')
    for path in api_files:
        if not os.path.isfile(path):
            raise CommandError('config file %s not found' % show(path, 300),
                               'pass the glance-api.conf of the glance-api '
                               'whose database to use')
        if not os.access(path, os.R_OK):
            raise CommandError('config file %s is not readable' % show(
                path, 300), 'run as a user who can read it (e.g. glance)')
    extra = os.path.join(os.path.dirname(os.path.abspath(api_files[0])),
                         'glance-image-import.conf')
    if os.path.isfile(extra) and extra not in map(os.path.abspath,
                                                  api_files):
        return [extra] + api_files
    return api_files


def load_config(args, conf=cfg.CONF):
    files = config_files(args)
    register_glance_options(conf)
    try:
        conf(args=[], project='glance', prog='glance-api',
             default_config_files=files,
             default_config_dirs=args.config_dir, version=version())
    except cfg.Error as exc:
        raise CommandError('cannot read the configuration: %s' % _reason(
            exc), 'fix the file named, or pass another with --config-file')
    try:
        # As glance-api does: the staging store's options exist only with
        # multiple backends enabled.
        glance_internals.register_staging_store_options(conf)
    except (cfg.Error, ValueError) as exc:
        raise CommandError('invalid store configuration: %s' % _reason(exc),
                           'fix [DEFAULT] enabled_backends')
    _db_overrides(conf)
    return files


def register_glance_options(conf):
    """Glance's options, its database's and logging's (also the status)."""
    glance_internals.register_glance_options(conf)
    glance_internals.register_database_options(conf)
    logging.register_options(conf)


def _db_overrides(conf):
    conf.set_override('max_retries', DB_MAX_RETRIES, group='database')
    conf.set_override('retry_interval', DB_RETRY_INTERVAL, group='database')
    try:
        connection = conf.database.connection
        params = conf.database.connection_parameters
    except (cfg.Error, ValueError) as exc:
        raise CommandError('invalid [database] option: %s' % _reason(exc),
                           'fix it in glance-api.conf')
    if not connection:
        raise CommandError("[database] connection is not set in the "
                           'configuration read (%s)' % ', '.join(
                               show(f, 200) for f in conf.config_file),
                           'pass the glance-api.conf that has it with '
                           '--config-file')
    scheme = connection.split(':', 1)[0]
    if (not params and (scheme.startswith('mysql') or
                        scheme.startswith('postgresql'))):
        conf.set_override('connection_parameters',
                          'connect_timeout=%d' % DB_CONNECT_TIMEOUT,
                          group='database')


def here_of(conf=cfg.CONF):
    """This configuration's worker: URL, staging dir, heartbeat interval."""
    try:
        interval = conf[options.GROUP].heartbeat_interval
        conf[options.GROUP].record_key
        worker = workers.this_worker()
        staging = glance_internals.staging_dir(conf)
    except (cfg.Error, ValueError) as exc:
        raise CommandError('invalid option: %s' % _reason(exc),
                           'fix it in glance-api.conf or '
                           'glance-image-import.conf')
    return Here(worker, staging or None, interval)


def setup_logging(args, conf=cfg.CONF):
    if args.log_file:
        conf.set_override('log_file', args.log_file)
    try:
        destination = (conf.log_file or conf.use_journal or conf.use_syslog
                       or conf.use_stderr)
    except cfg.Error:
        destination = None
    if not destination:
        # oslo.log would log to stdout, into the command's own output.
        return
    try:
        logging.setup(conf, 'glance-import-ext')
    except (OSError, cfg.Error, ValueError) as exc:
        raise CommandError('cannot log: %s' % _reason(exc),
                           'pass a writable --log-file')


def _database_error(exc, files):
    """A CommandError for an exception from the database, or None."""
    failure = glance_internals.database_failure(exc)
    where = ', '.join(show(f, 200) for f in files)
    if failure == 'connect':
        return CommandError("cannot connect to Glance's database: %s" %
                            _reason(exc),
                            'check [database] connection in %s and that the '
                            'database server is up and reachable from here'
                            % where)
    if failure == 'engine':
        return CommandError("cannot use Glance's database: %s" % _reason(exc),
                            'check [database] connection in %s' % where)
    if failure == 'url':
        return CommandError('invalid [database] connection: %s' %
                            _reason(exc), 'fix it in %s' % where)
    if failure == 'database':
        return CommandError("Glance's database failed: %s" % _reason(exc),
                            'is it the glance-api database, at the schema '
                            'of glance-manage db_sync? (%s)' % where)
    return None


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    # Nothing but the command's own lines: no library's deprecation
    # warnings, no log records before (or without) a log destination.
    warnings.simplefilter('ignore')
    std_logging.getLogger().addHandler(std_logging.NullHandler())
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    files = []
    try:
        check_args(parser, args)
        files = load_config(args)
        setup_logging(args)
        here = here_of()
        db = GlanceDb()
        LOG.info('%s %s: %s', PROG, version(), ' '.join(
            show(a, 200) for a in (sys.argv[1:] if argv is None else argv)))
        return COMMANDS[args.command](db, args, out, here,
                                      keepalive.utcnow())
    except CommandError as exc:
        err.write('%s: error: %s\n' % (PROG, exc))
        return EXIT_ERROR
    except Exception as exc:
        error = _database_error(exc, files)
        if error is None:
            LOG.exception('%s failed', PROG)
            error = CommandError('unexpected %s: %s' % (
                type(exc).__name__, _reason(exc)),
                'details in the log (--log-file)')
        err.write('%s: error: %s\n' % (PROG, error))
        return EXIT_ERROR


if __name__ == '__main__':
    sys.exit(main())
