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

"""A failed glance-direct import after Glance changed the staged data.

Glance 33's ``image_decompression`` replaces the staged file with the
decompressed data and writes its size on the image. When a check listed
after it fails, the image must not be offered for a retry with bytes the
user never staged: it is ``queued`` again without staged data, and the
user stages the original data again.
"""

import gzip
import hashlib
import os

from tests.functional import base

PLUGINS = ['image_decompression', 'checksum_verify']
CHANGED = ('the staged data had been changed by image_decompression before '
           'the failure, so it was removed and the image is queued again: '
           'stage the data again, then import')


class TestStagedDataChangedBeforeFailure(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        # The digests declared are of the decompressed data, on purpose.
        cloud.add_glance('declared', plugins=PLUGINS, import_conf={
            'glance_import_ext': {'verify_changed_data': 'true'}})
        # The same order without declaring it: every import fails at the
        # library's first plugin, once image_decompression ran.
        cloud.add_glance('undeclared', plugins=PLUGINS)

    def staged_files(self, worker, image_id):
        return sorted(n for n in os.listdir(
            self.cloud.workers[worker].staging_dir) if n.startswith(image_id))

    def fail_after_decompression(self, worker, data, **props):
        client = self.cloud.client(worker)
        packed = gzip.compress(data)
        image = client.create(**props)
        client.stage(image['id'], packed)
        self.assertEqual([image['id']], self.staged_files(worker, image['id']))
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'])
        self.assertEqual('failure', task['status'], task)
        # Not offered for a retry: queued, no staged data, nothing of the
        # import left (the decompressed size, the staging worker).
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['size'])
        self.assertNotIn('os_glance_stage_host', image)
        self.assertIsNone(image['os_hash_value'])
        self.assertEqual([], self.staged_files(worker, image['id']))
        return client, image, task, packed

    def test_wrong_digest_after_decompression_then_restage(self):
        data = base.random_bytes(300 * 1024)
        right = hashlib.sha256(data).hexdigest()
        wrong = hashlib.sha256(b'not the image').hexdigest()
        client, image, task, packed = self.fail_after_decompression(
            'declared', data, expected_digest_sha256=wrong)
        # The check saw the decompressed bytes, then the guard said why
        # the data is gone.
        self.assertIn('checksum_verify: sha256 mismatch: expected %s' % wrong,
                      task['message'])
        self.assertIn(right, task['message'])
        self.assertIn(CHANGED, task['message'])

        # The user stages what they sent before: no 409.
        client.stage(image['id'], packed)
        image = client.get(image['id'])
        self.assertEqual('uploading', image['status'])
        self.assertEqual(len(packed), image['size'])

        # With the right digest of the decompressed data, it imports.
        client.patch(image['id'], [{'op': 'replace',
                                    'path': '/expected_digest_sha256',
                                    'value': right}])
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        self.assertEqual('sha256', image['import_ext_verified_digests'])
        self.assertEqual([], self.staged_files('declared', image['id']))

    def test_order_refused_after_decompression_ran(self):
        data = base.random_bytes(200 * 1024)
        client, image, task, packed = self.fail_after_decompression(
            'undeclared', data,
            expected_digest_sha256=hashlib.sha256(data).hexdigest())
        self.assertIn('checksum_verify is listed after image_decompression',
                      task['message'])
        self.assertIn(CHANGED, task['message'])
        client.stage(image['id'], packed)
        self.assertEqual('uploading', client.get(image['id'])['status'])
