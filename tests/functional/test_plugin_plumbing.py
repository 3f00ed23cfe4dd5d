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

"""The plugins run inside a real glance-api, in order, and fail cleanly."""

import hashlib

from tests.functional import base

PLUGINS = ['staging_owner', 'metadata_copy', 'checksum_verify']
# staging_owner stays first (an order rule); the others swap.
BACKWARD = PLUGINS[:1] + PLUGINS[:0:-1]


class TestPluginsInGlance(base.CloudTestCase):
    """Two replicas of one region, listing the same plugins in two orders."""

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('forward', plugins=PLUGINS)
        cloud.add_glance('backward', plugins=BACKWARD)
        cloud.add_glance('misconfigured', plugins=PLUGINS, import_conf={
            'glance_import_ext': {'heartbeat_interval': '0'}})

    def test_plugins_run_in_configured_order(self):
        data = base.random_bytes(300 * 1024)
        for worker, expected in (('forward', PLUGINS),
                                 ('backward', BACKWARD)):
            client = self.cloud.client(worker)
            image, task = self.stage_and_import(client, data)
            self.assertEqual('success', task['status'], task)
            self.assertImported(client, image, data)
            self.assertEqual(','.join(expected), image['import_ext_plugins'])
            url = self.cloud.workers[worker].url
            self.assertEqual(url, image['import_ext_staged_on'])
            self.assertEqual(url, image['import_ext_imported_on'])

    def test_failing_plugin_reports_and_image_can_be_retried(self):
        client = self.cloud.client('forward')
        data = base.random_bytes(200 * 1024)
        wrong = hashlib.sha256(b'something else').hexdigest()
        image, task = self.stage_and_import(
            client, data, expected_digest_sha256=wrong)

        self.assertEqual('failure', task['status'])
        self.assertIn('checksum_verify: sha256 mismatch', task['message'])
        self.assertIn(wrong, task['message'])
        self.assertIn(hashlib.sha256(data).hexdigest(), task['message'])
        # Reverted: nothing stored, no record of either plugin, and the
        # image is staged again, ready for another glance-direct import.
        self.assertEqual('uploading', image['status'])
        self.assertIsNone(image['os_hash_value'])
        self.assertEqual('', image['os_glance_importing_to_stores'])
        for key in ('import_ext_plugins', 'import_ext_staged_on',
                    'import_ext_imported_on', 'import_ext_verified_digests'):
            self.assertNotIn(key, image)

        # The user corrects the declaration; the same image now imports.
        client.request('PATCH', '/v2/images/' + image['id'], json=[
            {'op': 'replace', 'path': '/expected_digest_sha256',
             'value': hashlib.sha256(data).hexdigest()}],
            headers={'Content-Type':
                     'application/openstack-images-v2.1-json-patch'})
        client.import_(image['id'], 'glance-direct')
        image, task = client.wait_for_import(image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        self.assertEqual('sha256', image['import_ext_verified_digests'])
        self.assertEqual(','.join(PLUGINS), image['import_ext_plugins'])

    def test_invalid_option_fails_import_naming_it(self):
        client = self.cloud.client('misconfigured')
        data = base.random_bytes(1024)
        image, task = self.stage_and_import(client, data)
        self.assertEqual('failure', task['status'])
        self.assertIn('[glance_import_ext] heartbeat_interval',
                      task['message'])
        self.assertIn('glance-image-import.conf', task['message'])
        self.assertEqual('uploading', image['status'])
