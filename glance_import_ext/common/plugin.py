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

"""Turning a plugin's tasks into the flow Glance's import executor runs.

Every plugin's ``get_flow(**kwargs)`` ends in ``build_flow``, which
- never raises: stevedore would log "Could not load", drop the plugin and
  let the import pass unchecked. A bad option value, a database error
  while reading the image, a bug: each becomes a task that fails the
  import with the reason (fail closed);
- appends the plugin's name to the image's ``import_ext_plugins``
  property, so the image shows which plugins ran, in order;
- starts with a guard that owns the library's records and leaves a failed
  import retryable (guards);
- has the import watched by the process's keepalive, so that the admin
  command can tell a dead import from a live one (keepalive);
- ends with the stop of a dry run, which acts only in one (dry_run).
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow as lf

from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import import_state
from glance_import_ext.common import keepalive
from glance_import_ext.common import options
from glance_import_ext.common import plugin_list
from glance_import_ext.common import records
from glance_import_ext.common import stage_record
from glance_import_ext.common import staging
from glance_import_ext.common import task as image_task
from glance_import_ext.common import workers
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)

TRAIL_PROPERTY = 'import_ext_plugins'
# What Glance's get_flow keyword arguments must carry for any plugin.
REQUIRED = glance_internals.FlowArguments.REQUIRED


def _library_repo(plugin):
    # The image repository without Glance's property-protection layer: the
    # door for the library's own records (see task.ImageTask). It acts with
    # the caller's context, so it sees only images the caller can see; its
    # saves anchor the records outside the image (records.AnchoredRepo).
    return records.AnchoredRepo(glance_internals.image_repo(plugin.context),
                                plugin.context, plugin.shared)


class PluginContext:
    """What Glance hands a plugin's get_flow, under clear names.

    :param name: the plugin's entry-point name.
    :param kwargs: the keyword arguments Glance passed to ``get_flow``.
    """

    def __init__(self, name, kwargs):
        args = glance_internals.FlowArguments(kwargs)
        self.name = name
        self.missing = args.missing
        self.task_id = args.task_id or 'unknown-task'
        self.task_type = args.task_type or glance_internals.IMPORT_TASK_TYPE
        self.image_id = args.image_id
        self.context = args.context
        self.import_req = args.import_req or {}
        self.action_wrapper = args.action_wrapper
        self.task_repo = args.task_repo
        # The repo Glance's action wrapper uses: admin's if there is one.
        self.image_repo = args.admin_repo or args.image_repo
        # The caller's own view: what they may read as a source.
        self.user_image_repo = args.image_repo
        self.backends = args.backends or []
        self._library_repo = None
        self._library_wrapper = None
        # The import_state.ImportState this import's plugins share; set by
        # build_flow.
        self.shared = None

    @property
    def import_method(self):
        """The import method's name (``glance-direct``...), or None."""
        method = self.import_req.get('method')
        return method.get('name') if isinstance(method, dict) else None

    @property
    def library_wrapper(self):
        """An ImportActionWrapper for the library's own writes.

        Same import-lock checks as Glance's wrapper; used for the records
        under ``import_ext_`` and for putting back Glance's own state after
        a failure, which property protections meant for users must not
        block.
        """
        if self._library_wrapper is None:
            self._library_wrapper = glance_internals.import_action_wrapper(
                self.library_repo, self.image_id, self.task_id)
        return self._library_wrapper

    @property
    def library_repo(self):
        """The image repository the library's own writes go through."""
        if self._library_repo is None:
            self._library_repo = _library_repo(self)
        return self._library_repo

    def records(self):
        """The library's records as this import's plugins wrote them.

        Those saved (known to the import's state once the first guard
        cleared the namespace, else read from the image) with those staged
        for the import's one save (task.ImageTask.update_records).
        """
        shared = self.shared
        if shared is None or shared.records is None:
            image = self.library_repo.get(self.image_id)
            return records.records_of(glance_internals.properties_of(image))
        found = records.records_of(shared.records)
        for key, value in shared.staged_records.items():
            if value is image_task.REMOVED:
                found.pop(key, None)
            else:
                found[key] = value
        return found

    def image(self):
        """The image as stored now (read only; changes go via ImageTask)."""
        return self.image_repo.get(self.image_id)

    def image_at_build(self):
        """The image as read while the import's flows were built.

        Read once for every plugin of the import: what a plugin's get_flow
        decides from (Glance removes ``os_glance_stage_host`` right after).
        """
        if self.shared is None:
            return self.image()
        if self.shared.image_at_build is None:
            self.shared.image_at_build = self.image()
        return self.shared.image_at_build

    def properties_at_build(self):
        """image_at_build's extra properties, as a plain dict."""
        return glance_internals.properties_of(self.image_at_build())

    def image_properties(self):
        """The image's extra properties as a plain dict.

        Glance's ExtraProperties mixes MutableMapping into dict, and its
        items()/values() come out empty; only a copy (properties_of) sees
        the content.
        """
        return glance_internals.properties_of(self.image())


class RecordPluginRun(image_task.ImageTask):
    """Append the plugin's name to the trail; the last saves the records.

    The records every task of the import staged are saved by the
    RecordPluginRun that runs last (every flow was built before the first
    ran), or by that of the last configured plugin of the library if
    another plugin's get_flow built one that never runs.

    :param plugin: the PluginContext of the plugin whose flow it ends.
    """

    def __init__(self, plugin):
        super().__init__(plugin)
        plugin.shared.record_tasks += 1

    def run(self):
        """Add this plugin's name to the image's trail of plugins that ran."""
        shared = self.plugin.shared
        shared.record_runs += 1
        trail = self.plugin.records().get(TRAIL_PROPERTY)
        names = trail.split(',') if trail else []
        self.update_records({TRAIL_PROPERTY: ','.join(names + [
            self.plugin.name])})
        if (shared.record_runs >= shared.record_tasks or
                shared.is_last(self.plugin.name)):
            self.save_staged_records()


class RefuseToRun(image_task.ImageTask):
    """Fail the import because the plugin cannot run."""

    def __init__(self, plugin, reason):
        self.reason = reason
        super().__init__(plugin)

    def run(self):
        """Fail the import with the reason the plugin cannot run."""
        raise self.failure(self.reason)


def _cannot_prepare(name, exc):
    """The task message for an error while the flow was built."""
    if isinstance(exc, errors.ConfigError):
        return str(exc)
    return ('could not prepare its check (%s: %s); the import is stopped '
            'rather than left unchecked. Details are in the glance-api log; '
            'retry once the cause is fixed' % (
                type(exc).__name__, errors.bounded(exc, 300)))


def build_flow(name, kwargs, make_tasks, option_groups=()):
    """The linear flow for plugin ``name``; never raises.

    :param name: the plugin's entry-point name.
    :param kwargs: what Glance passed to ``get_flow``.
    :param make_tasks: called with the PluginContext once the options are
        valid; returns the plugin's tasks (may be empty).
    :param option_groups: (group, opts) pairs the plugin reads.
    """
    plugin = PluginContext(name, kwargs)
    flow = lf.Flow('%s-%s' % (plugin.task_type, name))
    try:
        if plugin.missing:
            raise errors.GlanceMismatch(
                'Glance did not pass %s to the plugin' % ', '.join(
                    plugin.missing))
        plugin.shared = import_state.of(plugin.action_wrapper)
        flow.add(guards.guard_for(plugin))
        plugin.shared.plugins.append(name)
        for group, opts in ((options.GROUP, options.common_opts),) + tuple(
                option_groups):
            options.check_options(group, opts)
        _check_plugin_list(plugin, kwargs)
        _watch(plugin)
        tasks = list(make_tasks(plugin))
    except Exception as exc:
        if isinstance(exc, errors.ConfigError):
            LOG.error('Import plugin %s refuses to run: %s', name, exc)
        else:
            LOG.exception('Import plugin %s could not build its flow for '
                          'image %s (task %s); the import will fail', name,
                          plugin.image_id, plugin.task_id)
        return flow.add(RefuseToRun(plugin, _cannot_prepare(name, exc)))
    return flow.add(*tasks, RecordPluginRun(plugin),
                    dry_run.FinishDryRun(plugin))


def _check_plugin_list(plugin, kwargs):
    """Fail the import if the configured list does not run as written.

    Glance drops a name it cannot load with a WARNING, and the import would
    pass without that check (plugin_list). Once per import, by the first
    of its plugins stevedore invokes that is listed itself: a flow another
    plugin builds inside its own get_flow may have other arguments.
    """
    configured = glance_internals.image_import_plugins()
    shared = plugin.shared
    if (shared.list_checked or plugin.name not in configured or
            plugin_list.probing()):
        return
    shared.list_checked = True
    found = plugin_list.problems(configured, kwargs)
    for problem in found:
        if not problem.fatal:
            LOG.warning('Import plugin %s does not run, and [%s] '
                        'require_every_plugin is false: imports go on '
                        'without it (%s)', problem.name, options.GROUP,
                        problem)
    fatal = [p for p in found if p.fatal]
    if fatal:
        raise errors.ConfigError(plugin_list.refusal(fatal))


def _watch(plugin):
    """Have the keepalive watch this import (once per import)."""
    shared = plugin.shared
    if shared.watched:
        return
    shared.watched = True
    keepalive.KEEPALIVE.watch(plugin.context, plugin.task_id, facts={
        'worker': workers.this_worker(),
        'stage_host': shared.stage_host or None,
        'method': plugin.import_method,
        # How often the keepalive updates this task: the admin command
        # judges it by this worker's interval, not its own configuration.
        'interval': keepalive.KEEPALIVE.interval})
    staged = (staging.staged_path(plugin.image_id)
              if plugin.import_method == 'glance-direct' else None)
    if staged:
        # Once Glance deleted the staged data of a successful import, its
        # stage record (stage_digests) describes nothing: remove it. After
        # a failure the data stays, and the record spares the retry a pass.
        keepalive.KEEPALIVE.when_done(
            plugin.task_id, _stage_record_remover(staged),
            poll=keepalive.KEEPALIVE.interval)


def _stage_record_remover(staged):
    def remove_after_success(status):
        if status == 'success':
            stage_record.remove(staged)
    return remove_after_success
