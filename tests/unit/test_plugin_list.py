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

import importlib.metadata
from unittest import mock

import fixtures
import testtools

from glance_import_ext.common import options
from glance_import_ext.common import plugin_list
from glance_import_ext import middleware
from tests.unit import fakes

NS = 'glance.image_import.plugins'


def ep(name, value):
    return importlib.metadata.EntryPoint(name=name, value=value, group=NS)


EPS = {
    'staging_owner': ep('staging_owner',
                        'glance_import_ext.plugins.staging_owner:get_flow'),
    'checksum_verify': ep(
        'checksum_verify',
        'glance_import_ext.plugins.checksum_verify:get_flow'),
    'image_versions': ep('image_versions',
                         'glance_import_ext.plugins.image_versions:get_flow'),
    'image_conversion': ep('image_conversion',
                           'tests.unit.test_plugin_list:fine_flow'),
    'image_decompression': ep('image_decompression',
                              'tests.unit.test_plugin_list:fine_flow'),
    'gone': ep('gone', 'tests.unit.no_such_module:get_flow'),
    'raising': ep('raising', 'tests.unit.test_plugin_list:raising_flow'),
}


def fine_flow(**kwargs):
    return 'a flow'


def raising_flow(**kwargs):
    raise RuntimeError('no flow today')


def texts(found):
    return [(p.name, p.fatal) for p in found]


class TestLoading(testtools.TestCase):

    def test_everything_installed_and_loading(self):
        self.assertEqual([], plugin_list.load_problems(
            ['staging_owner', 'checksum_verify', 'image_conversion'], EPS))

    def test_misspelt_names_say_what_was_meant(self):
        [ours, glances] = plugin_list.load_problems(
            ['checksum_verfy', 'image_convertion'], EPS)
        self.assertEqual("'checksum_verfy': no plugin of that name is "
                         'installed (did you mean checksum_verify?)',
                         str(ours))
        self.assertIn('did you mean image_conversion?', str(glances))

    def test_relaxed_only_for_other_packages(self):
        found = plugin_list.load_problems(
            ['checksum_verfy', 'image_convertion', 'something_else', 'gone'],
            EPS, require_every_plugin=False)
        self.assertEqual([('checksum_verfy', True),
                          ('image_convertion', False),
                          ('something_else', False), ('gone', False)],
                         texts(found))

    def test_module_that_does_not_import(self):
        [problem] = plugin_list.load_problems(['gone'], EPS)
        self.assertIn('gone: its module does not load '
                      '(ModuleNotFoundError', str(problem))
        self.assertTrue(problem.fatal)

    def test_get_flow_that_raises_and_the_probe_is_isolated(self):
        wrapper = object()
        kwargs = dict(image_repo='repo', image_id='i', task_id='t',
                      action_wrapper=wrapper)
        made = mock.Mock(return_value='probe wrapper')
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.glance_internals.import_action_wrapper',
            made))
        seen = []
        with mock.patch.object(importlib.metadata.EntryPoint, 'load',
                               autospec=True) as load:
            def loaded(entry):
                def get_flow(**kw):
                    seen.append((entry.name, kw['action_wrapper'],
                                 plugin_list.probing()))
                    if entry.name == 'raising':
                        raise RuntimeError('no flow today')
                return get_flow
            load.side_effect = loaded
            found = plugin_list.flow_problems(
                ['staging_owner', 'image_conversion', 'raising'], kwargs,
                EPS)
        self.assertEqual(['raising: its get_flow raised RuntimeError: no '
                          'flow today'], [str(p) for p in found])
        # The library's own get_flow is never called twice.
        self.assertEqual([('image_conversion', 'probe wrapper', True),
                          ('raising', 'probe wrapper', True)], seen)
        self.assertFalse(plugin_list.probing())


class TestOrder(testtools.TestCase):

    def order(self, *names, **kwargs):
        return [str(p) for p in plugin_list.order_problems(names, **kwargs)]

    def test_recommended_order_is_fine(self):
        self.assertEqual([], self.order(
            'staging_owner', 'metadata_copy', 'glance_download_verify',
            'manifest_verify', 'checksum_verify', 'image_conversion',
            'image_decompression', 'image_versions'))

    def test_staging_owner_first(self):
        [text] = self.order('checksum_verify', 'staging_owner')
        self.assertIn('staging_owner must be listed first: checksum_verify '
                      'before it', text)

    def test_verifying_after_data_changes_only_on_purpose(self):
        [text] = self.order('image_decompression', 'manifest_verify')
        self.assertIn('manifest_verify is listed after image_decompression',
                      text)
        self.assertIn('verify_changed_data = true', text)
        self.assertEqual([], self.order('image_decompression',
                                        'manifest_verify',
                                        verify_changed_data=True))

    def test_image_versions_after_every_check(self):
        [text] = self.order('staging_owner', 'image_versions',
                            'checksum_verify', 'manifest_verify')
        self.assertIn('after every check (checksum_verify, manifest_verify)',
                      text)

    def test_no_name_twice(self):
        [text] = self.order('checksum_verify', 'checksum_verify')
        self.assertEqual('checksum_verify is listed 2 times: list each '
                         'plugin once', text)


class ListedCase(fakes.PluginTestCase):
    """EPS installed; ``configure`` sets Glance's list and our options."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin_list.installed',
            return_value=EPS))
        self.listed = self.useFixture(fixtures.MockPatch(
            'glance_import_ext.glance_internals.image_import_plugins',
            return_value=[])).mock

    def configure(self, *names, **opts):
        self.listed.return_value = list(names)
        for name, value in opts.items():
            self.conf.config(group=options.GROUP, **{name: value})


class TestAtImportTime(ListedCase):
    """build_flow fails the import for a list that does not run."""

    def build(self, name='staging_owner'):
        from glance_import_ext.common import plugin
        repo = fakes.FakeImageRepo(fakes.make_image())
        return plugin.build_flow(name, fakes.plugin_kwargs(repo),
                                 lambda p: [])

    def names(self, flow):
        return [type(t).__name__ for t in flow]

    def test_a_good_list_builds_the_plugins_tasks(self):
        self.configure('staging_owner', 'checksum_verify')
        self.assertNotIn('RefuseToRun', self.names(self.build()))

    def test_a_bad_list_refuses_after_the_guard(self):
        self.configure('staging_owner', 'checksum_verfy')
        flow = self.build()
        self.assertEqual('RefuseToRun', self.names(flow)[1])
        reason = list(flow)[1].reason
        self.assertIn("'checksum_verfy': no plugin of that name", reason)
        self.assertIn(plugin_list.PREFLIGHT, reason)

    def test_checked_once_per_import_by_a_listed_plugin(self):
        self.configure('staging_owner', 'checksum_verfy')
        # A flow built inside another plugin's get_flow, under a name the
        # list does not have, leaves the check to the listed ones.
        self.assertNotIn('RefuseToRun', self.names(self.build('wrapped')))

    def test_relaxed_list_only_warns(self):
        self.configure('staging_owner', 'image_convertion',
                       require_every_plugin=False)
        self.assertNotIn('RefuseToRun', self.names(self.build()))


class TestFiltersRefuseImports(ListedCase):

    def setUp(self):
        super().setUp()
        self.configure('checksum_verfy')

    def answer(self, method='POST', path='/v2/images/%s/import' %
               fakes.IMAGE_ID):
        return middleware.broken_plugin_list_answer(
            {'REQUEST_METHOD': method, 'PATH_INFO': path})

    def test_import_request_refused_while_the_list_is_broken(self):
        resp = self.answer()
        self.assertEqual(500, resp.status_int)
        self.assertIn("'checksum_verfy': no plugin of that name",
                      resp.json_body['error']['message'])

    def test_other_requests_and_good_lists_pass(self):
        self.assertIsNone(self.answer(method='GET'))
        self.assertIsNone(self.answer(path='/v2/images/%s/stage' %
                                      fakes.IMAGE_ID))
        self.configure('staging_owner', 'checksum_verify')
        self.assertIsNone(self.answer())
