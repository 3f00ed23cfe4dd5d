"""build_flow and the tasks every plugin flow contains."""

import os

import fixtures
from glance.common import exception
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from taskflow import engines
from taskflow.patterns import linear_flow as lf
from taskflow import retry
import testtools

from glance_import_ext.common import errors
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


def task_types(flow):
    return [type(node) for node, _ in flow.iter_nodes()]


class PluginTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.repo = fakes.FakeImageRepo(fakes.make_image(status='uploading'))
        self.kwargs = fakes.plugin_kwargs(self.repo)
        self.staged_uri = 'file://' + self.make_staged_file()

    def make_staged_file(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'img')
        with open(path, 'wb') as f:
            f.write(b'data')
        return path

    def start_import(self):
        """What Glance does after get_flow: mark the image importing."""
        with self.kwargs['action_wrapper'] as action:
            action.set_image_attribute(status='importing')
            action.add_importing_stores(self.kwargs['backend'])


class TestBuildFlow(PluginTestBase):

    def test_tasks_are_restore_plugin_tasks_record(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                                 lambda p: [Noop(p), Fails(p)])
        self.assertEqual([plugin.RestoreImportStatus, Noop, Fails,
                          plugin.RecordPluginRun], task_types(flow))

    def test_no_plugin_tasks(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs, lambda p: [])
        self.assertEqual([plugin.RestoreImportStatus, plugin.RecordPluginRun],
                         task_types(flow))

    def test_remembers_status_before_import(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs, lambda p: [])
        restore = next(flow.iter_nodes())[0]
        self.assertEqual('uploading', restore.status_before)

    def test_make_tasks_gets_the_plugin_context(self):
        seen = []
        plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                          lambda p: seen.append(p) or [])
        self.assertEqual(fakes.PLUGIN_NAME, seen[0].name)
        self.assertEqual(fakes.IMAGE_ID, seen[0].image_id)
        self.assertEqual('glance-direct', seen[0].import_method)

    def assertRefuses(self, flow, option):
        self.assertEqual([plugin.RestoreImportStatus, plugin.RefuseToRun],
                         task_types(flow))
        refuse = task_types(flow) and list(flow.iter_nodes())[1][0]
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertTrue(str(exc).startswith(fakes.PLUGIN_NAME + ': '))
        self.assertIn('option %s has an invalid value' % option, str(exc))

    def test_invalid_common_option_refuses_to_run(self):
        # As if read from glance-image-import.conf: checked on first read.
        self.conf.load_raw_values(group=options.GROUP, heartbeat_interval=0)
        make_tasks = fixtures.MockPatchObject  # never to be called
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                                 lambda p: make_tasks())
        self.assertRefuses(flow, '[glance_import_ext] heartbeat_interval')

    def test_invalid_plugin_option_refuses_to_run(self):
        opts = [cfg.IntOpt('level', min=1)]
        self.conf.register_opts(opts, group='fake_plugin')
        self.conf.load_raw_values(group='fake_plugin', level='-3')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs,
                                 lambda p: [Noop(p)],
                                 option_groups=[('fake_plugin', opts)])
        self.assertRefuses(flow, '[fake_plugin] level')

    def test_config_error_from_make_tasks_refuses_to_run(self):
        def make_tasks(p):
            raise errors.ConfigError('option [x] y has an invalid value: z')
        flow = plugin.build_flow(fakes.PLUGIN_NAME, self.kwargs, make_tasks)
        self.assertRefuses(flow, '[x] y')


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


class TestRestoreImportStatus(PluginTestBase):

    def setUp(self):
        super().setUp()
        self.repo.image.extra_properties[IMPORTING_STORES] = 'other'
        self.start_import()
        self.saves_before = len(self.repo.saves)

    def revert(self, status_before='uploading', file_path=None):
        task = plugin.RestoreImportStatus(fakes.make_plugin(self.repo),
                                          status_before)
        task.revert(result=None, flow_failures={},
                    file_path=file_path or self.staged_uri)

    def assertUntouched(self):
        self.assertEqual(self.saves_before, len(self.repo.saves))

    def test_back_to_uploading_when_staged_data_is_there(self):
        self.revert()
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('other', self.repo.properties[IMPORTING_STORES])

    def test_back_to_queued_when_staged_data_is_gone(self):
        os.unlink(self.staged_uri[len('file://'):])
        self.revert()
        self.assertEqual('queued', self.repo.image.status)

    def test_back_to_queued_when_file_path_is_not_local(self):
        self.revert(file_path='http://example.com/image')
        self.assertEqual('queued', self.repo.image.status)

    def test_back_to_queued_for_web_download(self):
        self.revert(status_before='queued')
        self.assertEqual('queued', self.repo.image.status)

    def test_nothing_for_an_active_image(self):
        self.revert(status_before='active')
        self.assertUntouched()

    def test_nothing_when_image_is_no_longer_importing(self):
        self.repo.image.status = 'queued'
        self.revert()
        self.assertEqual('queued', self.repo.image.status)
        self.assertUntouched()

    def test_nothing_when_data_reached_a_store(self):
        self.repo.image.locations = [{'url': 'file:///s/x', 'metadata': {}}]
        self.revert()
        self.assertEqual('importing', self.repo.image.status)
        self.assertUntouched()

    def test_nothing_when_lock_is_lost(self):
        self.repo.steal_lock()
        self.revert()
        self.assertEqual('importing', self.repo.image.status)
        self.assertUntouched()

    def test_nothing_when_image_is_gone(self):
        self.repo.image = None
        self.revert()


class TestFailedImportFlow(PluginTestBase):
    """Plugin flows run by taskflow the way Glance runs them."""

    def run_import(self, *plugin_flows):
        self.start_import()
        flow = lf.Flow(fakes.TASK_TYPE, retry=retry.AlwaysRevert())
        flow.add(*plugin_flows)
        return self.assertRaises(
            errors.ImportFailed, engines.run, flow,
            store={'file_path': self.staged_uri})

    def test_failing_plugin_restores_image(self):
        exc = self.run_import(plugin.build_flow(
            'only', self.kwargs, lambda p: [SetsFormatAndProperty(p),
                                            Fails(p)]))
        self.assertEqual('only: refused the data', str(exc))
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual({IMPORTING_STORES: ''}, self.repo.properties)

    # BUG (glance_import_ext/common/plugin.py RestoreImportStatus.revert
    # with common/task.py ImageTask._restore line 118): this test fails.
    # Taskflow reverts in reverse order, so the second plugin's
    # RestoreImportStatus puts the image back to 'uploading' before the
    # first plugin's task restores disk_format; Glance's Image refuses
    # to change disk_format unless the image is queued or importing, the
    # revert raises Forbidden, the import fails with that instead of the
    # plugin's message, and disk_format and the property stay changed.
    def test_failing_second_plugin_restores_first_plugins_changes(self):
        exc = self.run_import(
            plugin.build_flow('first', self.kwargs,
                              lambda p: [SetsFormatAndProperty(p)]),
            plugin.build_flow('second', self.kwargs, lambda p: [Fails(p)]))
        self.assertEqual('second: refused the data', str(exc))
        self.assertEqual('uploading', self.repo.image.status)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual({IMPORTING_STORES: ''}, self.repo.properties)

    def test_lost_lock_keeps_failure(self):
        exc = self.assertRaises(
            exception.TaskAbortedError, engines.run,
            plugin.build_flow('only', self.kwargs, lambda p: [Noop(p)]),
            store={'file_path': self.staged_uri})
        self.assertIsInstance(exc, exception.TaskAbortedError)
