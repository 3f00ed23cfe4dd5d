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

"""The first task of every plugin's flow: owns the records, undoes failures.

When the import starts, the guard that runs first removes everything under
the library's namespace (``import_ext_*``: a user's preset, records of an
earlier import), so that after the import only what this import's plugins
wrote is there (records). A revert puts it back, like every other change.

On failure it leaves the import where a new one can succeed, which Glance
33 does not always do itself when a plugin fails:
- glance-direct: only Glance's last task would set the image back from
  ``importing``; after a plugin or store failure it stays ``importing``
  and no new import can start. Nor does it care whether the staged data
  it keeps for a retry is still what the user staged (Glance's
  ``image_decompression`` replaces it);
- glance-download: the download task's revert sets ``queued``, then
  ``_ImportMetadata.revert`` sets ``queued`` again, which Glance's state
  machine refuses. The revert stops there: the import lock is never
  released (new imports get 409 for 60 minutes), the properties Glance's
  metadata step copied stay, and the task says only "Internal Error".

Only the guard that ran first acts. Reverts run backwards, so it acts
last, after every plugin task has undone its own changes. A guard never
raises: in its constructor (a failure there would drop the whole plugin)
nor in its revert (taskflow would stop reverting).
"""

import functools

from oslo_log import log as logging

from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.common import keepalive
from glance_import_ext.common import records
from glance_import_ext.common import stage_record
from glance_import_ext.common import staging
from glance_import_ext.common import task as image_task
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)
LOCK = glance_internals.IMPORT_LOCK
STAGE_HOST = glance_internals.STAGE_HOST


class ImportGuard(image_task.ImageTask):
    """Clears the namespace on start; on failure the first one acts.

    :param plugin: the PluginContext of the plugin whose flow it starts.
    """

    def __init__(self, plugin):
        super().__init__(plugin)
        # stevedore builds the plugins' flows in entry-point order, not the
        # configured order: which guard runs first is only known at run time.
        self.shared = plugin.shared
        if not self.shared.read:
            try:
                self.read_image(plugin.image_at_build())
                self.shared.read = True
            except Exception as exc:
                # Act with less knowledge rather than drop the plugin.
                LOG.warning('Import %s of image %s: could not read the image '
                            'while building the flow (%s); a failure will '
                            'still be reverted', plugin.task_id,
                            plugin.image_id, type(exc).__name__)

    def read_image(self, image):
        """Note what is only known while the flow is built.

        :param image: the image as stored while the flow is built.
        """
        properties = glance_internals.properties_of(image)
        # Glance removes it right after the flow is built.
        self.shared.stage_host = properties.get(STAGE_HOST) or None
        # Taken before Glance's glance-download metadata step runs.
        self.shared.before = (properties, image.disk_format,
                              image.container_format)
        dry_run.read_request(self.shared, properties)

    @property
    def first(self):
        """True for the guard that acts for the whole import."""
        return bool(self.shared.ran) and self.shared.ran[0] is self

    def run(self, **inputs):
        """Note this guard; the first clears records written before."""
        self.shared.ran.append(self)
        if self.first:
            image = self.plugin.library_repo.get(self.plugin.image_id)
            present = sorted(k for k in glance_internals.properties_of(
                image) if records.is_record(k))
            if present:
                LOG.info('Import %s of image %s: removing %s, written before '
                         'this import; only its plugins write records',
                         self.plugin.task_id, self.plugin.image_id,
                         ', '.join(present))
                self.update_records(remove=present)
            # From now on the records are this import's plugins' alone.
            self.shared.records = {}

    def revert(self, *args, **kwargs):
        """Undo this guard's changes; the first leaves the image retryable."""
        super().revert(*args, **kwargs)
        if not self.first:
            return
        try:
            dry_run.finish(self.plugin, self.shared)
            self.on_failure(**kwargs)
        except Exception:
            LOG.exception('Could not leave image %s retryable after its '
                          'import %s failed; glance-import-ext-manage imports '
                          'recover can recover it', self.plugin.image_id,
                          self.plugin.task_id)

    def on_failure(self, **kwargs):
        """What the import method needs after a failure (default: none).

        :param kwargs: what taskflow passes a revert (``flow_failures``,
            the task's inputs).
        """


class RestoreStagedStatus(ImportGuard):
    """glance-direct: back to ``uploading`` only with the data as staged.

    Glance's state machine allows importing -> queued -> uploading; the
    second step only while the staged data is still there (Glance keeps it
    after a failed import), so the import can simply be retried. With it
    comes back Glance's own ``os_glance_stage_host``, which Glance removed
    as the import started: a retry through any replica is then proxied to
    the worker holding the data again.

    A retry must check the bytes the user staged, though. Glance's
    ``image_decompression`` replaces the staged file with the decompressed
    data (and on Glance 33 writes its size on the image): the file is
    compared with the one recorded while the flow was built (before any
    plugin ran), and if it is another one it is removed and the image is
    ``queued`` again, to be staged anew (the task message says so).

    Glance's ``image_conversion`` reverts the image to ``queued`` itself
    and removes the staged file; when it ran before this guard, its revert
    comes after, and needs the image not yet ``queued``: the guard then
    leaves the status to it and only says what happens.
    """

    inputs = ('file_path',)

    def __init__(self, plugin):
        super().__init__(plugin)
        if self.shared.staged is None:
            # The first glance-direct guard built: no plugin ran yet.
            self.shared.staged = _snapshot(plugin)

    def on_failure(self, file_path=None, flow_failures=None, **kwargs):
        """Put a failed glance-direct import's image back to ``uploading``.

        :param file_path: the staged data's path.
        :param flow_failures: what failed, for the task message.
        """
        snapshot = self.shared.staged
        exception = glance_internals.exceptions
        queued_by = _queued_by_glance_revert(self.plugin.name)
        try:
            with self.plugin.library_wrapper as action:
                if (action.image_status != 'importing' or
                        action.image_locations):
                    return  # already restored, or data reached a store
                data = _staged_state(snapshot, file_path)
                removed = None
                if data == staging.Snapshot.REPLACED:
                    removed = snapshot.remove()
                    stage_record.remove(snapshot.path)
                    if not removed:
                        LOG.error('Image %s: could not remove %s, staged '
                                  'data changed during the failed import '
                                  '%s; remove it by hand',
                                  self.plugin.image_id, snapshot.path,
                                  self.plugin.task_id)
                if queued_by:
                    status = None  # Glance's revert sets queued after us
                else:
                    action.set_image_attribute(status='queued')
                    status = 'queued'
                    if data == staging.Snapshot.INTACT:
                        action.set_image_attribute(status='uploading')
                        status = 'uploading'
                        if self.shared.stage_host:
                            _restore_glance_property(
                                action, STAGE_HOST, self.shared.stage_host)
                    action.remove_importing_stores(self.plugin.backends)
        except (exception.TaskAbortedError, exception.NotFound):
            return  # another import owns the image now, or it is gone
        note = _staged_note(data, removed, queued_by)
        if note:
            LOG.warning('Image %s, import %s: %s', self.plugin.image_id,
                        self.plugin.task_id, note)
            image_task.add_note(flow_failures, note)
        LOG.info('Image %s back in status %s after its import failed',
                 self.plugin.image_id, status or
                 'importing, to be set queued by ' + queued_by[0])


class FinishFailedDownload(ImportGuard):
    """glance-download: finish the revert Glance 33 cannot finish.

    Once Glance has marked the task failed, and only if the image is
    ``queued`` and still locked by this task: put back what Glance's
    metadata step copied, release the lock as Glance's ``_ImageLock``
    revert would, and give the task the real reason. If a Glance release
    reverts cleanly, the lock is already gone and this does nothing.

    The revert runs while the task is still ``processing``: the rest
    waits for its end through the keepalive (``wait_for_end``), for
    ``WAIT_SECONDS`` at most.
    """

    WAIT_SECONDS = 120
    # Seconds between looks at the task: the image is unlocked soon after.
    POLL_SECONDS = 0.5

    def on_failure(self, flow_failures=None, **kwargs):
        """Finish the revert once Glance has marked the task failed.

        :param flow_failures: taskflow's failures of the import.
        """
        reason = failure_reason(flow_failures)
        keepalive.KEEPALIVE.wait_for_end(
            self.plugin.context, self.plugin.task_id,
            functools.partial(self._finish, reason),
            timeout=self.WAIT_SECONDS, poll=self.POLL_SECONDS)

    def _finish(self, reason, status):
        if status != 'failure':
            return  # succeeded after all, or gone: nothing to finish
        try:
            self._release(reason)
        except Exception:
            LOG.exception('Could not finish the revert of failed import %s '
                          'of image %s', self.plugin.task_id,
                          self.plugin.image_id)

    def _release(self, reason):
        image = self.plugin.image()
        if (glance_internals.properties_of(image).get(LOCK) !=
                self.plugin.task_id or image.status != 'queued'):
            return  # Glance finished its own revert, or the image moved on
        wrapper = self.plugin.library_wrapper
        if self.shared.before is not None:
            properties, disk_format, container_format = self.shared.before
            copied_by_glance = (
                glance_internals.glance_download_copied_prefixes())
            with wrapper as action:
                for key, value in action.image_extra_properties.items():
                    if (key.startswith(copied_by_glance) and
                            properties.get(key) != value):
                        if key in properties:
                            action.set_image_extra_properties(
                                {key: properties[key]})
                        else:
                            action.pop_extra_property(key)
                action.set_image_attribute(disk_format=disk_format,
                                           container_format=container_format)
        wrapper.drop_lock_for_task()
        task = self.plugin.task_repo.get(self.plugin.task_id)
        task.message = errors.bounded(
            '%s (image %s is queued again and unlocked: a new import can '
            'start)' % (reason, self.plugin.image_id))
        self.plugin.task_repo.save(task)
        LOG.info('Finished the revert of failed glance-download %s: image %s '
                 'unlocked', self.plugin.task_id, self.plugin.image_id)


GUARDS = {'glance-direct': RestoreStagedStatus,
          'glance-download': FinishFailedDownload}


def guard_for(plugin):
    """The guard that starts ``plugin``'s flow for its import method.

    :param plugin: a PluginContext.
    """
    return GUARDS.get(plugin.import_method, ImportGuard)(plugin)


def _restore_glance_property(action, key, value):
    # set_image_extra_properties() drops os_glance_ keys, rightly for
    # plugins' own data; this puts back the value Glance itself set and
    # removed when this import started, so it goes on the image directly.
    glance_internals.wrapped_image(action).extra_properties[key] = value


def failure_reason(flow_failures):
    """The message of the failure that stopped the import.

    :param flow_failures: taskflow's failures, by task name.
    """
    failures = list((flow_failures or {}).values())
    for failure in failures:
        if isinstance(getattr(failure, 'exception', None),
                      errors.ImportFailed):
            return str(failure.exception)
    if failures:
        return errors.bounded(failures[0].exception_str)
    return 'the import failed'


def _snapshot(plugin):
    """The staged file of ``plugin``'s import, as it is now; never raises."""
    try:
        return staging.Snapshot(staging.staged_path(plugin.image_id))
    except Exception as exc:
        LOG.warning('Import %s of image %s: could not record the staged '
                    'file while building the flow (%s: %s); a failure will '
                    'rely on the staged file being there', plugin.task_id,
                    plugin.image_id, type(exc).__name__,
                    errors.bounded(exc, 200))
        return staging.Snapshot(None)


def _staged_state(snapshot, file_path):
    """Snapshot.INTACT, GONE or REPLACED: the staged data now."""
    if snapshot is not None and snapshot.known:
        return snapshot.state()
    # Not recorded (no local staging directory known): as before, the
    # file Glance's flow handed on is trusted if it is there.
    return (staging.Snapshot.INTACT if _still_staged(file_path)
            else staging.Snapshot.GONE)


def _still_staged(file_path):
    try:
        return staging.StagedData(file_path).exists()
    except ValueError:
        return False


def _queued_by_glance_revert(name):
    """Glance's plugins listed before ``name`` that revert to queued."""
    listed = glance_internals.image_import_plugins()
    before = listed[:listed.index(name)] if name in listed else []
    return [n for n in before
            if n in glance_internals.QUEUED_BY_REVERT_PLUGINS]


def _changed_by():
    """Which listed plugins change the staged data, for a message."""
    changers = [n for n in glance_internals.image_import_plugins()
                if n in glance_internals.DATA_CHANGING_PLUGINS]
    return ' or '.join(changers) or 'a plugin'


def _staged_note(data, removed, queued_by):
    """What the task message says of the staged data, or None."""
    if queued_by:
        return ('%s, which ran before, removes the staged data as the '
                'import is reverted and sets the image queued again: stage '
                'the data again, then import' % queued_by[0])
    if data != staging.Snapshot.REPLACED:
        return None
    changed = ('the staged data had been changed by %s before the failure'
               % _changed_by())
    if removed:
        return ('%s, so it was removed and the image is queued again: stage '
                'the data again, then import' % changed)
    return ('%s, and could not be removed (see the glance-api log); the '
            'image is queued again, but staging the data again fails until '
            'an admin removes the staged file of the image' % changed)
