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

"""A plugin list that does not run as written fails every import.

Glance drops a listed name it cannot load with one WARNING, and every
import would pass without that check. Each glance-api here lists one
mistake an operator makes; its imports must fail before a byte is
stored, naming the name, the cause and the pre-flight command, and leave
the image ready for a retry once the list is fixed.
"""

import hashlib

from tests.functional import base
from tests.functional.harness import glance

BROKEN = {
    'unimportable': 'tests.functional.harness.unimportable_plugin:get_flow',
    'raising': 'tests.functional.harness.raising_plugin:get_flow'}
PREFLIGHT = 'glance-import-ext-status upgrade check'
WORKERS = {
    'typo': ['staging_owner', 'checksum_verfy'],
    'broken': ['staging_owner', 'checksum_verify', 'unimportable',
               'raising'],
    'foreign_typo': ['staging_owner', 'checksum_verify', 'image_convertion'],
    'owner_late': ['checksum_verify', 'staging_owner'],
    'verify_after_change': ['staging_owner', 'image_decompression',
                            'checksum_verify'],
    'versions_early': ['staging_owner', 'image_versions', 'checksum_verify'],
    'twice': ['staging_owner', 'checksum_verify', 'checksum_verify'],
}


class TestPluginListFailsClosed(base.CloudTestCase):
    """Eight glance-api of one region (a cloud's most), one list each."""

    @classmethod
    def build_cloud(cls, cloud):
        for name, plugins in WORKERS.items():
            cloud.add_glance(name, plugins=plugins, test_plugins=BROKEN)
        # An operator who relaxed the rule for other packages' names.
        cloud.add_glance('relaxed', plugins=WORKERS['foreign_typo'],
                         import_conf={'glance_import_ext': {
                             'require_every_plugin': 'false'}})

    def refused(self, worker, *expected):
        """Import through worker: it fails, saying expected."""
        client = self.cloud.client(worker)
        data = base.random_bytes(64 * 1024)
        image, task = self.stage_and_import(
            client, data,
            expected_digest_sha256=hashlib.sha256(data).hexdigest())
        self.assertEqual('failure', task['status'], task)
        for text in expected + (PREFLIGHT, 'image_import_plugins'):
            self.assertIn(text, task['message'])
        # Nothing stored; the staged data is kept for the retry.
        self.assertEqual('uploading', image['status'], image)
        self.assertIsNone(image['os_hash_value'])
        self.assertEqual([], image.get('stores', '').split(',') if
                         image.get('stores') else [])
        self.assertNotIn('import_ext_plugins', image)
        return task['message']

    def test_misspelt_name(self):
        self.refused('typo', "'checksum_verfy': no plugin of that name is "
                             'installed (did you mean checksum_verify?)')

    def test_module_that_does_not_import(self):
        self.refused('broken', 'unimportable: its module does not load '
                               '(ModuleNotFoundError')

    def test_get_flow_that_raises(self):
        self.refused('broken', 'raising: its get_flow raised RuntimeError: '
                               'cannot build its flow')

    def test_misspelt_name_of_glances_own_plugin(self):
        self.refused('foreign_typo', "'image_convertion': no plugin of that "
                                     'name is installed (did you mean '
                                     'image_conversion?)')

    def test_relaxed_for_other_packages_but_never_silently(self):
        client = self.cloud.client('relaxed')
        data = base.random_bytes(64 * 1024)
        image, task = self.stage_and_import(client, data)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        worker = self.cloud.workers['relaxed']
        with open(worker.log_file, errors='replace') as f:
            log = f.read()
        self.assertIn('WARNING', log)
        self.assertIn('require_every_plugin is false: imports go on without '
                      "it ('image_convertion': no plugin of that name", log)

    def test_staging_owner_not_first(self):
        self.refused('owner_late', 'staging_owner must be listed first')

    def test_verifying_after_a_plugin_that_changes_the_data(self):
        self.refused('verify_after_change',
                     'checksum_verify is listed after image_decompression, '
                     'which changes the data', 'verify_changed_data')

    def test_image_versions_before_a_check(self):
        self.refused('versions_early', 'image_versions must be listed after '
                                       'every check (checksum_verify)')

    def test_a_name_twice(self):
        self.refused('twice', 'checksum_verify is listed 2 times')


class TestOnlyTheFiltersLoaded(base.CloudTestCase):
    """Every listed name of the library misspelt: no plugin of it loads.

    The paste filters see the import request and refuse it, before
    Glance starts a task.
    """

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('digests', plugins=['checksum_verfy'],
                         paste_filters=[glance.STAGE_DIGESTS])
        cloud.add_glance('host_check', plugins=['checksum_verfy'],
                         paste_filters=[glance.STAGE_HOST_CHECK])

    def test_import_request_refused_by_either_filter(self):
        for worker in ('digests', 'host_check'):
            client = self.cloud.client(worker)
            data = base.random_bytes(64 * 1024)
            image = client.create()
            client.stage(image['id'], data)
            resp = client.import_(image['id'], 'glance-direct',
                                  expect=(500,))
            message = resp.json()['error']['message']
            self.assertIn("The import did not start: the configured plugin "
                          "list does not run as written", message)
            self.assertIn("'checksum_verfy': no plugin of that name is "
                          "installed (did you mean checksum_verify?)",
                          message)
            self.assertIn(PREFLIGHT, message)
            image = client.get(image['id'])
            self.assertEqual('uploading', image['status'], image)
            self.assertEqual([], client.tasks(image['id']))
