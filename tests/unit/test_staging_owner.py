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

"""staging_owner: the staged data is here, and where it was staged."""

import os

import fixtures
from taskflow import engines
from taskflow.patterns import linear_flow as lf
from taskflow import retry

from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import plugin
from glance_import_ext.common import task as image_task
from glance_import_ext.common import workers
from glance_import_ext.plugins import staging_owner
from tests.unit import fakes

NAME = staging_owner.NAME
STAGED_ON = staging_owner.STAGED_ON
IMPORTED_ON = staging_owner.IMPORTED_ON
HERE = 'http://glance-a.example.com:9292'
THERE = 'http://glance-b.example.com:9292'
DATA = b'the staged image data'


class StagingOwnerTestBase(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.this_worker = self.useFixture(fixtures.MockPatchObject(
            workers, 'this_worker', return_value=HERE)).mock
        # Where Glance stages glance-direct data: <staging dir>/<image id>.
        staging_dir = self.useFixture(fixtures.TempDir()).path
        self.conf.config(node_staging_uri='file://' + staging_dir)
        self.staged_path = os.path.join(staging_dir, fakes.IMAGE_ID)
        with open(self.staged_path, 'wb') as f:
            f.write(DATA)
        self.staged_uri = 'file://' + self.staged_path
        self.repo = fakes.FakeImageRepo(fakes.make_image(
            properties={'name': 'cirros'}, size=len(DATA)))


class TestCheckStagedHere(StagingOwnerTestBase):

    def check(self, stage_host=THERE, staged_size=len(DATA), file_uri=None):
        self.task = staging_owner.CheckStagedHere(
            fakes.make_plugin(self.repo, NAME), stage_host, staged_size)
        return self.task.execute(file_path=file_uri or self.staged_uri)

    def check_fails(self, *args, **kwargs):
        exc = self.assertRaises(errors.ImportFailed, self.check, *args,
                                **kwargs)
        self.assertTrue(str(exc).startswith(NAME + ': '), exc)
        self.assertEqual({'name': 'cirros'}, self.repo.properties)
        self.assertEqual([], self.repo.saves)
        return str(exc)

    def test_missing_file_names_both_workers(self):
        message = self.check_fails(file_uri=self.staged_uri + '.gone')
        self.assertIn(fakes.IMAGE_ID, message)
        self.assertIn('not on this worker (%s)' % HERE, message)
        self.assertIn('staged on %s' % THERE, message)

    def test_missing_file_with_unnamed_workers(self):
        self.this_worker.return_value = None
        message = self.check_fails(stage_host=None,
                                   file_uri=self.staged_uri + '.gone')
        self.assertIn('not on this worker (unnamed)', message)
        self.assertIn('staged on an unknown worker', message)

    def test_directory_instead_of_file_counts_as_missing(self):
        message = self.check_fails(
            file_uri='file://' + self.useFixture(fixtures.TempDir()).path)
        self.assertIn('not on this worker', message)

    def test_size_mismatch_names_both_sizes(self):
        message = self.check_fails(staged_size=len(DATA) + 10)
        self.assertIn(fakes.IMAGE_ID, message)
        self.assertIn('has %d bytes' % len(DATA), message)
        self.assertIn('but %d were staged' % (len(DATA) + 10), message)

    def test_non_local_file_path_fails_the_import(self):
        message = self.check_fails(file_uri='rbd://pool/image')
        self.assertIn('unexpected error ValueError', message)

    def test_size_not_checked_without_staged_size(self):
        self.check(staged_size=None)
        self.assertEqual(THERE, self.repo.properties[STAGED_ON])

    def test_records_staging_and_importing_worker(self):
        self.check()
        self.assertEqual({'name': 'cirros', STAGED_ON: THERE,
                          IMPORTED_ON: HERE}, self.repo.properties)
        self.assertEqual(['importing'], self.repo.saves)

    def test_staged_here_when_no_stage_host(self):
        self.check(stage_host=None)
        self.assertEqual({'name': 'cirros', STAGED_ON: HERE,
                          IMPORTED_ON: HERE}, self.repo.properties)

    def test_stage_host_recorded_though_this_worker_unnamed(self):
        self.this_worker.return_value = None
        self.check()
        self.assertEqual({'name': 'cirros', STAGED_ON: THERE},
                         self.repo.properties)

    def test_nothing_recorded_when_no_worker_is_named(self):
        self.this_worker.return_value = None
        self.check(stage_host=None)
        self.assertEqual({'name': 'cirros'}, self.repo.properties)
        self.assertEqual([], self.repo.saves)

    def test_revert_removes_the_records(self):
        self.check()
        self.task.revert()
        self.assertEqual({'name': 'cirros'}, self.repo.properties)

    def test_revert_restores_records_of_an_earlier_import(self):
        self.repo.change_behind_our_back(**{STAGED_ON: 'earlier',
                                            IMPORTED_ON: 'earlier'})
        self.check()
        self.task.revert()
        self.assertEqual({'name': 'cirros', STAGED_ON: 'earlier',
                          IMPORTED_ON: 'earlier'}, self.repo.properties)

    def test_lost_lock_records_nothing(self):
        from glance.common import exception
        self.repo.steal_lock()
        self.assertRaises(exception.TaskAbortedError, self.check)
        self.assertNotIn(STAGED_ON, self.repo.properties)


class TestTasks(StagingOwnerTestBase):

    def tasks(self, method='glance-direct'):
        return staging_owner._tasks(fakes.make_plugin(self.repo, NAME,
                                                      method=method))

    def test_reads_stage_host_and_size_for_glance_direct(self):
        self.repo.change_behind_our_back(**{workers.STAGE_HOST: THERE})
        [check] = self.tasks()
        self.assertIsInstance(check, staging_owner.CheckStagedHere)
        self.assertEqual(THERE, check.stage_host)
        self.assertEqual(len(DATA), check.staged_size)

    def test_stage_host_read_at_build_time(self):
        self.repo.change_behind_our_back(**{workers.STAGE_HOST: THERE})
        [check] = self.tasks()
        # As Glance does once the flow is built.
        self.repo.image.extra_properties.pop(workers.STAGE_HOST)
        check.execute(file_path=self.staged_uri)
        self.assertEqual(THERE, self.repo.properties[STAGED_ON])

    def test_no_stage_host(self):
        [check] = self.tasks()
        self.assertIsNone(check.stage_host)

    def test_no_staged_size_for_other_methods(self):
        for method in ('web-download', 'glance-download', 'copy-image'):
            [check] = self.tasks(method)
            self.assertIsNone(check.staged_size, method)

    def test_get_flow(self):
        flow = staging_owner.get_flow(**fakes.plugin_kwargs(self.repo))
        self.assertEqual(
            [guards.RestoreStagedStatus, staging_owner.CheckStagedHere,
             plugin.RecordPluginRun, dry_run.FinishDryRun],
            [type(node) for node, _ in flow.iter_nodes()])


class Fails(image_task.ImageTask):

    def run(self):
        raise self.failure('refused the data')


class TestFailedImport(StagingOwnerTestBase):
    """A proxied glance-direct import on the staging worker fails later."""

    def setUp(self):
        super().setUp()
        self.repo = fakes.FakeImageRepo(fakes.make_image(
            status='uploading', size=len(DATA),
            properties={workers.STAGE_HOST: HERE}))
        self.kwargs = fakes.plugin_kwargs(self.repo)

    def run_failing_import(self):
        flow = lf.Flow(fakes.TASK_TYPE, retry=retry.AlwaysRevert())
        flow.add(staging_owner.get_flow(**self.kwargs),
                 plugin.build_flow('later', self.kwargs,
                                   lambda p: [Fails(p)]))
        # What Glance does after building the flow.
        with self.kwargs['action_wrapper'] as action:
            action.set_image_attribute(status='importing')
            action.add_importing_stores(self.kwargs['backend'])
            action.pop_extra_property(workers.STAGE_HOST)
        self.assertRaises(errors.ImportFailed, engines.run, flow,
                          store={'file_path': self.staged_uri})

    def test_back_to_uploading_without_imported_on(self):
        self.run_failing_import()
        self.assertEqual('uploading', self.repo.image.status)
        self.assertNotIn(IMPORTED_ON, self.repo.properties)

    # A failed import must leave the image saying where its data is.
    def test_failed_import_still_records_the_staging_worker(self):
        self.run_failing_import()
        self.assertEqual('uploading', self.repo.image.status)
        props = self.repo.properties
        self.assertEqual(HERE, props.get(workers.STAGE_HOST) or
                         props.get(STAGED_ON))
