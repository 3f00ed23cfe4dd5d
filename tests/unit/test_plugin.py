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
from unittest import mock

import fixtures
from glance.common import exception
from oslo_config import cfg
from taskflow import engines
from taskflow.patterns import linear_flow as lf
from taskflow import retry
from taskflow import task as taskflow_task
from taskflow.types import failure as tf_failure

from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import keepalive
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


class LikeImageDecompression(taskflow_task.Task):
    """Replaces the staged file and sets the size, as Glance 33's does."""

    default_provides = 'file_path'

    def __init__(self, repo):
        self.repo = repo
        super().__init__(name='decompress')

    def execute(self, file_path):
        path = file_path[len('file://'):]
        with open(path + '.uc', 'wb') as f:
            f.write(b'decompressed data')
        os.replace(path + '.uc', path)
        image = self.repo.get(fakes.IMAGE_ID)
        image.size = len(b'decompressed data')
        self.repo.save(image)
        return file_path


class LikeImageConversion(taskflow_task.Task):
    """Hands on a converted file; its revert sets queued, as Glance's does.

    Glance's revert goes through the import's action wrapper; if the image
    is already queued, the state machine raises, and taskflow would stop
    reverting there.
    """

    default_provides = 'file_path'

    def __init__(self, action_wrapper):
        self.action_wrapper = action_wrapper
        super().__init__(name='convert')

    def execute(self, file_path):
        self.path = file_path[len('file://'):]
        with open(self.path + '.raw', 'wb') as f:
            f.write(b'converted data')
        os.remove(self.path)
        return file_path + '.raw'

    def revert(self, result=None, **kwargs):
        with self.action_wrapper as action:
            action.set_image_attribute(status='queued')
        for path in (self.path + '.raw', self.path):
            if os.path.exists(path):
                os.remove(path)


def flow_tasks(flow):
    return [node for node, _ in flow.iter_nodes()]


def task_types(flow):
    return [type(node) for node in flow_tasks(flow)]


class PluginTestBase(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.repo = fakes.FakeImageRepo(fakes.make_image(status='uploading'))
        self.kwargs = fakes.plugin_kwargs(self.repo)
        # Where Glance stages glance-direct data: <staging dir>/<image id>.
        self.staging_dir = self.useFixture(fixtures.TempDir()).path
        self.conf.config(node_staging_uri='file://' + self.staging_dir)
        self.staged_path = os.path.join(self.staging_dir, fakes.IMAGE_ID)
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
                          dry_run.FinishDryRun], task_types(flow))

    def test_other_methods_start_with_the_plain_guard(self):
        kwargs = fakes.plugin_kwargs(self.repo, method='web-download')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, kwargs,
                                 lambda p: [Noop(p)])
        self.assertEqual([guards.ImportGuard, Noop, plugin.RecordPluginRun,
                          dry_run.FinishDryRun],
                         task_types(flow))

    def test_no_plugin_tasks(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs, lambda p: [])
        self.assertEqual([guards.RestoreStagedStatus, plugin.RecordPluginRun,
                          dry_run.FinishDryRun],
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


class WritesRecord(image_task.ImageTask):

    def run(self):
        self.update_records({'import_ext_%s' % self.plugin.name: 'done'})


class TestOneSaveOfRecordsPerImport(PluginTestBase):
    """The plugins' tasks stage their records; the last run saves them."""

    def setUp(self):
        super().setUp()
        self.start_import()
        self.conf.config(image_import_plugins=['first', 'second'],
                         group='image_import_opts')
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin._check_plugin_list'))

    def flows(self, second_tasks=WritesRecord):
        first = plugin.build_flow('first', self.kwargs,
                                  lambda p: [WritesRecord(p)])
        second = plugin.build_flow('second', self.kwargs,
                                   lambda p: [second_tasks(p)])
        flow = lf.Flow(fakes.TASK_TYPE, retry=retry.AlwaysRevert())
        return flow.add(first, second)

    def test_every_record_in_one_save_at_the_end(self):
        saves = len(self.repo.saves)
        engines.run(self.flows(), store={'file_path': self.staged_uri})
        self.assertEqual({'import_ext_first': 'done',
                          'import_ext_second': 'done',
                          plugin.TRAIL_PROPERTY: 'first,second'},
                         {k: v for k, v in self.repo.properties.items()
                          if k.startswith('import_ext_')})
        self.assertEqual(saves + 1, len(self.repo.saves))

    def test_nothing_saved_when_a_later_task_fails(self):
        self.assertRaises(errors.ImportFailed, engines.run,
                          self.flows(second_tasks=Fails),
                          store={'file_path': self.staged_uri})
        self.assertEqual([], [k for k in self.repo.properties
                              if k.startswith('import_ext_')])
        self.assertEqual('uploading', self.repo.image.status)

    def test_revert_of_the_saving_task_restores_what_was_there(self):
        self.repo.image.extra_properties['import_ext_first'] = 'earlier'
        flow = self.flows()
        engines.run(flow, store={'file_path': self.staged_uri})
        saving = [t for sub in flow_tasks(flow) for t in flow_tasks(sub)
                  if isinstance(t, plugin.RecordPluginRun)][-1]
        saving.revert()
        self.assertEqual({}, {k: v for k, v in self.repo.properties.items()
                              if k.startswith('import_ext_')})

    def test_staged_records_are_what_the_plugins_read(self):
        first = fakes.make_plugin(self.repo, 'first')
        first.shared.records = {'import_ext_old': 'x'}
        WritesRecord(first).execute()
        image_task.ImageTask(first).update_records(remove=['import_ext_old'])
        self.assertEqual({'import_ext_first': 'done'}, first.records())
        self.assertNotIn('import_ext_first', self.repo.properties)

    def test_a_record_task_that_never_runs_does_not_hold_them_back(self):
        # Another plugin's get_flow built one more flow that it dropped.
        flow = self.flows()
        plugin.build_flow('second', self.kwargs, lambda p: [])
        engines.run(flow, store={'file_path': self.staged_uri})
        self.assertEqual('first,second',
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

    def test_file_path_decides_when_staging_dir_is_not_local(self):
        self.conf.config(node_staging_uri='http://example.com/staging')
        self.revert(guard=self.ran_guard(), file_path=self.staged_uri)
        self.assertEqual('uploading', self.repo.image.status)

    def test_back_to_queued_when_file_path_is_not_local(self):
        self.conf.config(node_staging_uri='http://example.com/staging')
        self.revert(guard=self.ran_guard(),
                    file_path='http://example.com/image')
        self.assertEqual('queued', self.repo.image.status)

    # -- staged data changed during the import (image_decompression) ---
    def decompress(self, data=b'the decompressed data, longer'):
        """What Glance's image_decompression does to the staged file."""
        with open(self.staged_path + '.uc', 'wb') as f:
            f.write(data)
        os.replace(self.staged_path + '.uc', self.staged_path)
        self.repo.image.size = len(data)

    def built_guard(self, stage_host='http://a'):
        """A guard built while the image says where its data is staged."""
        self.repo.image.extra_properties[guards.STAGE_HOST] = stage_host
        guard = self.ran_guard()
        # As Glance does once the flow is built.
        self.repo.image.extra_properties.pop(guards.STAGE_HOST)
        return guard

    def failed_with(self, message='refused the data'):
        exc = errors.ImportFailed(fakes.PLUGIN_NAME, message)
        return exc, {'task': mock.Mock(exception=exc)}

    def test_stage_host_comes_back_with_the_data(self):
        guard = self.built_guard()
        self.revert(guard=guard)
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('http://a', self.repo.properties[guards.STAGE_HOST])

    def test_replaced_staged_data_is_removed_and_image_queued(self):
        self.conf.config(image_import_plugins=['image_decompression',
                                               fakes.PLUGIN_NAME],
                         group='image_import_opts')
        with open(self.staged_path + '.import_ext_digests', 'w') as f:
            f.write('{}')
        guard = self.built_guard()   # built before any plugin ran
        self.decompress()
        exc, failures = self.failed_with()
        guard.revert(result=None, flow_failures=failures,
                     file_path=self.staged_uri)
        self.assertEqual('queued', self.repo.image.status)
        self.assertEqual([], os.listdir(self.staging_dir))
        self.assertIsNone(self.repo.image.size)
        self.assertNotIn(guards.STAGE_HOST, self.repo.properties)
        self.assertEqual('other', self.repo.properties[IMPORTING_STORES])
        self.assertEqual(
            'fake_plugin: refused the data; the staged data had been '
            'changed by image_decompression before the failure, so it was '
            'removed and the image is queued again: stage the data again, '
            'then import', str(exc))

    def test_snapshot_is_the_one_taken_by_the_first_guard_built(self):
        first = self.ran_guard()
        self.decompress()
        # Another plugin of the same import, built in the same get_flow
        # round: it does not take a new snapshot.
        guards.RestoreStagedStatus(fakes.make_plugin(
            self.repo, same_import_as=first.plugin))
        self.revert(guard=first)
        self.assertEqual('queued', self.repo.image.status)
        self.assertFalse(os.path.exists(self.staged_path))

    def test_unchanged_data_is_kept_whatever_file_path_says(self):
        guard = self.ran_guard()
        self.revert(guard=guard, file_path=self.staged_uri + '.qcow2')
        self.assertEqual('uploading', self.repo.image.status)
        self.assertTrue(os.path.exists(self.staged_path))

    def test_replaced_data_that_cannot_be_removed_still_queues(self):
        guard = self.ran_guard()
        os.remove(self.staged_path)
        os.mkdir(self.staged_path)
        exc, failures = self.failed_with()
        guard.revert(result=None, flow_failures=failures,
                     file_path=self.staged_uri)
        self.assertEqual('queued', self.repo.image.status)
        self.assertIn('could not be removed (see the glance-api log)',
                      str(exc))

    def test_nothing_removed_when_lock_is_lost(self):
        guard = self.ran_guard()
        self.decompress()
        self.repo.steal_lock()
        self.revert(guard=guard)
        self.assertTrue(os.path.exists(self.staged_path))

    # -- image_conversion listed before: Glance's revert queues it -----
    def test_status_left_to_image_conversion_revert(self):
        self.conf.config(image_import_plugins=['image_conversion',
                                               fakes.PLUGIN_NAME],
                         group='image_import_opts')
        guard = self.built_guard()
        exc, failures = self.failed_with()
        guard.revert(result=None, flow_failures=failures,
                     file_path=self.staged_uri + '.raw')
        self.assertEqual('importing', self.repo.image.status)
        self.assertNotIn(guards.STAGE_HOST, self.repo.properties)
        self.assertIn('; image_conversion, which ran before, removes the '
                      'staged data as the import is reverted and sets the '
                      'image queued again: stage the data again, then '
                      'import', str(exc))

    def test_image_conversion_listed_after_changes_nothing(self):
        self.conf.config(image_import_plugins=[fakes.PLUGIN_NAME,
                                               'image_conversion'],
                         group='image_import_opts')
        self.revert()
        self.assertEqual('uploading', self.repo.image.status)

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


class LockingImageRepo(fakes.FakeImageRepo):
    """With the atomic removal Glance's drop_lock_for_task uses."""

    def delete_property_atomic(self, image, name, value):
        if self.image.extra_properties.get(name) != value:
            raise exception.NotFound()
        del self.image.extra_properties[name]


class TestFinishFailedDownload(fakes.PluginTestCase):
    """glance-download: the revert is finished once the task failed."""

    def setUp(self):
        super().setUp()
        self.wait = self.useFixture(fixtures.MockPatchObject(
            keepalive.KEEPALIVE, 'wait_for_end')).mock
        # As Glance 33's broken revert leaves it: queued, still locked.
        self.repo = LockingImageRepo(fakes.make_image(status='queued'))
        self.task_repo = fakes.FakeTaskRepo()
        self.guard = guards.FinishFailedDownload(fakes.make_plugin(
            self.repo, task_repo=self.task_repo, method='glance-download'))
        self.guard.run()
        failure = tf_failure.Failure.from_exception(
            errors.ImportFailed('check', 'bad data'))
        self.guard.revert(result=None, flow_failures={'check': failure})

    def lock(self):
        return self.repo.image.extra_properties.get(fakes.LOCK_KEY)

    def finish(self, status):
        [(args, kwargs)] = self.wait.call_args_list
        self.assertEqual((None, fakes.TASK_ID), args[:2])
        self.assertEqual({'timeout': guards.FinishFailedDownload.WAIT_SECONDS,
                          'poll': guards.FinishFailedDownload.POLL_SECONDS},
                         kwargs)
        args[2](status)

    def test_unlocks_once_the_task_failed(self):
        self.assertEqual(fakes.TASK_ID, self.lock())
        self.finish('failure')
        self.assertIsNone(self.lock())
        self.assertEqual(['check: bad data (image %s is queued again and '
                          'unlocked: a new import can start)'
                          % fakes.IMAGE_ID], self.task_repo.saved_messages)

    def test_nothing_unless_the_task_failed(self):
        for status in ('success', None):
            self.finish(status)
        self.assertEqual(fakes.TASK_ID, self.lock())
        self.assertEqual([], self.task_repo.saved_messages)

    def test_an_error_while_unlocking_is_logged(self):
        self.useFixture(fixtures.MockPatchObject(
            self.guard, '_release', side_effect=RuntimeError('db')))
        self.finish('failure')
        self.assertEqual(fakes.TASK_ID, self.lock())


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

    def test_staged_data_changed_before_the_failure_is_not_offered(self):
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin._check_plugin_list'))
        self.conf.config(image_import_plugins=['image_decompression',
                                               'only'],
                         group='image_import_opts')
        exc = self.run_import(
            errors.ImportFailed, LikeImageDecompression(self.repo),
            plugin.build_flow('only', self.kwargs, lambda p: [Fails(p)]))
        self.assertTrue(str(exc).startswith(
            'only: refused the data; the staged data had been changed by '
            'image_decompression before the failure, so it was removed'),
            str(exc))
        self.assertEqual('queued', self.repo.image.status)
        self.assertIsNone(self.repo.image.size)
        self.assertEqual([], os.listdir(self.staging_dir))

    def test_store_failure_after_decompression_listed_last(self):
        # Verifying plugins first, then image_decompression, then a store
        # that fails (not a failure of the library: Glance's message).
        class StoreFails(taskflow_task.Task):
            def execute(self):
                raise RuntimeError('store full')

        logger = self.useFixture(fixtures.FakeLogger())
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin._check_plugin_list'))
        self.conf.config(image_import_plugins=['only',
                                               'image_decompression'],
                         group='image_import_opts')
        self.run_import(
            RuntimeError,
            plugin.build_flow('only', self.kwargs, lambda p: [Noop(p)]),
            LikeImageDecompression(self.repo), StoreFails())
        self.assertEqual('queued', self.repo.image.status)
        self.assertEqual([], os.listdir(self.staging_dir))
        self.assertIn('changed by image_decompression', logger.output)

    def test_image_conversion_listed_before_reverts_to_queued(self):
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin._check_plugin_list'))
        self.conf.config(image_import_plugins=['image_conversion', 'only'],
                         group='image_import_opts')
        # An error other than ImportFailed would mean a revert raised.
        exc = self.run_import(
            errors.ImportFailed,
            LikeImageConversion(self.kwargs['action_wrapper']),
            plugin.build_flow('only', self.kwargs, lambda p: [Fails(p)]))
        self.assertIn('image_conversion, which ran before, removes the '
                      'staged data', str(exc))
        self.assertEqual('queued', self.repo.image.status)
        self.assertEqual([], os.listdir(self.staging_dir))

    def test_lost_lock_aborts_and_leaves_image_to_its_new_owner(self):
        flow = plugin.build_flow('only', self.kwargs,
                                 lambda p: [SetsFormatAndProperty(p)])
        self.repo.steal_lock()
        self.run_import(exception.TaskAbortedError, flow)
        self.assertEqual('importing', self.repo.image.status)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertNotIn('set_by_plugin', self.repo.properties)
