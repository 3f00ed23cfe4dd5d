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

"""What to change to make an image of a dead import usable again.

Nothing here changes an image whose import is alive, and every change is
conditional on what was read (image status, lock, properties, the task's
status and last update): an import that comes back to life or anything
that changed meanwhile makes the change a no-op (GlanceDb.apply).
"""

import os
import time

from glance_import_ext.cmd.manage import assess
from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import values
from glance_import_ext.common import keepalive
from glance_import_ext import glance_internals

MAX_TASK_MESSAGE = 900


class Change:
    """A conditional change of one image (and its import task).

    :param assessment: the Assessment of the image, as read.
    :param to_status: the image's status after the change.
    :param delete: delete the image instead.
    """

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
        """Remove property ``name``, expecting the value read.

        :param name: the property's name.
        """
        value = self.assessment.properties.get(name)
        self.expect[name] = value
        if value is not None and name not in self.remove:
            self.remove.append(name)

    def put(self, name, value):
        """Set property ``name`` to ``value``, expecting the value read.

        :param name: the property's name.
        :param value: its value after the change.
        """
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
                name, values.show(props.get(name), 80) if name in props
                else '(absent)', values.show(value, 80)))
        if not self.delete:
            for name in self.remove:
                parts.append('%s: %s -> (removed)' % (
                    name, values.show(props.get(name), 80)))
            if self.clear_size and self.assessment.image.get('size'):
                parts.append('size: %s -> (none)' %
                             self.assessment.image.get('size'))
        if self.fail_task:
            parts.append('task %s: %s -> failure' % self.fail_task[:2])
        for path in self.remove_files:
            parts.append('staged file %s removed' % values.show(path, 200))
        if self.import_rows:
            parts.append('%d pending:// location row(s) of the parallel '
                         'import deleted' % len(self.import_rows))
        for path in self.store_files:
            parts.append('partial store object %s removed' %
                         values.show(path, 200))
        return '; '.join(parts) or 'nothing'

    def as_dict(self):
        """The change as a JSON object (``-f json`` of recover, clean)."""
        return {
            'image': self.image_id,
            'from_status': self.from_status,
            'to_status': self.to_status,
            'set': dict(self.set),
            'remove': list(self.remove),
            'clear_size': self.clear_size,
            'fail_task': self.fail_task[0] if self.fail_task else None,
            'remove_files': list(self.remove_files),
            'import_rows': len(self.import_rows),
            'store_files': list(self.store_files),
            'notes': list(self.notes),
            'description': self.describe(),
        }


def base_change(a, to_status, delete=False):
    """The Change every plan starts from: lock, bookkeeping, records go.

    :param a: the Assessment of the image.
    :param to_status: the image's status after the change.
    :param delete: delete the image instead.
    """
    change = Change(a, to_status, delete)
    change.drop(assess.LOCK)
    change.drop(assess.IMPORTING_TO)
    # The library's records are from the dead import (or the owner's).
    for name in sorted(a.properties):
        if name.startswith(assess.RECORDS):
            change.drop(name)
    change.import_rows, change.store_files, unseen = (
        glance_internals.parallel_import_leftovers(a.image))
    change.notes.extend('partial data of the import may remain in store %s '
                        '(not a file store here): remove it before a retry '
                        'to that store' % values.show(s) for s in unseen)
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
                why, a.age, errors.PROG, a.image_id, after, then))
    return text[:MAX_TASK_MESSAGE]


def staged_files(staging_dir, image_id, listdir=os.listdir):
    """Paths of ``image_id``'s staged data and residue in ``staging_dir``.

    As Glance's staging cleaner: ``<id>`` and ``<id>.<anything>``.

    :param staging_dir: the staging directory of this worker.
    :param image_id: the image's id.
    :param listdir: os.listdir (tests replace it).
    """
    try:
        names = listdir(staging_dir)
    except OSError:
        return []
    return [os.path.join(staging_dir, name) for name in sorted(names)
            if name == image_id or name.startswith(image_id + '.')]


class Here:
    """What this configuration says about the worker it belongs to.

    :param worker: this worker's worker_self_reference_url, or None.
    :param staging_dir: its staging directory, or None.
    :param interval: its heartbeat_interval.
    :param isfile: os.path.isfile (tests replace it, as the next ones).
    :param listdir: os.listdir.
    :param getmtime: os.path.getmtime.
    :param clock: time.time.
    """

    def __init__(self, worker=None, staging_dir=None, interval=None,
                 isfile=os.path.isfile, listdir=os.listdir,
                 getmtime=os.path.getmtime, clock=time.time):
        self.worker = values.worker_of(worker)
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

        :param data_worker: the worker holding the data, or None.
        """
        if not self.staging_dir:
            return False
        return data_worker is None or data_worker == self.worker

    def staged(self, image_id):
        """True if ``image_id``'s staged file is here.

        :param image_id: the image's id.
        """
        return self.isfile(os.path.join(self.staging_dir, image_id))

    def residue(self, image_id):
        """Paths of ``image_id``'s staged data and residue here.

        :param image_id: the image's id.
        """
        return staged_files(self.staging_dir, image_id, self.listdir)

    def untouched_for(self, path):
        """Seconds since ``path`` was written; 0 if it is gone.

        :param path: a file in the staging directory.
        """
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

    :param a: the Assessment of the image.
    :param here: the Here of this configuration.
    :returns: (Change, None), or (None, why it is not changed).
    """
    if a.verdict != assess.DEAD:
        return None, 'import %s: %s' % (a.verdict, a.reason)
    why_not = _not_recoverable(a, 'only %s images are recovered (copy-image '
                                  'locks are Glance\'s to expire)' %
                               '/'.join(assess.RECOVERABLE),
                               'data already reached a store (the image '
                               'has a location): not changed, check the '
                               'image and its stores by hand')
    if why_not:
        return None, why_not
    if a.status != 'importing':
        # Locked while uploading/queued: the import died before it set
        # 'importing'; only the lock and the bookkeeping go.
        change = base_change(a, a.status)
        why = 'its glance-api worker stopped as the import started'
    else:
        if a.method == 'glance-direct' or (a.method is None and
                                           a.stage_host is not None):
            change = _plan_staged(a, here)
        else:
            change = _plan_downloaded(a, here)
        why = 'the glance-api worker running it (%s) stopped' % (
            a.worker or 'unrecorded')
    change.task_message = _task_message(a, change, why)
    return change, None


def _not_recoverable(a, status_rule, stored):
    """Why the image of a dead import is left alone, or None.

    :param status_rule: what to say of an image in another status.
    :param stored: what to say of an importing image that has a location.
    """
    if a.status not in assess.RECOVERABLE:
        return '%s image: %s' % (a.status, status_rule)
    if a.status == 'importing' and a.image.get('locations'):
        return stored
    return None


def _plan_staged(a, here):
    """glance-direct: back to uploading with its data, else to queued."""
    on = a.data_worker
    if here.sees(on):
        to = 'uploading' if here.staged(a.image_id) else 'queued'
        where = 'here' if to == 'uploading' else 'not here'
        note = 'staged data %s (%s)' % (where, values.show(os.path.join(
            here.staging_dir, a.image_id), 200))
    else:
        to = 'uploading'
        note = ('staged data on %s, which this configuration cannot see: '
                'kept as uploading; a retry whose data is gone fails and '
                'the image goes back to queued' % values.show(
                    on or 'an unrecorded worker'))
    change = base_change(a, to)
    change.notes.append(note)
    if to == 'uploading' and a.stage_host:
        change.put(assess.STAGE_HOST, a.stage_host)
    elif to == 'queued':
        change.drop(assess.STAGE_HOST)
        change.clear_size = True
        change.remove_files = here.residue(a.image_id)
    return change


def _plan_downloaded(a, here):
    """web-download, glance-download: queued, the residue here removed."""
    change = base_change(a, 'queued')
    change.drop(assess.STAGE_HOST)
    change.clear_size = True
    if here.sees(a.worker):
        change.remove_files = here.residue(a.image_id)
    else:
        change.notes.append(
            'staged residue of the dead import may remain on %s: a '
            'retry there fails until it is gone; run "%s imports recover" '
            'with that worker\'s configuration to remove it' % (
                values.show(a.worker or 'an unrecorded worker'),
                errors.PROG))
    return change


def plan_clean(a, action):
    """The Change that resets or deletes an image of a gone worker.

    :param a: the Assessment of the image.
    :param action: ``reset`` (to queued) or ``delete``.
    :returns: (Change, None), or (None, why it is not changed).
    """
    if a.verdict == assess.ALIVE:
        return None, 'import alive: %s' % a.reason
    why_not = _not_recoverable(a, 'not cleaned', 'data already reached a '
                               'store: not changed, check the image by hand')
    if why_not:
        return None, why_not
    change = base_change(a, 'queued', delete=(action == 'delete'))
    change.drop(assess.STAGE_HOST)
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

    :param image: the image (get_image's shape).
    :param here: the Here of this configuration.
    """
    if (image['status'] != 'queued' or assess.LOCK in image['properties'] or
            not here.staging_dir):
        return []
    quiet = keepalive.stale_after(here.interval)
    return [path for path in here.residue(image['id'])
            if here.untouched_for(path) > quiet]
