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

"""build_flow and the tasks every plugin flow contains."""

import os

import fixtures
from glance.common import exception
from oslo_config import cfg
from taskflow import engines
from taskflow.patterns import linear_flow as lf
from taskflow import retry

from glance_import_ext.common import checks
from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import options
from glance_import_ext.common import plugin
from glance_import_ext.common import task as image_task
from tests.unit import fakes

IMPORTING_STORES = 'os_glance_importing_to_stores'


class Noop(image_task.ImageTask):

    def run(self):
        pass


class SetsFormatAndProperty(image_task.ImageTask):

    def run(self):
        self.update_image({'set_by_plugin': 'yes'}, disk_format='qcow2')


class Fails(image_task.ImageTask):

    def run(self):
        raise self.failure('refused the data')


def flow_tasks(flow):
    return [node for node, _ in flow.iter_nodes()]


def task_types(flow):
    return [type(node) for node in flow_tasks(flow)]


class PluginTestBase(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.repo = fakes.FakeImageRepo(fakes.make_image(status='uploading'))
        self.kwargs = fakes.plugin_kwargs(self.repo)
        self.staged_path = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'staged')
        with open(self.staged_path, 'wb') as f:
            f.write(b'data')
        self.staged_uri = 'file://' + self.staged_path

    def start_import(self):
        """What Glance does after get_flow: mark the image importing."""
        with self.kwargs['action_wrapper'] as action:
            action.set_image_attribute(status='importing')
            action.add_importing_stores(self.kwargs['backend'])


class TestBuildFlow(PluginTestBase):

    def must_not_make_tasks(self, plugin_context):
        self.fail('make_tasks called although the options are invalid')

    def test_glance_direct_tasks_are_restore_plugin_tasks_record(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                                 lambda p: [Noop(p), Fails(p)])
        self.assertEqual([guards.RestoreStagedStatus, Noop, Fails,
                          plugin.RecordPluginRun,
                          checks.FinishDryRun], task_types(flow))

    def test_other_methods_start_with_the_plain_guard(self):
        kwargs = fakes.plugin_kwargs(self.repo, method='web-download')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, kwargs,
                                 lambda p: [Noop(p)])
        self.assertEqual([guards.ImportGuard, Noop, plugin.RecordPluginRun,
                          checks.FinishDryRun],
                         task_types(flow))

    def test_no_plugin_tasks(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs, lambda p: [])
        self.assertEqual([guards.RestoreStagedStatus, plugin.RecordPluginRun,
                          checks.FinishDryRun],
                         task_types(flow))

    def test_make_tasks_gets_the_plugin_context(self):
        seen = []
        plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                          lambda p: seen.append(p) or [])
        self.assertEqual(fakes.PLUGIN_NAME, seen[0].name)
        self.assertEqual(fakes.IMAGE_ID, seen[0].image_id)
        self.assertEqual('glance-direct', seen[0].import_method)

    def assertRefusesNaming(self, refuse, option):
        self.assertIsInstance(refuse, plugin.RefuseToRun)
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertTrue(str(exc).startswith(fakes.PLUGIN_NAME + ': '))
        self.assertIn('option %s has an invalid value' % option, str(exc))

    def test_invalid_common_option_gives_single_refusing_task(self):
        # As if read from glance-image-import.conf: checked on first read.
        self.conf.load_raw_values(group=options.GROUP, heartbeat_interval=0)
        kwargs = fakes.plugin_kwargs(self.repo, method='web-download')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, kwargs,
                                 self.must_not_make_tasks)
        guard, refuse = flow_tasks(flow)
        self.assertIsInstance(guard, guards.ImportGuard)
        self.assertRefusesNaming(refuse,
                                 '[glance_import_ext] heartbeat_interval')

    def test_invalid_option_keeps_restore_for_glance_direct(self):
        self.conf.load_raw_values(group=options.GROUP, read_chunk_size=1)
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                                 self.must_not_make_tasks)
        restore, refuse = flow_tasks(flow)
        self.assertIsInstance(restore, guards.RestoreStagedStatus)
        self.assertRefusesNaming(refuse,
                                 '[glance_import_ext] read_chunk_size')

    def test_invalid_plugin_option_refuses_to_run(self):
        opts = [cfg.IntOpt('level', min=1)]
        self.conf.register_opts(opts, group='fake_plugin')
        self.conf.load_raw_values(group='fake_plugin', level='-3')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                                 self.must_not_make_tasks,
                                 option_groups=[('fake_plugin', opts)])
        self.assertRefusesNaming(flow_tasks(flow)[-1], '[fake_plugin] level')

    def test_config_error_from_make_tasks_refuses_to_run(self):
        def make_tasks(p):
            raise errors.ConfigError('option [x] y has an invalid value: z')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs, make_tasks)
        self.assertRefusesNaming(flow_tasks(flow)[-1], '[x] y')


class TestRecordPluginRun(PluginTestBase):

    def run_record(self, name):
        record = plugin.RecordPluginRun(fakes.make_plugin(self.repo, name))
        record.execute()
        return record

    def test_starts_the_trail(self):
        self.run_record('first')
        self.assertEqual('first',
                         self.repo.properties[plugin.TRAIL_PROPERTY])

    def test_appends_to_the_trail(self):
        self.run_record('first')
        self.run_record('second')
        self.assertEqual('first,second',
                         self.repo.properties[plugin.TRAIL_PROPERTY])

    def test_revert_restores_previous_trail(self):
        self.run_record('first')
        self.run_record('second').revert()
        self.assertEqual('first',
                         self.repo.properties[plugin.TRAIL_PROPERTY])


class TestRestoreStagedStatus(PluginTestBase):

    def setUp(self):
        super().setUp()
        self.repo.image.extra_properties[IMPORTING_STORES] = 'other'
        self.start_import()
        self.before = self.stored_state()

    def stored_state(self):
        image = self.repo.image
        return image.status, self.repo.properties, image.locations

    def revert(self, file_path=None, guard=None):
        guard = guard or self.ran_guard()
        guard.revert(result=None, flow_failures={},
                     file_path=file_path or self.staged_uri)

    def ran_guard(self, same_import_as=None):
        guard = guards.RestoreStagedStatus(fakes.make_plugin(
            self.repo, same_import_as=same_import_as))
        guard.run(file_path=self.staged_uri)
        return guard

    def test_only_the_guard_that_ran_first_acts(self):
        first = self.ran_guard()
        second = self.ran_guard(same_import_as=first.plugin)
        self.revert(guard=second)
        self.assertEqual('importing', self.repo.image.status)
        self.revert(guard=first)
        self.assertEqual('uploading', self.repo.image.status)

    def assertUntouched(self):
        # The wrapper may save the image it read, but nothing changes.
        self.assertEqual(self.before, self.stored_state())

    def test_back_to_uploading_when_staged_data_is_there(self):
        self.revert()
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('other', self.repo.properties[IMPORTING_STORES])

    def test_back_to_queued_when_staged_data_is_gone(self):
        os.unlink(self.staged_path)
        self.revert()
        self.assertEqual('queued', self.repo.image.status)
        self.assertEqual('other', self.repo.properties[IMPORTING_STORES])

    def test_back_to_queued_when_file_path_is_not_local(self):
        self.revert(file_path='http://example.com/image')
        self.assertEqual('queued', self.repo.image.status)

    def test_nothing_when_image_is_no_longer_importing(self):
        self.repo.image.status = 'queued'
        self.before = self.stored_state()
        self.revert()
        self.assertUntouched()

    def test_nothing_when_data_reached_a_store(self):
        self.repo.image.locations = [{'url': 'file:///s/x', 'metadata': {}}]
        self.before = self.stored_state()
        self.revert()
        self.assertUntouched()

    def test_nothing_when_lock_is_lost(self):
        self.repo.steal_lock()
        saves = len(self.repo.saves)
        self.revert()
        self.assertEqual('importing', self.repo.image.status)
        self.assertEqual(saves, len(self.repo.saves))

    def test_nothing_when_image_is_gone(self):
        guard = self.ran_guard()
        self.repo.image = None
        self.revert(guard=guard)


class TestFailedImportFlow(PluginTestBase):
    """Plugin flows run by taskflow the way Glance runs them."""

    def setUp(self):
        super().setUp()
        self.start_import()

    def run_import(self, expected_error, *plugin_flows):
        flow = lf.Flow(fakes.TASK_TYPE, retry=retry.AlwaysRevert())
        flow.add(*plugin_flows)
        return self.assertRaises(expected_error, engines.run, flow,
                                 store={'file_path': self.staged_uri})

    def test_failing_plugin_restores_image(self):
        exc = self.run_import(errors.ImportFailed, plugin.build_flow(
            'only', self.kwargs, lambda p: [SetsFormatAndProperty(p),
                                            Fails(p)]))
        self.assertEqual('only: refused the data', str(exc))
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual({IMPORTING_STORES: ''}, self.repo.properties)

    # Taskflow reverts backwards: the status guard must come back last,
    # after the first plugin restored disk_format (Glance allows that only
    # while the image is importing).
    def test_failing_second_plugin_restores_first_plugins_changes(self):
        exc = self.run_import(
            errors.ImportFailed,
            plugin.build_flow('first', self.kwargs,
                              lambda p: [SetsFormatAndProperty(p)]),
            plugin.build_flow('second', self.kwargs, lambda p: [Fails(p)]))
        self.assertEqual('second: refused the data', str(exc))
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual({IMPORTING_STORES: ''}, self.repo.properties)

    def test_lost_lock_aborts_and_leaves_image_to_its_new_owner(self):
        flow = plugin.build_flow('only', self.kwargs,
                                 lambda p: [SetsFormatAndProperty(p)])
        self.repo.steal_lock()
        self.run_import(exception.TaskAbortedError, flow)
        self.assertEqual('importing', self.repo.image.status)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertNotIn('set_by_plugin', self.repo.properties)
