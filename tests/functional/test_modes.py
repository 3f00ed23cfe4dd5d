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

"""Verification modes and the per-image dry run, on real glance-api."""

import hashlib

from tests.functional import base

PLUGINS = ['staging_owner', 'checksum_verify']


class TestModes(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('enforce', plugins=PLUGINS)
        cloud.add_glance('warn', plugins=PLUGINS, import_conf={
            'checksum_verify': {'mode': 'warn'}})

    def test_warn_mode_records_the_failure_and_imports(self):
        client = self.cloud.client('warn')
        data = base.random_bytes(64 * 1024)
        wrong = hashlib.sha256(b'wrong').hexdigest()
        image, task = self.stage_and_import(client, data,
                                            expected_digest_sha256=wrong)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        self.assertIn('checksum_verify: sha256 mismatch: expected %s' % wrong,
                      image['import_ext_warnings'])
        self.assertNotIn('import_ext_verified_digests', image)
        self.assertEqual('staging_owner,checksum_verify',
                         image['import_ext_plugins'])

    def test_warn_mode_record_says_the_data_was_stored(self):
        # The record describes a check that failed in an import that went
        # on: not the enforce-mode outcome.
        client = self.cloud.client('warn')
        data = base.random_bytes(32 * 1024)
        wrong = hashlib.sha512(b'wrong').hexdigest()
        image, task = self.stage_and_import(client, data,
                                            expected_digest_sha512=wrong)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        warning = image['import_ext_warnings']
        self.assertIn('checksum_verify: sha512 mismatch', warning)
        self.assertNotIn('nothing was stored', warning.lower())
        self.assertIn('warn mode: the import went on and the data was '
                      'stored', warning)

    def test_dry_run_then_the_real_import(self):
        client = self.cloud.client('enforce')
        data = base.random_bytes(96 * 1024)
        wrong = hashlib.sha256(b'wrong').hexdigest()
        image, task = self.stage_and_import(
            client, data, expected_digest_sha256=wrong,
            import_ext_dry_run='true')
        # Every check ran, nothing was stored, the image still has its
        # staged data, the report says what each check found.
        self.assertEqual('failure', task['status'], task)
        self.assertIn('dry run: checksum_verify FAILED: sha256 mismatch',
                      task['message'])
        self.assertEqual('uploading', image['status'], image)
        self.assertIsNone(image['os_hash_value'])
        self.assertNotIn('import_ext_dry_run', image)
        self.assertIn('checksum_verify FAILED: sha256 mismatch',
                      image['import_ext_dry_run_report'])
        self.assertNotIn('import_ext_verified_digests', image)

        # Corrected and tried dry again: every check passes.
        client.patch(image['id'], [
            {'op': 'replace', 'path': '/expected_digest_sha256',
             'value': hashlib.sha256(data).hexdigest()},
            {'op': 'add', 'path': '/import_ext_dry_run', 'value': 'yes'}])
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'])
        self.assertEqual('failure', task['status'], task)
        self.assertEqual('uploading', image['status'], image)
        self.assertIn('checksum_verify passed',
                      image['import_ext_dry_run_report'])
        self.assertNotIn('FAILED', image['import_ext_dry_run_report'])

        # The real import needs no new upload.
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        self.assertEqual('sha256', image['import_ext_verified_digests'])
