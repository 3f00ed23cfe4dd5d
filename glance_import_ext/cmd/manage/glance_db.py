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

"""The admin command's adapter over the seam's database verbs."""

from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import values
from glance_import_ext import glance_internals


class GlanceDb:
    """The command's reads and conditional changes of Glance's database.

    As an admin, through the seam's verbs (glance_internals.db); a
    ``Change`` becomes one recover_image.
    """

    def __init__(self):
        self.context = glance_internals.admin_context()

    # reads
    def images(self, status):
        """Every image whose status is ``status`` (get_image's shape).

        :param status: an image status, e.g. ``importing``.
        """
        return glance_internals.images_with_status(self.context, status)

    def image(self, image_id):
        """``image_id`` (get_image's shape), or None.

        :param image_id: the image's id.
        """
        return glance_internals.image_or_none(self.context, image_id)

    def locked_image_ids(self, statuses):
        """Ids of the images in one of ``statuses`` an import locks.

        :param statuses: image statuses.
        """
        return glance_internals.locked_image_ids(statuses)

    def task(self, task_id):
        """Task ``task_id`` (a dict), or None.

        :param task_id: the task's id.
        """
        return glance_internals.task_or_none(self.context, task_id)

    def latest_import_task(self, image_id):
        """The image's newest import task, or None.

        :param image_id: the image's id.
        """
        return glance_internals.latest_import_task(self.context, image_id)

    # writes
    def apply(self, change):
        """Make ``change`` in one transaction, or raise Changed.

        :param change: a recovery.Change.
        """
        try:
            glance_internals.recover_image(
                change.image_id, change.from_status,
                to_status=change.to_status, delete=change.delete,
                clear_size=change.clear_size, expect=change.expect,
                remove=change.remove, set_to=change.set,
                fail_task=change.fail_task, task_message=change.task_message,
                drop_locations=change.import_rows)
        except glance_internals.RecoveryConflict as exc:
            raise errors.Changed(_conflict(exc)) from None


def _conflict(exc):
    """What a RecoveryConflict says, in the command's words."""
    if exc.what == 'status':
        return 'the image is no longer %s' % exc.expected
    if exc.what == 'task':
        return ('task %s was updated meanwhile: its import may be alive' %
                exc.name)
    return '%s changed from %s to %s' % (exc.name, values.show(
        exc.expected, 80), values.show(exc.found, 80))


def database_error(exc, files):
    """A CommandError for an exception from the database, or None.

    :param exc: the exception the command stopped with.
    :param files: the configuration files read (named in the hint).
    """
    failure = glance_internals.database_failure(exc)
    where = ', '.join(values.show(f, 200) for f in files)
    reason = errors.reason(exc)
    if failure == 'connect':
        return errors.CommandError(
            "cannot connect to Glance's database: %s" % reason,
            'check [database] connection in %s and that the database server '
            'is up and reachable from here' % where)
    if failure == 'engine':
        return errors.CommandError(
            "cannot use Glance's database: %s" % reason,
            'check [database] connection in %s' % where)
    if failure == 'url':
        return errors.CommandError(
            'invalid [database] connection: %s' % reason,
            'fix it in %s' % where)
    if failure == 'database':
        return errors.CommandError(
            "Glance's database failed: %s" % reason,
            'is it the glance-api database, at the schema of glance-manage '
            'db_sync? (%s)' % where)
    return None
