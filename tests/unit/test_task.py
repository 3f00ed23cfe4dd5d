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

"""ImageTask: journalled image changes, exact revert, error wrapping."""

from unittest import mock

import fixtures
from glance.common import exception
import testtools

from glance_import_ext.common import errors
from glance_import_ext.common import task as image_task
from tests.unit import fakes


class RunsGiven(image_task.ImageTask):
    """An ImageTask whose run() calls the function it was given."""

    def __init__(self, plugin, func=None):
        self.func = func
        super().__init__(plugin)

    def run(self):
        return self.func()


class ImageTaskTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger())
        self.repo = fakes.FakeImageRepo(fakes.make_image(
            properties={'kept': 'k0', 'changed': 'c0'}))
        self.plugin = fakes.make_plugin(self.repo)
        self.task = RunsGiven(self.plugin)


class TestUpdateImage(ImageTaskTestBase):

    def test_sets_properties_and_saves_once(self):
        self.task.update_image({'changed': 'c1', 'new': 'n1'})
        self.assertEqual({'kept': 'k0', 'changed': 'c1', 'new': 'n1'},
                         self.repo.properties)
        self.assertEqual(['importing'], self.repo.saves)

    def test_journals_previous_value_or_absence(self):
        self.task.update_image({'changed': 'c1', 'new': 'n1'})
        self.assertEqual({('property', 'changed'): 'c0',
                          ('property', 'new'): image_task._ABSENT},
                         self.task.changed)

    def test_second_change_keeps_first_original(self):
        self.task.update_image({'changed': 'c1'})
        self.task.update_image({'changed': 'c2'})
        self.assertEqual('c2', self.repo.properties['changed'])
        self.assertEqual({('property', 'changed'): 'c0'}, self.task.changed)

    def test_remove_journals_and_pops(self):
        self.task.update_image(remove=['changed'])
        self.assertNotIn('changed', self.repo.properties)
        self.assertEqual({('property', 'changed'): 'c0'}, self.task.changed)

    def test_attributes_are_set_and_journalled(self):
        self.task.update_image(disk_format='qcow2', container_format='ovf')
        self.assertEqual('qcow2', self.repo.image.disk_format)
        self.assertEqual('ovf', self.repo.image.container_format)
        self.assertEqual({('attribute', 'disk_format'): 'raw',
                          ('attribute', 'container_format'): 'bare'},
                         self.task.changed)

    def test_reserved_property_is_refused(self):
        for kwargs in ({'properties': {'os_glance_x': '1'}},
                       {'remove': ['os_glance_import_task']}):
            self.assertRaises(ValueError, self.task.update_image, **kwargs)
        self.assertEqual([], self.repo.saves)
        self.assertEqual({}, self.task.changed)

    def test_other_attribute_is_refused(self):
        self.assertRaises(ValueError, self.task.update_image, status='active')
        self.assertEqual([], self.repo.saves)

    def test_lost_lock_raises_task_aborted_and_saves_nothing(self):
        self.repo.steal_lock()
        self.assertRaises(exception.TaskAbortedError,
                          self.task.update_image, {'changed': 'c1'})
        self.assertEqual([], self.repo.saves)
        self.assertEqual('c0', self.repo.properties['changed'])


class TestRevert(ImageTaskTestBase):

    def test_restores_previous_values_and_pops_added_keys(self):
        self.task.update_image({'changed': 'c1', 'new': 'n1'})
        self.task.update_image({'changed': 'c2'})
        self.task.revert()
        self.assertEqual({'kept': 'k0', 'changed': 'c0'}, self.repo.properties)

    def test_restores_removed_key(self):
        self.task.update_image(remove=['changed'])
        self.task.revert()
        self.assertEqual('c0', self.repo.properties['changed'])

    def test_restores_attributes(self):
        self.task.update_image(disk_format='qcow2', container_format='ovf')
        self.task.revert()
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual('bare', self.repo.image.container_format)

    def test_leaves_changes_of_others_alone(self):
        self.task.update_image({'changed': 'c1'})
        self.repo.change_behind_our_back(kept='by-someone-else')
        self.task.revert()
        self.assertEqual({'kept': 'by-someone-else', 'changed': 'c0'},
                         self.repo.properties)

    def test_clears_journal_after_restoring(self):
        self.task.update_image({'changed': 'c1'})
        self.task.revert()
        self.assertEqual({}, self.task.changed)

    def test_empty_journal_does_not_touch_image(self):
        wrapper = mock.MagicMock()
        self.plugin.action_wrapper = wrapper
        self.task.revert()
        self.assertEqual([], wrapper.mock_calls)
        self.assertEqual([], self.repo.saves)

    def test_lost_lock_logs_and_does_not_raise(self):
        self.task.update_image({'changed': 'c1'})
        self.repo.steal_lock()
        self.task.revert()
        self.assertEqual('c1', self.repo.properties['changed'])
        self.assertEqual(1, len(self.repo.saves))
        self.assertIn('another import task holds its lock',
                      self.logger.output)

    def test_image_gone_does_not_raise(self):
        self.task.update_image({'changed': 'c1'})
        self.repo.image = None
        self.task.revert()
        self.assertIn('is gone, nothing to restore', self.logger.output)


class TestExecute(ImageTaskTestBase):

    def test_returns_result_of_run(self):
        self.task.func = lambda: 42
        self.assertEqual(42, self.task.execute())

    def test_wraps_unexpected_error_into_import_failed(self):
        self.task.func = mock.Mock(side_effect=KeyError('boom'))
        exc = self.assertRaises(errors.ImportFailed, self.task.execute)
        self.assertTrue(str(exc).startswith(
            fakes.PLUGIN_NAME + ': unexpected error'), str(exc))
        self.assertIn('KeyError', str(exc))

    def test_import_failed_passes_through_unchanged(self):
        failure = errors.ImportFailed(fakes.PLUGIN_NAME, 'declared wrong')
        self.task.func = mock.Mock(side_effect=failure)
        exc = self.assertRaises(errors.ImportFailed, self.task.execute)
        self.assertIs(failure, exc)
        self.assertEqual(fakes.PLUGIN_NAME + ': declared wrong', str(exc))

    def test_task_aborted_passes_through_unchanged(self):
        aborted = exception.TaskAbortedError()
        self.task.func = mock.Mock(side_effect=aborted)
        exc = self.assertRaises(exception.TaskAbortedError, self.task.execute)
        self.assertIs(aborted, exc)

    def test_failure_is_a_glance_upload_exception(self):
        # Glance copies only an UploadException's text into the task message.
        self.assertIsInstance(self.task.failure('x'),
                              exception.UploadException)


class TestPreExecute(ImageTaskTestBase):

    def test_passes_while_we_hold_the_lock(self):
        self.task.checks_lock_first = True
        self.task.pre_execute()

    def test_raises_when_lock_is_lost(self):
        self.task.checks_lock_first = True
        self.repo.steal_lock()
        self.assertRaises(exception.TaskAbortedError, self.task.pre_execute)

    def test_tasks_that_start_no_long_work_read_nothing(self):
        # Their changes check the lock through Glance's wrapper anyway.
        self.repo.steal_lock()
        self.task.pre_execute()


class TestNaming(ImageTaskTestBase):

    def test_name_is_unique_per_plugin_class_and_task(self):
        self.assertEqual(
            '%s-%s-RunsGiven-%s' % (fakes.TASK_TYPE, fakes.PLUGIN_NAME,
                                    fakes.TASK_ID),
            self.task.name)
