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

"""Integrity plugins on real glance-api and Keystone, with real faults."""

import hashlib
import os
import time

from tests.functional import base
from tests.functional.harness import loopback_http

PLUGINS = ['staging_owner', 'glance_download_verify', 'checksum_verify']


class TestGlanceDownloadVerify(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.with_keystone()
        cloud.add_user('alice', 'demo')
        proxy_port = cloud.reserve_port()
        one = cloud.add_glance('region-one', region='RegionOne',
                               catalog_url='http://127.0.0.1:%d' % proxy_port)
        cls.proxy = loopback_http.TamperingProxy(proxy_port, one.url)
        cloud.add_glance('region-two', region='RegionTwo', plugins=PLUGINS)
        # A replica of RegionTwo without the plugins: Glance 33 alone.
        cloud.add_glance('plain', region='RegionTwo')

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.proxy.flip_offset = None
        self.proxy.delay_per_chunk = 0.0
        self.addCleanup(self._ensure_region_one)

    def _ensure_region_one(self):
        worker = self.cloud.workers['region-one']
        if not worker.running:
            worker.start()

    def _source(self, size):
        data = base.random_bytes(size)
        client = self.cloud.client('region-one')
        image = client.create(name='source')
        client.upload(image['id'], data)
        return image['id'], data

    def _download(self, worker, source_id, image_id=None, **props):
        client = self.cloud.client(worker)
        if image_id is None:
            image_id = client.create(name='copy', **props)['id']
        client.import_(image_id, 'glance-download', glance_image_id=source_id,
                       glance_region='RegionOne',
                       glance_service_interface='public')
        image, task = client.wait_for_import(image_id)
        return client, image, task

    def _stored_file(self, image_id):
        return os.path.join(self.cloud.base_dir, 'store-RegionTwo', image_id)

    def test_clean_download_is_verified_and_recorded(self):
        source_id, data = self._source(300 * 1024)
        # Both verifying plugins: the source's digests and a declared one.
        client, image, task = self._download(
            'region-two', source_id,
            expected_digest_sha256=hashlib.sha256(data).hexdigest())
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        self.assertEqual('sha256', image['import_ext_verified_digests'])
        # One pass served both plugins.
        with open(self.cloud.workers['region-two'].log_file) as log:
            hashed = [line for line in log
                      if 'Hashed 0 MiB (md5+sha256+sha512)' in line]
        self.assertEqual(1, len(hashed), hashed)
        self.assertEqual(
            'RegionOne/%s md5:%s sha512:%s' % (
                source_id, hashlib.md5(data).hexdigest(),
                hashlib.sha512(data).hexdigest()),
            image['import_ext_download_verified'])

    def test_flipped_byte_is_caught_and_glance_alone_accepts_it(self):
        source_id, data = self._source(300 * 1024)
        self.proxy.flip_offset = 123456

        client, image, task = self._download('region-two', source_id)
        self.assertEqual('failure', task['status'])
        image, task = self.wait_until_unlocked(client, image['id'],
                                               task['id'])
        self.assertIn('glance_download_verify: md5 mismatch with source '
                      'image %s in region RegionOne' % source_id,
                      task['message'])
        self.assertIn('nothing was stored', task['message'])
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['os_hash_value'])
        self.assertFalse(os.path.exists(self._stored_file(image['id'])))

        # The same corrupted stream through Glance 33 alone: accepted.
        plain, bad, plain_task = self._download('plain', source_id)
        self.assertEqual('success', plain_task['status'], plain_task)
        self.assertEqual('active', bad['status'])
        stored = plain.download(bad['id'])
        self.assertEqual(len(data), len(stored))
        self.assertNotEqual(data, stored)

        # Once the path is clean again, the same image imports.
        self.proxy.flip_offset = None
        client, image, task = self._download('region-two', source_id,
                                             image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)

    def test_source_stopping_mid_download_fails_cleanly(self):
        source_id, data = self._source(16 * 1024 * 1024)
        self.proxy.delay_per_chunk = 0.05   # about 13 s for the image
        client = self.cloud.client('region-two')
        image_id = client.create(name='copy')['id']
        downloads = self.proxy.downloads
        client.import_(image_id, 'glance-download', glance_image_id=source_id,
                       glance_region='RegionOne')
        deadline = time.monotonic() + 30
        while self.proxy.downloads == downloads:
            self.assertLess(time.monotonic(), deadline, 'no download began')
            time.sleep(0.1)
        time.sleep(1)
        self.cloud.workers['region-one'].stop()

        image, task = client.wait_for_import(image_id)
        self.assertEqual('failure', task['status'])
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['os_hash_value'])
        self.assertFalse(os.path.exists(self._stored_file(image_id)))
        for key in ('import_ext_plugins', 'import_ext_download_verified'):
            self.assertNotIn(key, image)


class TestWebDownloadDeclaredDigest(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('api', plugins=PLUGINS)
        cls.files = os.path.join(cloud.base_dir, 'mirror')
        os.makedirs(cls.files)
        cls.data = base.random_bytes(700 * 1024)
        with open(os.path.join(cls.files, 'vendor.img'), 'wb') as f:
            f.write(cls.data)
        cls.server = loopback_http.FileServer(cloud.reserve_port(),
                                              cls.files)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def _web_download(self, client, image_id):
        client.import_(image_id, 'web-download',
                       uri=self.server.url + '/vendor.img')
        return client.wait_for_import(image_id)

    def test_correct_and_wrong_declared_sha256(self):
        client = self.cloud.client('api')
        good = hashlib.sha256(self.data).hexdigest()
        image = client.create(expected_digest_sha256=good)
        image, task = self._web_download(client, image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, self.data)
        self.assertEqual('sha256', image['import_ext_verified_digests'])

        wrong = hashlib.sha256(b'tampered').hexdigest()
        image = client.create(expected_digest_sha256=wrong)
        image, task = self._web_download(client, image['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('checksum_verify: sha256 mismatch: expected %s' % wrong,
                      task['message'])
        self.assertIn(good, task['message'])
        self.assertEqual('queued', image['status'])
        self.assertIsNone(image['os_hash_value'])

        client.update(image['id'], expected_digest_sha256=good)
        image, task = self._web_download(client, image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, self.data)

    def test_malformed_declaration_fails_before_reading(self):
        client = self.cloud.client('api')
        image = client.create(expected_digest_sha256='abc')
        image, task = self._web_download(client, image['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('property expected_digest_sha256', task['message'])
        self.assertIn('has 3 hex digits, expected 64', task['message'])
        self.assertEqual('queued', image['status'])


class TestGlanceComparesPresetHashAfterWriting(base.CloudTestCase):
    """Why the plugins verify before the upload.

    Glance's own comparison of a preset hash would cost no extra pass, but
    Glance 33 compares after the store wrote the object and leaves it there
    on a mismatch.
    """

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('api', plugins=['preset_hash'], test_plugins={
            'preset_hash': 'tests.functional.preset_hash_plugin:get_flow'})

    def test_mismatching_preset_hash_leaves_bytes_in_the_store(self):
        client = self.cloud.client('api')
        data = base.random_bytes(64 * 1024)
        image, task = self.stage_and_import(
            client, data,
            test_preset_os_hash_value=hashlib.sha512(b'other').hexdigest())
        self.assertEqual('failure', task['status'])
        self.assertNotEqual('active', image['status'])
        self.assertNotIn('sha512', task['message'])  # no algorithm, no value
        stored = os.path.join(self.cloud.base_dir, 'store-RegionOne',
                              image['id'])
        with open(stored, 'rb') as f:
            self.assertEqual(data, f.read())  # written, and left behind
