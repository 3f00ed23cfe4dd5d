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

"""The base of every task a plugin adds to Glance's import flow.

Glance runs the plugins inside a flow with ``retry.AlwaysRevert``: when any
task fails, every task that ran is reverted. ``ImageTask`` makes that safe:

- every image change goes through an ``ImportActionWrapper`` (which checks
  Glance's import lock on entry and again before saving) and is journalled
  with the value it replaced; ``revert()`` puts back exactly those values,
  nothing else;
- changes for the caller (copied metadata, tags, formats) go through
  Glance's own wrapper, with the caller's rights and Glance's property
  protections; the library's records (``import_ext_*``) go through the
  library's own door (``PluginContext.library_wrapper``) and are sealed
  (records);
- ``revert()`` never raises and undoes key by key: taskflow stops reverting
  at the first revert that raises, and the failure guards, which run last,
  would never act. What cannot be restored is logged and added to the
  task message.

``ImageTask`` holds only the task's life: running, changing the image,
undoing, failing. What checks need besides (modes, the shared hashing
pass) is ``checks.VerifyingTask``'s.
"""

from oslo_log import log as logging
from taskflow import task

from glance_import_ext.common import errors
from glance_import_ext.common import records
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)

RESERVED_PREFIX = glance_internals.RESERVED_PREFIX
ATTRIBUTES = ('disk_format', 'container_format')
_ABSENT = object()
# A record staged for removal (ImageTask.update_records).
REMOVED = object()
# Which wrapper a journal entry was changed through.
CALLER, LIBRARY = 'caller', 'library'


class ImageTask(task.Task):
    """Subclasses implement ``run(**inputs)`` and list ``inputs`` by name.

    :param plugin: the PluginContext of the plugin the task belongs to.
    """

    inputs = ()
    # Whether to check the import lock before running (pre_execute).
    checks_lock_first = False

    def __init__(self, plugin):
        self.plugin = plugin
        # (door, kind, name) -> value before this task first changed it
        self._journal = {}
        super().__init__(
            name='%s-%s-%s-%s' % (plugin.task_type, plugin.name,
                                  type(self).__name__, plugin.task_id),
            requires=self.inputs)

    # -- running -------------------------------------------------------
    def pre_execute(self):
        """Refuse to start once another import took the image's lock.

        Only tasks that would spend long on the image (``checks_lock_first``):
        every change checks the lock anyway, on entering Glance's wrapper
        and again before saving, and the read it costs is one of the
        largest shares of the library's load on the database.
        """
        if self.checks_lock_first:
            self.plugin.action_wrapper.assert_task_lock()

    def execute(self, **inputs):
        """Run the task; an unexpected error fails the import, logged."""
        try:
            return self.run(**inputs)
        except errors.ImportFailed:
            raise
        except Exception as exc:
            if isinstance(exc, glance_internals.exceptions.TaskAbortedError):
                raise  # lost the lock: Glance handles this itself
            LOG.exception('%s failed on image %s', self.name,
                          self.plugin.image_id)
            raise self.failure('unexpected error %s: %s (details in the '
                               'glance-api log)' % (
                                   type(exc).__name__,
                                   errors.bounded(exc, 300)))

    def run(self, **inputs):
        """The task's work; each task class says what it does."""
        raise NotImplementedError

    def failure(self, message):
        """An ImportFailed for this plugin, to raise.

        :param message: the task message, after the plugin's name.
        """
        return errors.ImportFailed(self.plugin.name, message)

    # -- changing the image --------------------------------------------
    def update_image(self, properties=None, remove=(), add_tags=(),
                     **attributes):
        """Set/remove extra properties, add tags, set formats.

        Records (``import_ext_*``) are written through the library's door
        and resealed; the rest through Glance's wrapper, as the caller.
        """
        properties = dict(properties or {})
        for key in list(properties) + list(remove):
            if key.startswith(RESERVED_PREFIX):
                raise ValueError('%s is reserved by Glance' % key)
        for name in attributes:
            if name not in ATTRIBUTES:
                raise ValueError('%s cannot be set by a plugin' % name)
        own = {k: properties.pop(k) for k in list(properties)
               if records.is_record(k)}
        own_removed = [k for k in remove if records.is_record(k)]
        remove = [k for k in remove if not records.is_record(k)]
        if properties or remove or add_tags or attributes:
            with self.plugin.action_wrapper as action:
                self._change(action, CALLER, properties, remove)
                tags = _tags(action)
                for tag in add_tags:
                    self._journal.setdefault(
                        (CALLER, 'tag', tag), tag if tag in tags else _ABSENT)
                    tags.add(tag)
                for name in attributes:
                    self._journal.setdefault(
                        (CALLER, 'attribute', name),
                        getattr(action, 'image_' + name))
                if attributes:
                    action.set_image_attribute(**attributes)
        if own or own_removed:
            self.update_records(own, own_removed)

    def update_records(self, properties=None, remove=()):
        """Set/remove the library's own records.

        While the import's plugins run, the records are staged in the
        import's state, and the last plugin's RecordPluginRun saves them
        all, sealed and anchored, in one save (save_staged_records): one
        save per import rather than one per record. Before the first guard
        cleared the namespace, and once the staged records are saved, they
        are written at once.
        """
        shared = self.plugin.shared
        if (shared is None or shared.records is None or
                shared.records_written):
            self.write_records(properties, remove)
            return
        saved = shared.records
        for key, value in dict(properties or {}).items():
            shared.staged_records[key] = value
        for key in remove:
            if key in saved:
                shared.staged_records[key] = REMOVED
            else:
                shared.staged_records.pop(key, None)

    def save_staged_records(self):
        """Save every record this import's tasks staged, in one save.

        This task's journal then holds them all: its revert restores what
        was there before.
        """
        shared = self.plugin.shared
        staged, shared.staged_records = shared.staged_records, {}
        if staged:
            self.write_records(
                {k: v for k, v in staged.items() if v is not REMOVED},
                [k for k, v in staged.items() if v is REMOVED])
        shared.records_written = True

    def write_records(self, properties=None, remove=()):
        """Write the library's own records, and their seal, in one save."""
        with self.plugin.library_wrapper as action:
            self._change(action, LIBRARY, dict(properties or {}),
                         list(remove))
            reseal(action, self._journal)

    def copy_properties(self, properties):
        """Set ``properties`` as the caller, key by key.

        :returns: {key: reason} of the keys the caller may not write
            (Glance's property protections); the others are set.
        """
        refused = {}
        with self.plugin.action_wrapper as action:
            for key, value in sorted(properties.items()):
                before = action.image_extra_properties.get(key, _ABSENT)
                if before == value:
                    continue  # nothing to write, nothing to undo
                try:
                    action.set_image_extra_properties({key: value})
                except Exception as exc:
                    refused[key] = _refusal(exc)
                    continue
                self._journal.setdefault((CALLER, 'property', key), before)
        return refused

    def _change(self, action, door, properties, remove):
        current = action.image_extra_properties
        for key in list(properties) + list(remove):
            self._journal.setdefault((door, 'property', key),
                                     current.get(key, _ABSENT))
        if properties:
            action.set_image_extra_properties(properties)
        for key in remove:
            action.pop_extra_property(key)

    @property
    def changed(self):
        """What this task changed: {(kind, name): previous value}."""
        return {(kind, name): before
                for (_, kind, name), before in self._journal.items()}

    # -- undoing -------------------------------------------------------
    def revert(self, *args, **kwargs):
        """Put back what this task changed; never raises."""
        try:
            unrestored = self.undo()
        except Exception:
            LOG.exception('%s: could not restore image %s', self.name,
                          self.plugin.image_id)
            unrestored = {name: 'an unexpected error (see the glance-api '
                          'log)' for _, _, name in self._journal}
        if unrestored:
            report_unrestored(self.plugin, unrestored,
                              kwargs.get('flow_failures'))

    def undo(self):
        """Restore the journal, door by door and key by key.

        :returns: {name: reason} of what could not be restored.
        """
        unrestored = {}
        for door in (CALLER, LIBRARY):
            entries = {k: v for k, v in self._journal.items() if k[0] == door}
            if entries:
                unrestored.update(self._undo_door(door, entries))
        if not unrestored:
            self._journal.clear()
        return unrestored

    def _undo_door(self, door, entries):
        exception = glance_internals.exceptions
        wrapper = (self.plugin.library_wrapper if door == LIBRARY
                   else self.plugin.action_wrapper)
        failed = {}
        try:
            with wrapper as action:
                for (_, kind, name), before in entries.items():
                    try:
                        _restore(action, kind, name, before)
                    except Exception as exc:
                        failed[name] = _refusal(exc)
        except exception.TaskAbortedError:
            # Another import holds the image now; its state is not ours.
            LOG.warning('%s: not restoring image %s, another import task '
                        'holds its lock', self.name, self.plugin.image_id)
            return {}
        except exception.NotFound:
            LOG.info('%s: image %s is gone, nothing to restore', self.name,
                     self.plugin.image_id)
            return {}
        except Exception as exc:
            LOG.exception('%s: could not save the restored image %s',
                          self.name, self.plugin.image_id)
            return {name: _refusal(exc) for _, _, name in entries}
        for key in entries:
            if key[2] not in failed:
                del self._journal[key]
        LOG.info('%s: restored %s on image %s', self.name,
                 ', '.join(sorted(n for _, _, n in entries if n not in
                                  failed)) or 'nothing', self.plugin.image_id)
        return failed


def _restore(action, kind, name, before):
    if kind == 'attribute':
        action.set_image_attribute(**{name: before})
    elif kind == 'tag':
        if before is _ABSENT:
            _tags(action).discard(name)
    elif before is _ABSENT:
        action.pop_extra_property(name)
    else:
        action.set_image_extra_properties({name: before})


def reseal(action, journal=None):
    """Seal the records now on the image (records.seal), if keyed."""
    properties = action.image_extra_properties
    value = None
    if records.records_of(properties):
        value = records.seal(action.image_id, properties)
    if journal is not None:
        journal.setdefault((LIBRARY, 'property', records.SEAL),
                           properties.get(records.SEAL, _ABSENT))
    if value is not None:
        action.set_image_extra_properties({records.SEAL: value})
    elif records.SEAL in properties:
        action.pop_extra_property(records.SEAL)


def _refusal(exc):
    """Why Glance refused a property change, in an operator's words."""
    exception = glance_internals.exceptions
    if isinstance(exc, (exception.ReservedProperty, exception.Forbidden)):
        return 'not allowed by property protections'
    return '%s: %s' % (type(exc).__name__, errors.bounded(exc, 120))


def report_unrestored(plugin, unrestored, flow_failures):
    """Log, and add to the task message, what a revert left changed."""
    items = ', '.join('%s (%s)' % (errors.shorten(name, 60), reason)
                      for name, reason in sorted(unrestored.items()))
    note = ('%s could not undo its change of %s on the image; an admin can '
            'put the previous value back' % (plugin.name, items))
    LOG.warning('Image %s, import %s: %s', plugin.image_id, plugin.task_id,
                note)
    add_note(flow_failures, note)


def add_note(flow_failures, note):
    """Add ``note`` to the library failure that stopped the import."""
    for failure in (flow_failures or {}).values():
        exc = getattr(failure, 'exception', None)
        if isinstance(exc, errors.ImportFailed):
            exc.add_note(note)
            return True
    return False


def _tags(action):
    # Glance's _ImportActions offers no tag operations; the image it wraps
    # is saved with its tags by the same ImportActionWrapper.__exit__.
    return glance_internals.wrapped_image(action).tags
