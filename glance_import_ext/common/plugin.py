"""Turning a plugin's tasks into the flow Glance's import executor runs.

Every plugin's ``get_flow(**kwargs)`` ends in ``build_flow``, which
- reads the plugin's options first: a bad value becomes a task that fails
  the import naming the option (stevedore would otherwise log the error
  and drop the plugin, and the import would pass unchecked);
- appends the plugin's name to the image's ``import_ext_plugins``
  property, so the image shows which plugins ran, in order;
- starts with a guard that leaves a failed import retryable (guards).
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow as lf

from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import options
from glance_import_ext.common import task as image_task

LOG = logging.getLogger(__name__)

TRAIL_PROPERTY = 'import_ext_plugins'


class PluginContext:
    """What Glance hands a plugin's get_flow, under clear names."""

    def __init__(self, name, kwargs):
        self.name = name
        self.task_id = kwargs['task_id']
        self.task_type = kwargs['task_type']
        self.image_id = kwargs['image_id']
        self.context = kwargs.get('context')
        self.import_req = kwargs.get('import_req') or {}
        self.action_wrapper = kwargs['action_wrapper']
        self.task_repo = kwargs.get('task_repo')
        # The repo Glance's action wrapper uses: admin's if there is one.
        self.image_repo = kwargs.get('admin_repo') or kwargs.get('image_repo')
        # The caller's own view: what they may read as a source.
        self.user_image_repo = kwargs.get('image_repo')
        self.backends = kwargs.get('backend') or []

    @property
    def import_method(self):
        return self.import_req.get('method', {}).get('name')

    def image(self):
        """The image as stored now (read only; changes go via ImageTask)."""
        return self.image_repo.get(self.image_id)

    def image_properties(self):
        """The image's extra properties as a plain dict.

        Glance's ExtraProperties mixes MutableMapping into dict, and its
        items()/values() come out empty; only dict(...) sees the content.
        """
        return dict(self.image().extra_properties)


class RecordPluginRun(image_task.ImageTask):
    """Append the plugin's name to the image's trail of plugins."""

    def run(self):
        trail = self.plugin.image_properties().get(TRAIL_PROPERTY)
        names = trail.split(',') if trail else []
        self.update_image({TRAIL_PROPERTY: ','.join(names + [
            self.plugin.name])})


class RefuseToRun(image_task.ImageTask):
    """Fail the import because the plugin cannot run as configured."""

    def __init__(self, plugin, reason):
        self.reason = reason
        super().__init__(plugin)

    def run(self):
        raise self.failure(self.reason)


GUARDS = {'glance-direct': guards.RestoreStagedStatus,
          'glance-download': guards.FinishFailedDownload}


def build_flow(name, kwargs, make_tasks, option_groups=()):
    """The linear flow for plugin ``name``.

    :param make_tasks: called with the PluginContext once the options are
        valid; returns the plugin's tasks (may be empty).
    :param option_groups: (group, opts) pairs the plugin reads.
    """
    plugin = PluginContext(name, kwargs)
    flow = lf.Flow('%s-%s' % (plugin.task_type, name))
    guard = GUARDS.get(plugin.import_method)
    if guard:
        flow.add(guard(plugin))
    try:
        for group, opts in ((options.GROUP, options.common_opts),) + tuple(
                option_groups):
            options.check_options(group, opts)
        tasks = list(make_tasks(plugin))
    except errors.ConfigError as exc:
        LOG.error('Import plugin %s refuses to run: %s', name, exc)
        return flow.add(RefuseToRun(plugin, str(exc)))
    return flow.add(*tasks, RecordPluginRun(plugin))
