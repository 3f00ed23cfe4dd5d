"""The base of every task a plugin adds to Glance's import flow.

Glance runs the plugins inside a flow with ``retry.AlwaysRevert``: when any
task fails, every task that ran is reverted. ``ImageTask`` makes that safe:
all image changes go through Glance's ``ImportActionWrapper`` (which checks
Glance's import lock on entry and again before saving), every change is
journalled with the value it replaced, and ``revert()`` puts back exactly
those values, nothing else.
"""

from oslo_log import log as logging
from taskflow import task

from glance_import_ext.common import errors
from glance_import_ext.common import hashing
from glance_import_ext.common import heartbeat
from glance_import_ext.common import staging

LOG = logging.getLogger(__name__)

RESERVED_PREFIX = 'os_glance_'
ATTRIBUTES = ('disk_format', 'container_format')
_ABSENT = object()


class ImageTask(task.Task):
    """Subclasses implement ``run(**inputs)`` and list ``inputs`` by name."""

    inputs = ()

    def __init__(self, plugin):
        self.plugin = plugin
        # (kind, name) -> value before this task first changed it
        self._journal = {}
        super().__init__(
            name='%s-%s-%s-%s' % (plugin.task_type, plugin.name,
                                  type(self).__name__, plugin.task_id),
            requires=self.inputs)

    # -- running -------------------------------------------------------
    def pre_execute(self):
        # Do not start work on an image another import has taken over.
        self.plugin.action_wrapper.assert_task_lock()

    def execute(self, **inputs):
        try:
            return self.run(**inputs)
        except errors.ImportFailed:
            raise
        except Exception as exc:
            from glance.common import exception
            if isinstance(exc, exception.TaskAbortedError):
                raise  # lost the lock: Glance handles this itself
            LOG.exception('%s failed on image %s', self.name,
                          self.plugin.image_id)
            raise self.failure('unexpected error %s: %s (details in the '
                               'glance-api log)' % (type(exc).__name__, exc))

    def run(self, **inputs):
        raise NotImplementedError

    def staged_digests(self, file_path, algorithms):
        """({algorithm: hex}, size) of the staged data.

        Shares one pass with the import's other verifying plugins (see
        hashing.ImportDigests) and keeps the task fresh while it hashes.
        """
        data = staging.StagedData(file_path)
        beat = heartbeat.Heartbeat(self.plugin.task_repo,
                                   self.plugin.task_id)
        label = self.plugin.name

        def progress(done):
            beat.beat('%s: hashed %d MiB' % (label, done // 2 ** 20))

        digests = hashing.for_import(self.plugin.task_id)
        return (digests.of(data.chunks, data.path, algorithms, progress),
                data.size())

    def failure(self, message):
        """An ImportFailed for this plugin, to raise."""
        return errors.ImportFailed(self.plugin.name, message)

    # -- changing the image --------------------------------------------
    def update_image(self, properties=None, remove=(), add_tags=(),
                     **attributes):
        """Set/remove extra properties, add tags, set formats: one save."""
        properties = properties or {}
        for key in list(properties) + list(remove):
            if key.startswith(RESERVED_PREFIX):
                raise ValueError('%s is reserved by Glance' % key)
        for name in attributes:
            if name not in ATTRIBUTES:
                raise ValueError('%s cannot be set by a plugin' % name)
        with self.plugin.action_wrapper as action:
            current = action.image_extra_properties
            for key in list(properties) + list(remove):
                self._journal.setdefault(('property', key),
                                         current.get(key, _ABSENT))
            for name in attributes:
                self._journal.setdefault(('attribute', name),
                                         getattr(action, 'image_' + name))
            tags = _tags(action)
            for tag in add_tags:
                self._journal.setdefault(('tag', tag),
                                         tag if tag in tags else _ABSENT)
                tags.add(tag)
            if properties:
                action.set_image_extra_properties(properties)
            for key in remove:
                action.pop_extra_property(key)
            if attributes:
                action.set_image_attribute(**attributes)

    @property
    def changed(self):
        """What this task changed: {(kind, name): previous value}."""
        return dict(self._journal)

    # -- undoing -------------------------------------------------------
    def revert(self, *args, **kwargs):
        if not self._journal:
            return
        from glance.common import exception
        try:
            with self.plugin.action_wrapper as action:
                self._restore(action)
        except exception.TaskAbortedError:
            # Another import holds the image now; its state is not ours.
            LOG.warning('%s: not restoring image %s, another import task '
                        'holds its lock', self.name, self.plugin.image_id)
            return
        except exception.NotFound:
            LOG.info('%s: image %s is gone, nothing to restore', self.name,
                     self.plugin.image_id)
            return
        LOG.info('%s: restored %s on image %s', self.name,
                 ', '.join(sorted(n for _, n in self._journal)),
                 self.plugin.image_id)
        self._journal.clear()

    def _restore(self, action):
        for (kind, name), before in self._journal.items():
            if kind == 'attribute':
                action.set_image_attribute(**{name: before})
            elif kind == 'tag':
                if before is _ABSENT:
                    _tags(action).discard(name)
            elif before is _ABSENT:
                action.pop_extra_property(name)
            else:
                action.set_image_extra_properties({name: before})


def _tags(action):
    # Glance's _ImportActions offers no tag operations; the image it wraps
    # is saved with its tags by the same ImportActionWrapper.__exit__.
    return action._image.tags
