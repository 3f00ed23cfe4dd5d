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

"""metadata_copy: choosing keys, its options, and the copying task."""

import datetime

import fixtures
from glance import domain
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from taskflow import engines
from taskflow.patterns import linear_flow as lf
from taskflow import retry
import testtools

from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import plugin
from glance_import_ext.common import source
from glance_import_ext.common import task as image_task
from glance_import_ext.plugins import metadata_copy
from tests.unit import fakes

NAME = metadata_copy.NAME
SOURCE_ID = '99999999-8888-7777-6666-555555555555'
DEFAULT_PREFIXES = ['hw_', 'trait:', 'os_distro', 'os_secure_boot',
                    'os_type']


class TestSelect(testtools.TestCase):

    PROPERTIES = {
        'hw_disk_bus': 'virtio', 'hw_firmware_type': 'uefi',
        'trait:CUSTOM_X': 'required', 'trait:HW_CPU_X86_AVX': 'required',
        'os_distro': 'ubuntu', 'os_type': 'linux', 'os_require_quiesce': 'y',
        'description': 'not selected', 'owner_specified.openstack.md5': 'x',
        'os_glance_import_task': 'lock', 'os_glance_failed_import': 'ceph',
    }

    def select(self, prefixes, excludes=()):
        return metadata_copy.select(self.PROPERTIES, prefixes, excludes)

    def test_default_prefixes(self):
        self.assertEqual(
            {'hw_disk_bus': 'virtio', 'hw_firmware_type': 'uefi',
             'trait:CUSTOM_X': 'required', 'trait:HW_CPU_X86_AVX': 'required',
             'os_distro': 'ubuntu', 'os_type': 'linux'},
            self.select(DEFAULT_PREFIXES))

    def test_prefix_with_colon(self):
        self.assertEqual({'trait:CUSTOM_X': 'required'},
                         self.select(['trait:CUSTOM_']))

    def test_whole_key_as_prefix(self):
        self.assertEqual({'trait:CUSTOM_X': 'required'},
                         self.select(['trait:CUSTOM_X']))

    def test_prefix_is_not_a_substring_match(self):
        self.assertEqual({}, self.select(['disk_bus', 'CUSTOM']))

    def test_match_is_case_sensitive(self):
        self.assertEqual({}, self.select(['HW_', 'Trait:']))

    def test_no_prefixes_select_nothing(self):
        self.assertEqual({}, self.select([]))

    def test_exclude_prefixes(self):
        self.assertEqual(
            {'hw_disk_bus': 'virtio', 'trait:HW_CPU_X86_AVX': 'required'},
            self.select(['hw_', 'trait:'],
                        ['hw_firmware', 'trait:CUSTOM_']))

    def test_exclude_wins_over_a_longer_prefix(self):
        self.assertEqual({}, self.select(['trait:CUSTOM_X'], ['trait:']))

    def test_never_os_glance_keys(self):
        self.assertEqual(
            {'os_distro': 'ubuntu', 'os_type': 'linux',
             'os_require_quiesce': 'y'},
            self.select(['os_']))

    def test_never_os_glance_keys_even_when_named(self):
        self.assertEqual({}, self.select(['os_glance_', 'os_glance_import']))

    def test_does_not_change_its_input(self):
        before = dict(self.PROPERTIES)
        self.select(['hw_'], ['hw_disk'])
        self.assertEqual(before, self.PROPERTIES)


class TestPlan(testtools.TestCase):

    SELECTED = {'hw_disk_bus': 'virtio', 'os_distro': 'ubuntu',
                'trait:CUSTOM_X': 'required'}
    BEFORE = {'hw_disk_bus': 'ide',  # differs from the source
              'os_distro': 'ubuntu',  # same as the source
              'name_of_mine': 'x'}

    def test_keep_target_keeps_a_differing_value(self):
        writes, copied = metadata_copy.plan(self.SELECTED, self.BEFORE,
                                            'keep-target')
        self.assertNotIn('hw_disk_bus', writes)
        self.assertNotIn('hw_disk_bus', copied)

    def test_keep_target_plan(self):
        self.assertEqual(
            ({'os_distro': 'ubuntu', 'trait:CUSTOM_X': 'required'},
             ['os_distro', 'trait:CUSTOM_X']),
            metadata_copy.plan(self.SELECTED, self.BEFORE, 'keep-target'))

    def test_use_source_writes_a_differing_value(self):
        self.assertEqual(
            (self.SELECTED, ['hw_disk_bus', 'os_distro', 'trait:CUSTOM_X']),
            metadata_copy.plan(self.SELECTED, self.BEFORE, 'use-source'))

    def test_equal_values_count_as_copied(self):
        for on_conflict in ('keep-target', 'use-source'):
            writes, copied = metadata_copy.plan(
                {'os_distro': 'ubuntu'}, {'os_distro': 'ubuntu'},
                on_conflict)
            self.assertEqual(['os_distro'], copied)
            self.assertEqual('ubuntu', writes.get('os_distro', 'ubuntu'))

    def test_absent_keys_are_written(self):
        for on_conflict in ('keep-target', 'use-source'):
            self.assertEqual(
                (self.SELECTED, sorted(self.SELECTED)),
                metadata_copy.plan(self.SELECTED, {}, on_conflict))

    def test_copied_keys_are_sorted(self):
        writes, copied = metadata_copy.plan(
            {'z': '1', 'a': '2', 'm': '3'}, {}, 'keep-target')
        self.assertEqual(['a', 'm', 'z'], copied)

    def test_nothing_selected(self):
        self.assertEqual(({}, []), metadata_copy.plan({}, self.BEFORE,
                                                      'keep-target'))


class TestOptions(testtools.TestCase):

    def load(self, **raw):
        """The plugin's options as read from a config file with ``raw``."""
        conf = cfg.ConfigOpts()
        conf.register_opts(metadata_copy.metadata_copy_opts, group=NAME)
        self.useFixture(config_fixture.Config(conf)).load_raw_values(
            group=NAME, **raw)
        return conf[NAME]

    def assertConfigError(self, fragment, **raw):
        exc = self.assertRaises(errors.ConfigError,
                                metadata_copy.check_prefixes,
                                self.load(**raw))
        self.assertIn(fragment, str(exc))
        return exc

    def test_defaults_pass(self):
        conf = self.load()
        metadata_copy.check_prefixes(conf)
        self.assertEqual(DEFAULT_PREFIXES, conf.extra_properties_prefixes)
        self.assertEqual([], conf.exclude_prefixes)
        self.assertEqual(['glance-download'], conf.sync_formats)
        self.assertFalse(conf.copy_tags)
        self.assertEqual('keep-target', conf.on_conflict)

    def test_empty_prefix_in_extra_properties_prefixes(self):
        exc = self.assertConfigError(
            'option [metadata_copy] extra_properties_prefixes has an empty '
            'prefix', extra_properties_prefixes='hw_,,trait:')
        self.assertIn('matches every key', str(exc))

    def test_leading_empty_prefix(self):
        self.assertConfigError(
            '[metadata_copy] extra_properties_prefixes has an empty prefix',
            extra_properties_prefixes=',hw_')

    def test_empty_prefix_in_exclude_prefixes(self):
        self.assertConfigError(
            'option [metadata_copy] exclude_prefixes has an empty prefix',
            exclude_prefixes='hw_video,,trait:')

    def test_empty_prefix_in_bracketed_form(self):
        self.assertConfigError(
            '[metadata_copy] exclude_prefixes has an empty prefix',
            exclude_prefixes='[,hw_video]')

    def test_os_glance_prefix_is_refused(self):
        for prefix in ('os_glance', 'os_glance_', 'os_glance_import'):
            exc = self.assertConfigError(
                'option [metadata_copy] extra_properties_prefixes has %r'
                % prefix, extra_properties_prefixes='hw_,' + prefix)
            self.assertIn('reserved by Glance', str(exc))

    def test_os_prefix_is_fine(self):
        metadata_copy.check_prefixes(self.load(
            extra_properties_prefixes='os_,hw_'))

    def test_os_glance_may_be_excluded(self):
        metadata_copy.check_prefixes(self.load(exclude_prefixes='os_glance_'))

    def test_empty_lists_are_fine(self):
        conf = self.load(extra_properties_prefixes='', exclude_prefixes='[]')
        metadata_copy.check_prefixes(conf)
        self.assertEqual([], conf.extra_properties_prefixes)
        self.assertEqual([], conf.exclude_prefixes)

    def test_bracketed_and_plain_lists_are_equal(self):
        plain = self.load(extra_properties_prefixes='hw_,trait:CUSTOM_X',
                          exclude_prefixes='hw_video, os_type',
                          sync_formats='glance-direct,web-download')
        bracketed = self.load(
            extra_properties_prefixes='[hw_,trait:CUSTOM_X]',
            exclude_prefixes=' [hw_video, os_type] ',
            sync_formats='[glance-direct, web-download]')
        for opt in ('extra_properties_prefixes', 'exclude_prefixes',
                    'sync_formats'):
            self.assertEqual(getattr(plain, opt), getattr(bracketed, opt))
        self.assertEqual(['hw_', 'trait:CUSTOM_X'],
                         bracketed.extra_properties_prefixes)
        self.assertEqual(['hw_video', 'os_type'], bracketed.exclude_prefixes)
        self.assertEqual(['glance-direct', 'web-download'],
                         bracketed.sync_formats)

    # Glance's own list options take quoted items: ['os_', 'arch'].
    def test_glance_quoted_list_form_is_the_same_list(self):
        conf = self.load(extra_properties_prefixes="['hw_', 'trait:']")
        self.assertEqual(['hw_', 'trait:'], conf.extra_properties_prefixes)

    def test_invalid_sync_formats_choice(self):
        conf = self.load(sync_formats='glance-direct,copy-image')
        self.assertRaises(ValueError, getattr, conf, 'sync_formats')


def source_image(status='active', properties=None, tags=('a', 'b')):
    now = datetime.datetime(2024, 1, 1)
    return domain.Image(
        SOURCE_ID, status, now, now,
        extra_properties=properties if properties is not None else {
            'hw_disk_bus': 'virtio', 'hw_firmware_type': 'uefi',
            'trait:CUSTOM_X': 'required', 'os_distro': 'ubuntu',
            'description': 'not selected', 'os_glance_import_task': 'x'},
        tags=set(tags), disk_format='qcow2', container_format='ovf',
        size=1024)


class Fails(image_task.ImageTask):

    def run(self):
        raise self.failure('refused the data')


class CopyMetadataTestBase(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.repo = fakes.FakeImageRepo(fakes.make_image(
            properties={metadata_copy.SOURCE_PROPERTY: SOURCE_ID,
                        'hw_disk_bus': 'ide',  # differs from the source
                        'os_distro': 'ubuntu',  # same as the source
                        'untouched': 'u'},
            tags={'b', 'c'}))
        self.source_repo = fakes.FakeImageRepo(source_image())
        self.before = self.stored_state()

    def kwargs(self, method='glance-direct', **method_args):
        kwargs = fakes.plugin_kwargs(self.repo, method=method)
        kwargs['import_req']['method'].update(method_args)
        # Glance's action wrapper and plugin.image_repo use the admin repo;
        # the caller's own repo is where a local source is read.
        kwargs['admin_repo'] = self.repo
        kwargs['image_repo'] = self.source_repo
        return kwargs

    def tasks(self, method='glance-direct', **method_args):
        return metadata_copy._tasks(
            plugin.PluginContext(NAME, self.kwargs(method, **method_args)))

    def copy(self, method='glance-direct', **method_args):
        [task] = self.tasks(method, **method_args)
        self.assertIsInstance(task, metadata_copy.CopyMetadata)
        task.execute()
        return task

    def stored_state(self):
        image = self.repo.image
        return (dict(image.extra_properties), set(image.tags),
                image.disk_format, image.container_format, image.status)


class TestCopyMetadata(CopyMetadataTestBase):

    def test_copies_selected_properties_and_records_provenance(self):
        self.copy()
        self.assertEqual(
            {metadata_copy.SOURCE_PROPERTY: SOURCE_ID,
             'hw_disk_bus': 'ide',
             'hw_firmware_type': 'uefi',
             'trait:CUSTOM_X': 'required',
             'os_distro': 'ubuntu',
             'untouched': 'u',
             metadata_copy.SOURCE_IMAGE: SOURCE_ID,
             metadata_copy.COPIED: 'hw_firmware_type,os_distro,'
                                   'trait:CUSTOM_X'},
            self.repo.properties)
        self.assertNotIn(metadata_copy.SOURCE_REGION, self.repo.properties)

    def test_reads_the_source_through_the_callers_repo(self):
        self.source_repo.image = source_image(properties={'hw_a': '1'})
        self.copy()
        self.assertEqual('1', self.repo.properties['hw_a'])

    def test_lock_is_untouched(self):
        self.copy()
        self.assertEqual(
            fakes.TASK_ID, self.repo.image.extra_properties[fakes.LOCK_KEY])

    def test_use_source_replaces_the_targets_value(self):
        self.conf.config(group=NAME, on_conflict='use-source')
        self.copy()
        self.assertEqual('virtio', self.repo.properties['hw_disk_bus'])
        self.assertEqual('hw_disk_bus,hw_firmware_type,os_distro,'
                         'trait:CUSTOM_X',
                         self.repo.properties[metadata_copy.COPIED])

    def test_nothing_selected_still_records_the_source(self):
        self.conf.config(group=NAME, extra_properties_prefixes=['nope_'])
        self.copy()
        self.assertEqual(SOURCE_ID,
                         self.repo.properties[metadata_copy.SOURCE_IMAGE])
        self.assertEqual('', self.repo.properties[metadata_copy.COPIED])

    def test_exclude_prefixes(self):
        self.conf.config(group=NAME, exclude_prefixes=['trait:'])
        self.copy()
        self.assertNotIn('trait:CUSTOM_X', self.repo.properties)

    def test_formats_and_tags_are_left_alone_by_default(self):
        self.copy()
        self.assertEqual({'b', 'c'}, self.repo.image.tags)
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual('bare', self.repo.image.container_format)

    def test_revert_restores_the_image_exactly(self):
        self.conf.config(group=NAME, on_conflict='use-source')
        task = self.copy()
        self.assertEqual('virtio', self.repo.properties['hw_disk_bus'])
        task.revert()
        self.assertEqual(self.before, self.stored_state())
        self.assertEqual('ide', self.repo.properties['hw_disk_bus'])
        self.assertNotIn('hw_firmware_type', self.repo.properties)
        self.assertNotIn(metadata_copy.SOURCE_IMAGE, self.repo.properties)
        self.assertNotIn(metadata_copy.COPIED, self.repo.properties)
        self.assertEqual('u', self.repo.properties['untouched'])
        self.assertEqual(SOURCE_ID, self.repo.properties[
            metadata_copy.SOURCE_PROPERTY])

    def test_revert_keeps_changes_made_by_others_to_other_keys(self):
        task = self.copy()
        self.repo.change_behind_our_back(set_meanwhile='m')
        task.revert()
        self.assertEqual('m', self.repo.properties['set_meanwhile'])
        self.assertNotIn('hw_firmware_type', self.repo.properties)

    def test_copy_tags(self):
        self.conf.config(group=NAME, copy_tags=True)
        task = self.copy()
        self.assertEqual({'a', 'b', 'c'}, self.repo.image.tags)
        task.revert()
        self.assertEqual({'b', 'c'}, self.repo.image.tags)
        self.assertEqual(self.before, self.stored_state())

    def test_sync_formats_for_the_method(self):
        self.conf.config(group=NAME, sync_formats=['glance-direct'])
        task = self.copy()
        self.assertEqual('qcow2', self.repo.image.disk_format)
        self.assertEqual('ovf', self.repo.image.container_format)
        task.revert()
        self.assertEqual('raw', self.repo.image.disk_format)
        self.assertEqual('bare', self.repo.image.container_format)
        self.assertEqual(self.before, self.stored_state())

    def test_sync_formats_for_other_methods_only(self):
        self.conf.config(group=NAME, sync_formats=['web-download',
                                                   'glance-download'])
        self.copy()
        self.assertEqual('raw', self.repo.image.disk_format)

    def assertFailsCopyingNothing(self, fragment):
        [task] = self.tasks()
        saves = len(self.repo.saves)
        exc = self.assertRaises(errors.ImportFailed, task.execute)
        self.assertTrue(str(exc).startswith('metadata_copy: '), exc)
        self.assertTrue(str(exc).endswith('; nothing was copied'), exc)
        self.assertIn(fragment, str(exc))
        self.assertEqual(saves, len(self.repo.saves))
        self.assertEqual(self.before, self.stored_state())
        self.assertEqual({}, task.changed)
        task.revert()
        self.assertEqual(self.before, self.stored_state())
        return exc

    def test_source_not_found(self):
        self.source_repo.image = None
        exc = self.assertFailsCopyingNothing('not found, or not visible')
        self.assertEqual('metadata_copy: source image %s not found, or not '
                         'visible to you; nothing was copied' % SOURCE_ID,
                         str(exc))

    def test_source_not_active(self):
        self.source_repo.image = source_image(status='queued')
        self.assertFailsCopyingNothing(
            'source image %s is queued, not active' % SOURCE_ID)

    def test_any_source_error(self):
        self.useFixture(fixtures.MockPatchObject(
            source, 'read_local_image',
            side_effect=source.SourceError('it went wrong')))
        exc = self.assertFailsCopyingNothing('it went wrong')
        self.assertEqual('metadata_copy: it went wrong; nothing was copied',
                         str(exc))

    def test_glance_download_reads_the_remote_source(self):
        read = self.useFixture(fixtures.MockPatchObject(
            source, 'read_remote_image', return_value=source.SourceImage(
                SOURCE_ID, 'active', {'hw_disk_bus': 'scsi', 'hw_x': '1'},
                tags=['t'], disk_format='qcow2', container_format='ovf',
                region='RegionTwo'))).mock
        kwargs = self.kwargs('glance-download', glance_region='RegionTwo',
                             glance_image_id=SOURCE_ID,
                             glance_service_interface='internal')
        kwargs['context'] = context = object()
        [task] = metadata_copy._tasks(plugin.PluginContext(NAME, kwargs))
        task.execute()
        read.assert_called_once_with(context, 'RegionTwo', SOURCE_ID,
                                     'internal')
        props = self.repo.properties
        self.assertEqual('RegionTwo', props[metadata_copy.SOURCE_REGION])
        self.assertEqual(SOURCE_ID, props[metadata_copy.SOURCE_IMAGE])
        self.assertEqual('hw_x', props[metadata_copy.COPIED])
        self.assertEqual('ide', props['hw_disk_bus'])
        # sync_formats defaults to glance-download.
        self.assertEqual('qcow2', self.repo.image.disk_format)
        self.assertEqual('ovf', self.repo.image.container_format)
        task.revert()
        self.assertEqual(self.before, self.stored_state())

    def test_glance_download_default_interface_is_public(self):
        read = self.useFixture(fixtures.MockPatchObject(
            source, 'read_remote_image',
            side_effect=source.SourceError('x'))).mock
        [task] = self.tasks('glance-download', glance_region='RegionTwo',
                            glance_image_id=SOURCE_ID)
        self.assertRaises(errors.ImportFailed, task.execute)
        self.assertEqual('public', read.call_args[0][3])


class TestTasks(CopyMetadataTestBase):

    def test_glance_direct_without_source_property_has_no_tasks(self):
        self.repo.image.extra_properties.pop(metadata_copy.SOURCE_PROPERTY)
        self.assertEqual([], self.tasks())
        self.assertEqual([], self.tasks('web-download'))

    def test_empty_source_property_has_no_tasks(self):
        self.repo.change_behind_our_back(
            **{metadata_copy.SOURCE_PROPERTY: ''})
        self.assertEqual([], self.tasks())

    def test_flow_without_source_property_only_records_the_run(self):
        self.repo.image.extra_properties.pop(metadata_copy.SOURCE_PROPERTY)
        flow = metadata_copy.get_flow(**self.kwargs())
        self.assertEqual(
            [guards.RestoreStagedStatus, plugin.RecordPluginRun,
             dry_run.FinishDryRun],
            [type(node) for node, _ in flow.iter_nodes()])

    def test_web_download_with_source_property(self):
        [task] = self.tasks('web-download')
        self.assertIsInstance(task, metadata_copy.CopyMetadata)
        self.assertEqual(SOURCE_ID, task.local_source_id)

    def test_glance_download_needs_no_source_property(self):
        self.repo.image.extra_properties.pop(metadata_copy.SOURCE_PROPERTY)
        [task] = self.tasks('glance-download', glance_region='RegionTwo',
                            glance_image_id=SOURCE_ID)
        self.assertIsInstance(task, metadata_copy.CopyMetadata)
        self.assertIsNone(task.local_source_id)

    def test_target_before_is_taken_when_the_flow_is_built(self):
        [task] = self.tasks()
        self.repo.change_behind_our_back(hw_firmware_type='bios')
        self.assertNotIn('hw_firmware_type', task.target_before)
        self.assertEqual('ide', task.target_before['hw_disk_bus'])

    def test_source_property_that_is_not_an_image_id(self):
        self.repo.change_behind_our_back(
            **{metadata_copy.SOURCE_PROPERTY: 'my-golden-image'})
        [refuse] = self.tasks()
        self.assertIsInstance(refuse, plugin.RefuseToRun)
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertTrue(str(exc).startswith('metadata_copy: '), exc)
        self.assertIn("property copy_metadata_from='my-golden-image' is not "
                      "an image id", str(exc))

    def test_bad_prefix_option_refuses_to_run(self):
        self.conf.load_raw_values(group=NAME,
                                  extra_properties_prefixes='hw_,,os_type')
        flow = metadata_copy.get_flow(**self.kwargs())
        restore, refuse = [node for node, _ in flow.iter_nodes()]
        self.assertIsInstance(restore, guards.RestoreStagedStatus)
        self.assertIsInstance(refuse, plugin.RefuseToRun)
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertIn('metadata_copy: option [metadata_copy] '
                      'extra_properties_prefixes has an empty prefix',
                      str(exc))

    def test_reserved_prefix_option_refuses_to_run(self):
        self.conf.load_raw_values(group=NAME,
                                  extra_properties_prefixes='[hw_,os_glance_]')
        _, refuse = self.tasks_of_flow('web-download')
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertIn('reserved by Glance', str(exc))

    def test_invalid_sync_formats_refuses_to_run(self):
        self.conf.load_raw_values(group=NAME, sync_formats='copy-image')
        _, refuse = self.tasks_of_flow('web-download')
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertIn('option [metadata_copy] sync_formats has an invalid '
                      'value', str(exc))

    def tasks_of_flow(self, method):
        flow = metadata_copy.get_flow(**self.kwargs(method))
        return [node for node, _ in flow.iter_nodes()]


class TestImportFlow(CopyMetadataTestBase):
    """metadata_copy's flow run and reverted by taskflow as Glance does."""

    def run_import(self, *flows):
        flow = lf.Flow(fakes.TASK_TYPE, retry=retry.AlwaysRevert())
        flow.add(*flows)
        return engines.run(flow)

    def test_copies_and_records_the_run(self):
        self.run_import(metadata_copy.get_flow(**self.kwargs('web-download')))
        self.assertEqual('uefi', self.repo.properties['hw_firmware_type'])
        self.assertEqual(NAME,
                         self.repo.properties[plugin.TRAIL_PROPERTY])

    def test_a_later_failure_reverts_the_copy(self):
        self.conf.config(group=NAME, copy_tags=True,
                         on_conflict='use-source',
                         sync_formats=['web-download'])
        kwargs = self.kwargs('web-download')
        exc = self.assertRaises(
            errors.ImportFailed, self.run_import,
            metadata_copy.get_flow(**kwargs),
            plugin.build_flow('second', kwargs, lambda p: [Fails(p)]))
        self.assertEqual('second: refused the data', str(exc))
        self.assertEqual(self.before, self.stored_state())

    def test_source_error_fails_the_import(self):
        self.source_repo.image = None
        exc = self.assertRaises(
            errors.ImportFailed, self.run_import,
            metadata_copy.get_flow(**self.kwargs('web-download')))
        self.assertTrue(str(exc).startswith('metadata_copy: source image '))
        self.assertTrue(str(exc).endswith('; nothing was copied'))
        self.assertEqual(self.before, self.stored_state())
