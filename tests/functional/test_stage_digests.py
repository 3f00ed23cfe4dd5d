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
TestStageFramingAsGlance sends each framing of a stage body, as raw bytes,
to a glance-api with the filter and to one without it.
"""

import gzip
import hashlib
import json
import os
import shutil
import socket
import time
import urllib.parse

from testtools import content

from tests.functional import base
from tests.functional.harness import glance

SUFFIX = '.import_ext_digests'


def record_of(worker, image_id):
    """The stage record ``worker`` keeps for ``image_id``, or None."""
    path = os.path.join(worker.staging_dir, image_id + SUFFIX)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


class TestStageDigests(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('a', plugins=['checksum_verify'], processes=2,
                         paste_filters=[glance.STAGE_DIGESTS])
        # Digests declared of the decompressed data, on purpose.
        cloud.add_glance('z', plugins=['image_decompression',
                                       'checksum_verify'],
                         paste_filters=[glance.STAGE_DIGESTS],
                         import_conf={'glance_import_ext': {
                             'verify_changed_data': 'true'}})

    def setUp(self):
        super().setUp()
        self.a = self.cloud.workers['a']
        self.via_a = self.cloud.client('a')

    # -- helpers -------------------------------------------------------
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
            record = record_of(self.a, image['id'])
            self.assertIsNotNone(record, stage)
            self.assertEqual({
                'sha256': hashlib.sha256(data).hexdigest(),
                'sha512': hashlib.sha512(data).hexdigest(),
                'sha3_256': hashlib.sha3_256(data).hexdigest()},
                record['digests'])
            self.assertEqual(len(data), record['file']['size'])
            self.import_ok(self.via_a, image['id'], data)
            self.assertUsedRecord(self.a, image['id'])
            self.assertIsNone(record_of(self.a, image['id']))

    def test_wrong_declared_digest_fails_with_both_values(self):
        data = base.random_bytes(256 * 1024)
        wrong = hashlib.sha256(b'something else').hexdigest()
        image = self.via_a.create(expected_digest_sha256=wrong)
        self.via_a.stage(image['id'], data)
        self.assertIsNotNone(record_of(self.a, image['id']))
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
        self.assertIsNone(record_of(self.a, image['id']))
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
        self.assertIsNotNone(record_of(z, image['id']))
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
        self.assertIsNotNone(record_of(self.a, image['id']))
        self.via_a.delete(image['id'])
        self.assertIsNone(record_of(self.a, image['id']))

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
        self.assertIsNone(record_of(self.a, image['id']))
        # Glance refuses a new stage of an uploading image: no record.
        resp = self.via_a.request('PUT', '/v2/images/%s/stage' % image['id'],
                                  data=data, expect=(409,), headers={
                                      'Content-Type':
                                          'application/octet-stream'})
        self.assertEqual(409, resp.status_code)
        self.assertIsNone(record_of(self.a, image['id']))
        # The retry, with the declaration fixed, reads the data.
        self.via_a.update(image['id'], expected_digest_sha256=hashlib.sha256(
            first).hexdigest())
        self.import_ok(self.via_a, image['id'], first)


def chunked(data, piece=64 * 1024):
    """``data`` in HTTP/1.1 chunked transfer coding, terminated."""
    out = b''
    for i in range(0, len(data), piece):
        part = data[i:i + piece]
        out += b'%x\r\n%s\r\n' % (len(part), part)
    return out + b'0\r\n\r\n'


DATA = os.urandom(200 * 1024)
SIZE_CAP = 1024 * 1024
OVER_CAP = os.urandom(SIZE_CAP + 64 * 1024)

# (name, [(header, value)], body, close the sending side after the body)
FRAMINGS = [
    ('content-length', [('Content-Length', str(len(DATA)))], DATA, False),
    ('chunked', [('Transfer-Encoding', 'chunked')], chunked(DATA), False),
    ('chunked + content-length', [
        ('Transfer-Encoding', 'chunked'),
        ('Content-Length', str(len(chunked(DATA))))], chunked(DATA), False),
    ('content-length + chunked, data length', [
        ('Content-Length', str(len(DATA))),
        ('Transfer-Encoding', 'chunked')], chunked(DATA), True),
    ('chunked + content-length 0', [
        ('Transfer-Encoding', 'chunked'), ('Content-Length', '0')],
     chunked(DATA), True),
    ('chunked + content-length abc', [
        ('Transfer-Encoding', 'chunked'), ('Content-Length', 'abc')],
     chunked(DATA), True),
    ('chunked + image size right', [
        ('Transfer-Encoding', 'chunked'),
        ('X-Openstack-Image-Size', str(len(DATA)))], chunked(DATA), False),
    ('chunked + image size wrong', [
        ('Transfer-Encoding', 'chunked'),
        ('X-Openstack-Image-Size', str(len(DATA) + 1))], chunked(DATA),
     False),
    ('chunked, malformed', [('Transfer-Encoding', 'chunked')],
     b'zz\r\n' + DATA[:1000] + b'\r\n0\r\n\r\n', True),
    ('chunked, cut mid-chunk', [('Transfer-Encoding', 'chunked')],
     chunked(DATA)[:100000], True),
    ('Chunked', [('Transfer-Encoding', 'Chunked')], chunked(DATA), False),
    ('CHUNKED + content-length', [
        ('Transfer-Encoding', 'CHUNKED'),
        ('Content-Length', str(len(chunked(DATA))))], chunked(DATA), False),
    ('gzip, chunked', [('Transfer-Encoding', 'gzip, chunked')],
     chunked(gzip.compress(DATA)), True),
    ('chunked, chunked', [('Transfer-Encoding', 'chunked, chunked')],
     chunked(DATA), True),
    ('chunked twice', [('Transfer-Encoding', 'chunked'),
                       ('Transfer-Encoding', 'chunked')],
     chunked(DATA), True),
    ('gzip then chunked headers', [('Transfer-Encoding', 'gzip'),
                                   ('Transfer-Encoding', 'chunked')],
     chunked(gzip.compress(DATA)), True),
    ('chunked then identity headers', [('Transfer-Encoding', 'chunked'),
                                       ('Transfer-Encoding', 'identity')],
     chunked(DATA), True),
    ('identity + content-length', [
        ('Transfer-Encoding', 'identity'),
        ('Content-Length', str(len(DATA)))], DATA, False),
    ('identity, no length', [('Transfer-Encoding', 'identity')], DATA,
     True),
    ('neither', [], DATA, True),
    ('content-length 0', [('Content-Length', '0')], b'', False),
    ('empty chunked', [('Transfer-Encoding', 'chunked')], chunked(b''),
     False),
    ('content-length abc', [('Content-Length', 'abc')], DATA, True),
    ('content-length -1', [('Content-Length', '-1')], DATA, True),
    ('content-length +N', [('Content-Length', '+%d' % len(DATA))], DATA,
     True),
    ('content-length twice', [('Content-Length', str(len(DATA))),
                              ('Content-Length', str(len(DATA)))], DATA,
     True),
    ('content-length shorter body', [('Content-Length',
                                      str(len(DATA) + 4096))], DATA, True),
    ('content-length over image_size_cap', [
        ('Content-Length', str(len(OVER_CAP)))], OVER_CAP, False),
    ('chunked over image_size_cap', [('Transfer-Encoding', 'chunked')],
     chunked(OVER_CAP), False),
]

# The framings the filter hashes (and records, Glance having accepted them).
RECORDED = {'content-length', 'chunked', 'chunked + image size right',
            'chunked, malformed', 'Chunked', 'empty chunked'}


class TestStageFramingAsGlance(base.CloudTestCase):
    """Every framing of a stage body gets Glance's own answer.

    Two glance-api of one region, the same configuration but for the
    ``stage_digests`` filter: each framing is sent as raw bytes to both,
    and the answer and what Glance stored must be the same.
    """

    @classmethod
    def build_cloud(cls, cloud):
        conf = {'DEFAULT': {'image_size_cap': SIZE_CAP}}
        cloud.add_glance('plain', plugins=['checksum_verify'], conf=conf)
        cloud.add_glance('hashing', plugins=['checksum_verify'], conf=conf,
                         paste_filters=[glance.STAGE_DIGESTS])

    def send(self, worker, client, image_id, headers, body, half_close):
        """The status code of Glance's answer, or None if there is none."""
        url = urllib.parse.urlsplit(worker.url)
        head = ['PUT /v2/images/%s/stage HTTP/1.1' % image_id,
                'Host: %s' % url.netloc,
                'X-Auth-Token: %s' % client.headers['X-Auth-Token'],
                'Content-Type: application/octet-stream']
        head += ['%s: %s' % h for h in headers]
        sock = socket.create_connection((url.hostname, url.port), timeout=30)
        try:
            try:
                sock.sendall(('\r\n'.join(head) + '\r\n\r\n').encode(
                    'ascii') + body)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass    # answered and closed before reading it all
            answer = b''
            try:
                while b'\r\n' not in answer:
                    data = sock.recv(4096)
                    if not data:
                        break
                    answer += data
            except OSError:
                pass
        finally:
            sock.close()
        parts = answer.split(b' ', 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() \
            else None

    def outcome(self, worker, client, image_id, framing):
        _, headers, body, half_close = framing
        status = self.send(worker, client, image_id, headers, body,
                           half_close)
        time.sleep(0.5)  # a refused stage restores the image after answering
        image = client.get(image_id)
        staged = os.path.join(worker.staging_dir, image_id)
        try:
            with open(staged, 'rb') as f:
                staged_digest = hashlib.sha256(f.read()).hexdigest()[:12]
        except FileNotFoundError:
            staged_digest = None
        return (status, image['status'], image['size'], staged_digest)

    def test_every_framing_gets_glances_own_answer(self):
        plain = self.cloud.workers['plain']
        hashing = self.cloud.workers['hashing']
        via_plain = self.cloud.client('plain')
        via_hashing = self.cloud.client('hashing')
        rows, differ, through_filter = [], [], {}
        for framing in FRAMINGS:
            name = framing[0]
            without = self.outcome(plain, via_plain,
                                   via_plain.create(name=name)['id'], framing)
            image_id = via_hashing.create(name=name)['id']
            through = self.outcome(hashing, via_hashing, image_id, framing)
            rows.append('%-40s %-40s %s' % (name, without, through))
            if without != through:
                differ.append(name)
            through_filter[name] = (image_id, through)
        table = '\n'.join(['%-40s %-40s %s' % (
            'framing', 'without the filter', 'through the filter')] + rows)
        self.addDetail('framings', content.text_content(table))
        self.assertEqual([], differ, table)
        for name, (image_id, through) in through_filter.items():
            record = record_of(hashing, image_id)
            self.assertEqual(name in RECORDED, record is not None, name)
            if record is not None:
                # A record only for data Glance accepted, and of that data.
                self.assertEqual(204, through[0], name)
                with open(os.path.join(hashing.staging_dir, image_id),
                          'rb') as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                                     record['digests']['sha256'], name)

    def test_stage_left_to_glance_is_verified_by_reading(self):
        # Glance accepts a chunked body with a Content-Length equal to the
        # data's: the filter does not hash it, the import reads the data.
        hashing = self.cloud.workers['hashing']
        via_hashing = self.cloud.client('hashing')
        image = via_hashing.create(expected_digest_sha256=hashlib.sha256(
            DATA).hexdigest())
        status = self.send(hashing, via_hashing, image['id'], [
            ('Transfer-Encoding', 'chunked'),
            ('Content-Length', str(len(DATA)))], chunked(DATA), True)
        self.assertEqual(204, status)
        self.assertIsNone(record_of(hashing, image['id']))
        via_hashing.import_(image['id'])
        image, task = via_hashing.wait_for_import(image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertImported(via_hashing, image, DATA)
        with open(hashing.log_file, errors='replace') as f:
            log = f.read()
        self.assertIn('No stage-time digests of %s' % os.path.join(
            hashing.staging_dir, image['id']), log)
