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

"""Stage-time digests on a real glance-api under uWSGI.

Replica A stages through the ``stage_digests`` filter and verifies with
``checksum_verify``; replica Z runs Glance's ``image_decompression``
before ``checksum_verify``. Whether an import used the stage-time record
or read the data is in the glance-api log, per staged file.
"""

import gzip
import hashlib
import json
import os
import shutil
import socket
import time
import urllib.parse

from tests.functional import base
from tests.functional.harness import glance

SUFFIX = '.import_ext_digests'


class TestStageDigests(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('a', plugins=['checksum_verify'], processes=2,
                         paste_filters=[glance.STAGE_DIGESTS])
        cloud.add_glance('z', plugins=['image_decompression',
                                       'checksum_verify'],
                         paste_filters=[glance.STAGE_DIGESTS])

    def setUp(self):
        super().setUp()
        self.a = self.cloud.workers['a']
        self.via_a = self.cloud.client('a')

    # -- helpers -------------------------------------------------------
    def record_of(self, worker, image_id):
        path = os.path.join(worker.staging_dir, image_id + SUFFIX)
        try:
            with open(path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def log_of(self, worker):
        with open(worker.log_file, errors='replace') as f:
            return f.read()

    def staged_path(self, worker, image_id):
        return os.path.join(worker.staging_dir, image_id)

    def assertUsedRecord(self, worker, image_id, used=True):
        log = self.log_of(worker)
        taken = 'Digests of %s taken while it was staged' % (
            self.staged_path(worker, image_id))
        if used:
            self.assertIn(taken, log)
        else:
            self.assertNotIn(taken, log)
            self.assertIn('No stage-time digests of %s' % self.staged_path(
                worker, image_id), log)

    def declared(self, data, **extra):
        return dict({'expected_digest_sha256': hashlib.sha256(
            data).hexdigest()}, **extra)

    def stage_chunked(self, client, image_id, data, piece=64 * 1024):
        def pieces():
            for i in range(0, len(data), piece):
                yield data[i:i + piece]
        client.request('PUT', '/v2/images/%s/stage' % image_id,
                       data=pieces(), expect=(204,),
                       headers={'Content-Type': 'application/octet-stream'})

    def import_ok(self, client, image_id, data):
        client.import_(image_id)
        image, task = client.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        return image

    # -- tests ---------------------------------------------------------
    def test_content_length_and_chunked_stages_need_no_pass(self):
        for stage in ('content-length', 'chunked'):
            data = base.random_bytes(3 * 1024 * 1024 + 17)
            image = self.via_a.create(**self.declared(
                data, expected_digest_sha3_256=hashlib.sha3_256(
                    data).hexdigest()))
            if stage == 'chunked':
                self.stage_chunked(self.via_a, image['id'], data)
            else:
                self.via_a.stage(image['id'], data)
            record = self.record_of(self.a, image['id'])
            self.assertIsNotNone(record, stage)
            self.assertEqual({
                'sha256': hashlib.sha256(data).hexdigest(),
                'sha512': hashlib.sha512(data).hexdigest(),
                'sha3_256': hashlib.sha3_256(data).hexdigest()},
                record['digests'])
            self.assertEqual(len(data), record['file']['size'])
            self.import_ok(self.via_a, image['id'], data)
            self.assertUsedRecord(self.a, image['id'])
            self.assertIsNone(self.record_of(self.a, image['id']))

    def test_wrong_declared_digest_fails_with_both_values(self):
        data = base.random_bytes(256 * 1024)
        wrong = hashlib.sha256(b'something else').hexdigest()
        image = self.via_a.create(expected_digest_sha256=wrong)
        self.via_a.stage(image['id'], data)
        self.assertIsNotNone(self.record_of(self.a, image['id']))
        self.via_a.import_(image['id'])
        image, task = self.via_a.wait_for_import(image['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn(wrong, task['message'])
        self.assertIn(hashlib.sha256(data).hexdigest(), task['message'])
        self.assertUsedRecord(self.a, image['id'])

    def test_client_gone_mid_body_leaves_no_record(self):
        data = base.random_bytes(2 * 1024 * 1024)
        image = self.via_a.create(**self.declared(data))
        url = urllib.parse.urlsplit(self.a.url)
        sock = socket.create_connection((url.hostname, url.port))
        sock.sendall((
            'PUT /v2/images/%s/stage HTTP/1.1\r\nHost: %s\r\n'
            'X-Auth-Token: %s\r\nContent-Type: application/octet-stream\r\n'
            'Content-Length: %d\r\n\r\n' % (
                image['id'], url.netloc, self.via_a.headers['X-Auth-Token'],
                len(data))).encode('ascii'))
        sock.sendall(data[:len(data) // 2])
        sock.close()
        time.sleep(3)
        self.assertIsNone(self.record_of(self.a, image['id']))
        # Staged again, whole: recorded and used.
        image = self.via_a.get(image['id'])
        if image['status'] != 'queued':
            self.skipTest('Glance left the image %s' % image['status'])
        self.via_a.stage(image['id'], data)
        self.import_ok(self.via_a, image['id'], data)
        self.assertUsedRecord(self.a, image['id'])

    def test_tampered_or_stale_record_is_not_trusted(self):
        # Tampered: the digest edited to match a different declaration.
        data = base.random_bytes(512 * 1024)
        image = self.via_a.create(**self.declared(data))
        self.via_a.stage(image['id'], data)
        path = os.path.join(self.a.staging_dir, image['id'] + SUFFIX)
        with open(path) as f:
            record = json.load(f)
        record['digests']['sha512'] = '0' * 128
        with open(path, 'w') as f:
            json.dump(record, f)
        self.import_ok(self.via_a, image['id'], data)
        self.assertUsedRecord(self.a, image['id'], used=False)
        self.assertIn('its MAC does not match', self.log_of(self.a))
        # Stale: the staged file replaced by a copy (same bytes, new inode).
        image = self.via_a.create(**self.declared(data))
        self.via_a.stage(image['id'], data)
        staged = self.staged_path(self.a, image['id'])
        shutil.copyfile(staged, staged + '.copy')
        os.replace(staged + '.copy', staged)
        self.import_ok(self.via_a, image['id'], data)
        self.assertUsedRecord(self.a, image['id'], used=False)
        self.assertIn('the staged file changed since it was staged',
                      self.log_of(self.a))

    def test_decompression_before_verifying_reads_the_data(self):
        z = self.cloud.workers['z']
        via_z = self.cloud.client('z')
        data = base.random_bytes(300 * 1024)
        packed = gzip.compress(data)
        image = via_z.create(**self.declared(data))
        via_z.stage(image['id'], packed)
        self.assertIsNotNone(self.record_of(z, image['id']))
        image = self.import_ok(via_z, image['id'], data)
        self.assertUsedRecord(z, image['id'], used=False)

    def test_worker_killed_between_stage_and_import(self):
        data = base.random_bytes(1024 * 1024)
        image = self.via_a.create(**self.declared(data))
        self.via_a.stage(image['id'], data)
        for pid in self.a.worker_pids():
            self.a.kill_worker(pid)
        self.import_ok(self.via_a, image['id'], data)
        self.assertUsedRecord(self.a, image['id'])

    def test_deleting_the_image_removes_its_record(self):
        data = base.random_bytes(64 * 1024)
        image = self.via_a.create(**self.declared(data))
        self.via_a.stage(image['id'], data)
        self.assertIsNotNone(self.record_of(self.a, image['id']))
        self.via_a.delete(image['id'])
        self.assertIsNone(self.record_of(self.a, image['id']))

    def test_restage_and_retry_after_a_failed_import(self):
        # A failed import leaves the image uploading with its staged data
        # and without the record it used.
        first = base.random_bytes(200 * 1024)
        data = base.random_bytes(300 * 1024)
        image = self.via_a.create(**self.declared(data))
        self.via_a.stage(image['id'], first)
        self.via_a.import_(image['id'])
        image, task = self.via_a.wait_for_import(image['id'])
        self.assertEqual('failure', task['status'])
        self.assertEqual('uploading', image['status'])
        self.assertUsedRecord(self.a, image['id'])
        self.assertIsNone(self.record_of(self.a, image['id']))
        # Glance refuses a new stage of an uploading image: no record.
        resp = self.via_a.request('PUT', '/v2/images/%s/stage' % image['id'],
                                  data=data, expect=(409,), headers={
                                      'Content-Type':
                                          'application/octet-stream'})
        self.assertEqual(409, resp.status_code)
        self.assertIsNone(self.record_of(self.a, image['id']))
        # The retry, with the declaration fixed, reads the data.
        self.via_a.update(image['id'], expected_digest_sha256=hashlib.sha256(
            first).hexdigest())
        self.import_ok(self.via_a, image['id'], first)
