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

"""Stage-time digests: the record, the paste filter, their use at import."""

import hashlib
import io
import json
import os
import stat
import sys
import types
from unittest import mock

import fixtures
from glance.common import exception
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools
import webob

from glance_import_ext.common import declarations
from glance_import_ext.common import errors
from glance_import_ext.common import hashing
from glance_import_ext.common import stage_record
from glance_import_ext import glance_internals
from glance_import_ext.middleware import stage_digests

IMAGE_ID = '1b2c3d4e-0000-4000-8000-00000000abcd'
OTHER_ID = '1b2c3d4e-0000-4000-8000-00000000dcba'
STAGE_PATH = '/v2/images/%s/stage' % IMAGE_ID
DATA = bytes(range(256)) * 300 + b'tail'  # 76804 bytes
DEFAULT = ['sha256', 'sha512']
REAL_BOOT_ID = stage_record.boot_id


def expected(data, algorithms):
    return {a: hashlib.new(a, data).hexdigest() for a in algorithms}


class Base(testtools.TestCase):
    """A staging directory, record_key 'k', a fixed boot id."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.conf.config(record_key='k', group='glance_import_ext')
        self.boot = self.useFixture(fixtures.MockPatchObject(
            stage_record, 'boot_id', return_value='boot-1')).mock
        self.staged = os.path.join(self.dir, IMAGE_ID)
        self.record = stage_record.path_of(self.staged)

    def stage_file(self, data=DATA, path=None):
        with open(path or self.staged, 'wb') as f:
            f.write(data)

    def load(self):
        with open(self.record) as f:
            return json.load(f)

    def dump(self, record):
        with open(self.record, 'w') as f:
            json.dump(record, f)

    def assertInvalid(self, reason, image_id=IMAGE_ID, staged=None):
        exc = self.assertRaises(stage_record.Invalid, stage_record.read,
                                staged or self.staged, image_id)
        self.assertIn(reason, str(exc))
        return exc


class TestStageRecord(Base):

    def setUp(self):
        super().setUp()
        self.stage_file()
        self.digests = expected(DATA, DEFAULT)

    def write(self, digests=None):
        stage_record.write(self.staged, IMAGE_ID, digests or self.digests)

    def test_path_of(self):
        self.assertEqual(self.staged + '.import_ext_digests', self.record)

    def test_round_trip(self):
        self.write()
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))
        # read() leaves it.
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))

    def test_record_content(self):
        self.write()
        record = self.load()
        st = os.stat(self.staged)
        self.assertEqual(stage_record.VERSION, record['version'])
        self.assertEqual(IMAGE_ID, record['image'])
        self.assertEqual('boot-1', record['boot'])
        self.assertEqual({'dev': st.st_dev, 'ino': st.st_ino,
                          'size': len(DATA), 'mtime_ns': st.st_mtime_ns,
                          'ctime_ns': st.st_ctime_ns}, record['file'])
        self.assertEqual(self.digests, record['digests'])
        self.assertEqual(64, len(record['mac']))
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.record).st_mode))

    def test_write_leaves_no_temporary_file(self):
        self.write()
        self.assertEqual(sorted([IMAGE_ID, IMAGE_ID + stage_record.SUFFIX]),
                         sorted(os.listdir(self.dir)))

    def test_write_replaces_earlier_record(self):
        self.write()
        other = expected(DATA, ['md5'])
        self.write(other)
        self.assertEqual(other, stage_record.read(self.staged, IMAGE_ID))

    def test_write_of_missing_staged_file(self):
        os.remove(self.staged)
        exc = self.assertRaises(stage_record.Invalid, self.write)
        self.assertIn('gone', str(exc))
        self.assertEqual([], os.listdir(self.dir))

    def test_take_returns_once_and_removes(self):
        self.write()
        self.assertEqual((self.digests, None),
                         stage_record.take(self.staged, IMAGE_ID))
        self.assertFalse(os.path.lexists(self.record))
        self.assertEqual((None, 'no record'),
                         stage_record.take(self.staged, IMAGE_ID))
        self.assertTrue(os.path.exists(self.staged))

    def test_take_removes_an_invalid_record(self):
        self.write()
        digests, why = stage_record.take(self.staged, OTHER_ID)
        self.assertIsNone(digests)
        self.assertIn('another image', why)
        self.assertFalse(os.path.lexists(self.record))

    def test_no_record(self):
        self.assertInvalid('no record')

    def test_staged_file_gone(self):
        self.write()
        os.remove(self.staged)
        self.assertInvalid('the staged file is gone')

    def test_staged_file_replaced_new_inode(self):
        self.write()
        st = os.stat(self.staged)
        other = self.staged + '.new'
        self.stage_file(path=other)     # same bytes, same size
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(other, self.staged)
        self.assertNotEqual(st.st_ino, os.stat(self.staged).st_ino)
        self.assertInvalid('the staged file changed since it was staged')

    def test_staged_file_same_inode_other_size(self):
        self.write()
        ino = os.stat(self.staged).st_ino
        with open(self.staged, 'ab') as f:
            f.write(b'more')
        self.assertEqual(ino, os.stat(self.staged).st_ino)
        self.assertInvalid('the staged file changed since it was staged')

    def test_staged_file_same_inode_same_size_other_mtime(self):
        self.write()
        st = os.stat(self.staged)
        with open(self.staged, 'r+b') as f:
            f.write(b'X')               # rewritten in place, same size
        os.utime(self.staged, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))
        after = os.stat(self.staged)
        self.assertEqual((st.st_ino, st.st_size),
                         (after.st_ino, after.st_size))
        self.assertInvalid('the staged file changed since it was staged')

    def test_staged_file_only_ctime_changed(self):
        self.write()
        st = os.stat(self.staged)
        os.chmod(self.staged, 0o640)    # ctime only
        after = os.stat(self.staged)
        if after.st_ctime_ns == st.st_ctime_ns:
            self.skipTest('ctime did not move on this file system')
        self.assertInvalid('the staged file changed since it was staged')

    def test_other_image(self):
        self.write()
        self.assertInvalid('record of another image', image_id=OTHER_ID)

    def test_other_boot(self):
        self.write()
        self.boot.return_value = 'boot-2'
        self.assertInvalid('record of an earlier boot')

    def test_boot_id_from_proc(self):
        self.useFixture(fixtures.MockPatchObject(
            stage_record, 'BOOT_ID', os.path.join(self.dir, 'boot_id')))
        self.assertEqual('unknown', REAL_BOOT_ID())
        with open(stage_record.BOOT_ID, 'w') as f:
            f.write('abc-def\n')
        self.assertEqual('abc-def', REAL_BOOT_ID())

    def test_mac_mismatch_after_editing_a_digest(self):
        self.write()
        record = self.load()
        record['digests']['sha256'] = hashlib.sha256(b'evil').hexdigest()
        self.dump(record)
        self.assertInvalid('MAC does not match')

    def test_mac_mismatch_after_editing_the_identity(self):
        self.write()
        record = self.load()
        record['image'] = OTHER_ID
        self.dump(record)
        self.assertInvalid('MAC does not match', image_id=OTHER_ID)

    def test_mac_not_a_string(self):
        self.write()
        record = self.load()
        record['mac'] = 5
        self.dump(record)
        self.assertInvalid('MAC does not match')

    def test_sealed_other_version(self):
        self.write()
        record = self.load()
        del record['mac']
        record['version'] = stage_record.VERSION + 1
        record['mac'] = stage_record._mac(b'k', record)
        self.dump(record)
        self.assertInvalid('record of another version')

    def test_malformed(self):
        self.write()
        good = self.load()
        no_mac = dict(good)
        del no_mac['mac']
        no_digests = dict(good)
        del no_digests['digests']
        cases = [b'', b'not json', b'{"mac": ', b'[1, 2]', b'"text"',
                 b'42', b'null', json.dumps(no_mac).encode(),
                 json.dumps(no_digests).encode(),
                 json.dumps(dict(good, digests=['a'])).encode(),
                 json.dumps(dict(good, digests={'sha256': 5})).encode(),
                 b'\xff\xfe\x00garbage']
        for raw in cases:
            with open(self.record, 'wb') as f:
                f.write(raw)
            self.assertInvalid('record malformed')

    def test_larger_than_max_bytes(self):
        self.write()
        with open(self.record, 'rb') as f:
            raw = f.read()
        # Padded to exactly the cap: still valid JSON, still accepted.
        with open(self.record, 'wb') as f:
            f.write(raw + b' ' * (stage_record.MAX_BYTES - len(raw)))
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))
        with open(self.record, 'ab') as f:
            f.write(b' ')
        self.assertInvalid('record larger than %d bytes' %
                           stage_record.MAX_BYTES)

    def test_record_path_is_a_symlink(self):
        self.write()
        elsewhere = os.path.join(self.dir, 'elsewhere')
        os.rename(self.record, elsewhere)
        os.symlink(elsewhere, self.record)
        self.assertInvalid('record unreadable')

    def test_record_path_is_a_directory(self):
        os.mkdir(self.record)
        self.addCleanup(os.rmdir, self.record)
        try:
            stage_record.read(self.staged, IMAGE_ID)
        except (stage_record.Invalid, OSError) as error:
            exc = error
        else:
            self.fail('read accepted a directory as the record')
        self.assertIsInstance(exc, stage_record.Invalid)
        self.assertIn('record', str(exc))

    def test_staged_path_is_a_symlink(self):
        real = os.path.join(self.dir, 'real')
        os.rename(self.staged, real)
        os.symlink(real, self.staged)
        exc = self.assertRaises(stage_record.Invalid, stage_record.write,
                                self.staged, IMAGE_ID, self.digests)
        self.assertIn('not a regular file', str(exc))
        # A record written for the real file does not follow the link.
        os.remove(self.staged)
        os.rename(real, self.staged)
        self.write()
        os.rename(self.staged, real)
        os.symlink(real, self.staged)
        self.assertInvalid('the staged path is not a regular file')

    def test_staged_path_is_a_directory(self):
        self.write()
        os.remove(self.staged)
        os.mkdir(self.staged)
        self.assertInvalid('the staged path is not a regular file')
        self.assertRaises(stage_record.Invalid, stage_record.write,
                          self.staged, IMAGE_ID, self.digests)

    def test_write_replaces_a_symlink_never_follows_it(self):
        victim = os.path.join(self.dir, 'victim')
        with open(victim, 'w') as f:
            f.write('precious')
        os.symlink(victim, self.record)
        self.write()
        self.assertFalse(os.path.islink(self.record))
        self.assertTrue(os.path.isfile(self.record))
        with open(victim) as f:
            self.assertEqual('precious', f.read())
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))

    def test_dangling_symlink_at_record_path(self):
        missing = os.path.join(self.dir, 'nowhere')
        os.symlink(missing, self.record)
        self.assertInvalid('record unreadable')
        self.write()
        self.assertFalse(os.path.lexists(missing))
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))

    def test_remove(self):
        stage_record.remove(self.staged)    # none: no error
        self.write()
        stage_record.remove(self.staged)
        self.assertFalse(os.path.lexists(self.record))
        self.assertTrue(os.path.exists(self.staged))

    def test_record_key_other_key_refused(self):
        self.write()
        self.conf.config(record_key='other', group='glance_import_ext')
        self.assertInvalid('MAC does not match')
        self.conf.config(record_key='k', group='glance_import_ext')
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))

    def test_record_key_set_no_host_key_file(self):
        self.write()
        self.assertFalse(os.path.lexists(
            os.path.join(self.dir, stage_record.KEY_FILE)))

    def test_host_key_created_once_and_reused(self):
        self.conf.config(record_key=None, group='glance_import_ext')
        key_file = os.path.join(self.dir, stage_record.KEY_FILE)
        self.write()
        st = os.stat(key_file)
        self.assertEqual(0o600, stat.S_IMODE(st.st_mode))
        with open(key_file) as f:
            key = f.read()
        self.assertEqual(64, len(key))
        int(key, 16)
        self.assertEqual(self.digests, stage_record.read(self.staged,
                                                         IMAGE_ID))
        self.write(expected(DATA, ['md5']))
        with open(key_file) as f:
            self.assertEqual(key, f.read())
        self.assertEqual(st.st_ino, os.stat(key_file).st_ino)
        self.assertEqual(expected(DATA, ['md5']),
                         stage_record.read(self.staged, IMAGE_ID))

    def test_host_key_other_key_refused(self):
        self.conf.config(record_key=None, group='glance_import_ext')
        self.write()
        with open(os.path.join(self.dir, stage_record.KEY_FILE), 'w') as f:
            f.write('ab' * 32)
        self.assertInvalid('MAC does not match')

    def test_host_key_vs_record_key(self):
        self.conf.config(record_key=None, group='glance_import_ext')
        self.write()
        self.conf.config(record_key='k', group='glance_import_ext')
        self.assertInvalid('MAC does not match')

    def test_host_key_not_written_yet(self):
        self.conf.config(record_key=None, group='glance_import_ext')
        with open(os.path.join(self.dir, stage_record.KEY_FILE), 'w') as f:
            f.write('short')
        exc = self.assertRaises(stage_record.Invalid, self.write)
        self.assertIn('not written yet', str(exc))
        self.assertFalse(os.path.lexists(self.record))


class FakeImage:

    def __init__(self, properties=None):
        self.extra_properties = dict(properties or {})


class FakeRepo:

    def __init__(self, image=None, error=None):
        self.image = image or FakeImage()
        self.error = error
        self.asked = []

    def get(self, image_id):
        self.asked.append(image_id)
        if self.error:
            raise self.error
        return self.image


class StagingApp:
    """Glance's stage call, reduced: reads wsgi.input, writes the file."""

    def __init__(self, staging, status='204 No Content', write=True,
                 limit=None, chunk=4096, via_webob=False, extra=b''):
        self.staging = staging
        self.status = status
        self.write = write
        self.limit = limit          # bytes to read at most
        self.chunk = chunk
        self.via_webob = via_webob
        self.extra = extra          # written besides what was read
        self.environ = None
        self.read = b''

    def _body(self, stream):
        if self.via_webob:
            return stream.read()
        got = []
        total = 0
        while self.limit is None or total < self.limit:
            size = self.chunk
            if self.limit is not None:
                size = min(size, self.limit - total)
            data = stream.read(size)
            if not data:
                break
            got.append(data)
            total += len(data)
        return b''.join(got)

    def __call__(self, environ, start_response):
        self.environ = environ
        if self.via_webob:
            stream = webob.Request(environ).body_file
        else:
            stream = environ['wsgi.input']
        self.read = self._body(stream)
        if self.write:
            path = os.path.join(self.staging, IMAGE_ID)
            with open(path, 'wb') as f:
                f.write(self.read + self.extra)
        start_response(self.status, [])
        return [b'']


class TestFilter(Base):

    def setUp(self):
        super().setUp()
        self.repo = FakeRepo()
        self.context = object()
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'staging_dir', return_value=self.dir))
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'image_repo', side_effect=self.image_repo))
        self.request_context = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'request_context',
            side_effect=lambda req: self.context)).mock
        self.app = StagingApp(self.dir)
        self.filter = stage_digests.StageDigests(self.app)
        self.log = self.useFixture(fixtures.FakeLogger(level='DEBUG'))

    def image_repo(self, context):
        self.assertIs(self.context, context)
        return self.repo

    def call(self, environ):
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer['status'] = status
            answer['headers'] = headers

        body = b''.join(self.filter(environ, start_response))
        return answer.get('status'), body

    def stage(self, data=DATA, path=STAGE_PATH, method='PUT', **kwargs):
        req = webob.Request.blank(path, method=method, body=data, **kwargs)
        return self.call(req.environ)

    def recorded(self):
        return stage_record.read(self.staged, IMAGE_ID)

    def assertNoRecord(self):
        self.assertFalse(os.path.lexists(self.record))

    # -- Content-Length ---------------------------------------------------
    def test_stage_records_hashlib_digests(self):
        status, _ = self.stage()
        self.assertEqual('204 No Content', status)
        self.assertEqual(DATA, self.app.read)
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())
        self.assertIn('recorded sha256+sha512 of %d bytes' % len(DATA),
                      self.log.output)

    def test_stage_read_by_webob(self):
        self.app.via_webob = True
        self.stage()
        self.assertEqual(DATA, self.app.read)
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_stage_read_in_odd_pieces(self):
        for chunk in (1000, 7, 65536):
            self.app.chunk = chunk
            self.stage()
            self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_stage_read_all_at_once(self):
        def app(environ, start_response):
            data = environ['wsgi.input'].read()
            with open(self.staged, 'wb') as f:
                f.write(data)
            start_response('201 Created', [])
            return [b'']

        self.filter = stage_digests.StageDigests(app)
        self.stage()
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_stage_empty_body(self):
        self.stage(data=b'')
        self.assertEqual(expected(b'', DEFAULT), self.recorded())

    def test_stage_trailing_slash(self):
        self.stage(path=STAGE_PATH + '/')
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_answer_body_and_status_pass_through(self):
        def app(environ, start_response):
            data = environ['wsgi.input'].read(len(DATA))
            with open(self.staged, 'wb') as f:
                f.write(data)
            start_response('200 OK', [('X-Test', 'yes')])
            return [b'one', b'two']

        self.filter = stage_digests.StageDigests(app)
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)

        req = webob.Request.blank(STAGE_PATH, method='PUT', body=DATA)
        body = b''.join(self.filter(req.environ, start_response))
        self.assertEqual(b'onetwo', body)
        self.assertEqual('200 OK', answer['status'])
        self.assertEqual([('X-Test', 'yes')], answer['headers'])
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_closes_the_inner_result(self):
        closed = []

        class Result(list):
            def close(self):
                closed.append(True)

        def app(environ, start_response):
            data = environ['wsgi.input'].read(len(DATA))
            with open(self.staged, 'wb') as f:
                f.write(data)
            start_response('204 No Content', [])
            return Result([b''])

        self.filter = stage_digests.StageDigests(app)
        self.stage()
        self.assertEqual([True], closed)

    # -- algorithms -------------------------------------------------------
    def test_algorithms_configured_plus_declared(self):
        self.repo.image = FakeImage({
            'expected_digest_md5': 'x',
            'expected_digest_SHA3-256': 'x',
            'expected_digest_sha256': 'x',          # already configured
            'expected_digest_nope': 'x',            # unknown: ignored
            'expected_digest_shake_128': 'x',       # no fixed size: ignored
            'expected_digest_': 'x',
            'other_md5': 'x',
        })
        self.stage()
        self.assertEqual([IMAGE_ID], self.repo.asked)
        self.assertEqual(expected(DATA, ['md5', 'sha256', 'sha3_256',
                                         'sha512']), self.recorded())

    def test_algorithms_without_context(self):
        self.context = None
        self.repo.image = FakeImage({'expected_digest_md5': 'x'})
        self.stage()
        self.assertEqual([], self.repo.asked)
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_algorithms_configured(self):
        self.conf.config(algorithms=['SHA1', 'blake2b'],
                         group='stage_digests')
        self.stage()
        self.assertEqual(expected(DATA, ['sha1', 'blake2b']),
                         self.recorded())

    def test_algorithms_none_configured_none_declared(self):
        self.conf.config(algorithms=[], group='stage_digests')
        with mock.patch.object(stage_digests, 'Hashers') as hashers:
            status, _ = self.stage()
        hashers.assert_not_called()
        self.assertEqual('204 No Content', status)
        self.assertEqual(DATA, self.app.read)
        self.assertNoRecord()

    def test_algorithms_capped(self):
        self.conf.config(algorithms=[], group='stage_digests')
        names = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512',
                 'sha3_224', 'sha3_256', 'sha3_384', 'sha3_512', 'blake2b']
        self.repo.image = FakeImage({'expected_digest_' + n: 'x'
                                     for n in names})
        self.stage()
        recorded = self.recorded()
        self.assertEqual(stage_digests.MAX_ALGORITHMS, len(recorded))
        self.assertEqual(sorted(names)[:stage_digests.MAX_ALGORITHMS],
                         sorted(recorded))
        self.assertEqual(expected(DATA, recorded), recorded)

    def test_configured_algorithms(self):
        self.assertEqual(DEFAULT, stage_digests.configured_algorithms())
        self.conf.config(algorithms=['SHA256', 'sha3-512'],
                         group='stage_digests')
        self.assertEqual(['sha256', 'sha3_512'],
                         stage_digests.configured_algorithms())
        for bad in (['nope'], ['sha256', 'shake_256']):
            self.conf.config(algorithms=bad, group='stage_digests')
            exc = self.assertRaises(errors.ConfigError,
                                    stage_digests.configured_algorithms)
            self.assertIn('[stage_digests] algorithms', str(exc))

    def test_declared_algorithms(self):
        self.assertEqual([], declarations.declared_algorithms({}))
        self.assertEqual(
            ['md5', 'sha3_256'],
            sorted(declarations.declared_algorithms({
                'expected_digest_MD5': 'x', 'expected_digest_sha3-256': 'x',
                'expected_digest_nope': 'x', 'expected_digest_shake_256': 'x',
                'checksum': 'x', 'os_hash_algo': 'sha512'})))

    def test_bad_algorithms_option_passes_through(self):
        self.conf.config(algorithms=['nope'], group='stage_digests')
        with mock.patch.object(stage_digests, 'Hashers') as hashers:
            status, _ = self.stage()
        hashers.assert_not_called()
        self.assertEqual('204 No Content', status)
        self.assertEqual(DATA, self.app.read)
        self.assertNoRecord()
        self.assertIn('not hashing while staging (ConfigError',
                      self.log.output)

    def test_staging_dir_error_passes_through(self):
        glance_internals.staging_dir.side_effect = ValueError('bad uri')
        status, _ = self.stage()
        self.assertEqual('204 No Content', status)
        self.assertEqual(DATA, self.app.read)
        self.assertNoRecord()
        self.assertIn('bad uri', self.log.output)

    def test_no_staging_dir_passes_through(self):
        glance_internals.staging_dir.return_value = None
        req = webob.Request.blank(STAGE_PATH, method='PUT', body=DATA)
        raw = req.environ['wsgi.input']
        with mock.patch.object(stage_digests, 'Hashers') as hashers:
            self.call(req.environ)
        hashers.assert_not_called()
        self.assertIs(raw, self.app.environ['wsgi.input'])
        self.assertNoRecord()

    def test_image_not_visible_passes_through(self):
        for error in (exception.ImageNotFound(), exception.NotFound(),
                      exception.Forbidden()):
            self.repo.error = error
            req = webob.Request.blank(STAGE_PATH, method='PUT', body=DATA)
            raw = req.environ['wsgi.input']
            with mock.patch.object(stage_digests, 'Hashers') as hashers:
                status, _ = self.call(req.environ)
            hashers.assert_not_called()
            self.assertEqual('204 No Content', status)
            self.assertIs(req.environ, self.app.environ)
            self.assertIs(raw, self.app.environ['wsgi.input'])
            self.assertEqual(DATA, self.app.read)
            self.assertNoRecord()

    def test_image_repo_other_error_passes_through(self):
        self.repo.error = RuntimeError('db down')
        status, _ = self.stage()
        self.assertEqual('204 No Content', status)
        self.assertEqual(DATA, self.app.read)
        self.assertNoRecord()
        self.assertIn('RuntimeError: db down', self.log.output)

    # -- what writes no record --------------------------------------------
    def test_error_answer_writes_none_keeps_earlier(self):
        self.stage()
        with open(self.record, 'rb') as f:
            before = f.read()
        self.app.status = '409 Conflict'
        self.app.write = False
        status, _ = self.stage(data=b'other data')
        self.assertEqual('409 Conflict', status)
        with open(self.record, 'rb') as f:
            self.assertEqual(before, f.read())
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_error_answer_after_writing_writes_none(self):
        self.app.status = '500 Internal Server Error'
        self.stage()
        self.assertNoRecord()

    def test_app_raises(self):
        def app(environ, start_response):
            environ['wsgi.input'].read(10)
            raise RuntimeError('boom')

        self.filter = stage_digests.StageDigests(app)
        self.stage_file()
        self.assertRaises(RuntimeError, self.stage)
        self.assertNoRecord()

    def test_app_reads_less_than_content_length(self):
        self.app.limit = len(DATA) - 1
        status, _ = self.stage()
        self.assertEqual('204 No Content', status)
        self.assertEqual(len(DATA) - 1, os.path.getsize(self.staged))
        self.assertNoRecord()
        self.assertIn('%d bytes hashed, staged file has %d' % (
            len(DATA) - 1, len(DATA) - 1), self.log.output)

    def test_staged_file_larger_than_hashed(self):
        self.app.extra = b'x'
        self.stage()
        self.assertNoRecord()

    def test_staged_file_missing_after_2xx(self):
        self.app.write = False
        status, _ = self.stage()
        self.assertEqual('204 No Content', status)
        self.assertNoRecord()
        self.assertIn('could not record its digests', self.log.output)

    def test_client_gone_body_shorter_than_content_length(self):
        # The client announced DATA's length and went away half way: the
        # server's input returns b'' early; Glance wrote what came.
        half = DATA[:len(DATA) // 2]
        req = webob.Request.blank(STAGE_PATH, method='PUT')
        req.environ['wsgi.input'] = io.BytesIO(half)
        req.environ['CONTENT_LENGTH'] = str(len(DATA))
        status, _ = self.call(req.environ)
        self.assertEqual('204 No Content', status)
        self.assertEqual(half, self.app.read)
        self.assertFalse(os.path.lexists(self.record))
        self.assertNoRecord()

    def test_bad_content_length_passes_through(self):
        req = webob.Request.blank(STAGE_PATH, method='PUT', body=DATA)
        raw = req.environ['wsgi.input']
        req.environ['CONTENT_LENGTH'] = 'many'
        self.app.limit = len(DATA)
        self.call(req.environ)
        self.assertIs(raw, self.app.environ['wsgi.input'])
        self.assertNoRecord()

    # -- chunked ----------------------------------------------------------
    def fake_uwsgi(self, pieces):
        calls = []
        pieces = list(pieces)

        def chunked_read(timeout=None):
            calls.append(True)
            return pieces.pop(0) if pieces else b''

        fake = types.SimpleNamespace(chunked_read=chunked_read, calls=calls)
        self.fake_module(fake)
        return fake

    def fake_module(self, uwsgi):
        patcher = mock.patch.dict(sys.modules, {'uwsgi': uwsgi})
        patcher.start()
        self.addCleanup(patcher.stop)

    def chunked_environ(self):
        req = webob.Request.blank(STAGE_PATH, method='PUT')
        req.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
        req.environ.pop('CONTENT_LENGTH', None)
        req.environ['wsgi.input'] = io.BytesIO(b'must not be read')
        return req.environ

    def check_chunked(self, via_webob):
        pieces = [DATA[i:i + 1000] for i in range(0, len(DATA), 1000)]
        self.fake_uwsgi(pieces)
        self.app.via_webob = via_webob
        environ = self.chunked_environ()
        status, _ = self.call(environ)
        self.assertEqual('204 No Content', status)
        seen = self.app.environ
        self.assertNotIn('HTTP_TRANSFER_ENCODING', seen)
        self.assertNotIn('CONTENT_LENGTH', seen)
        self.assertIs(True, seen['wsgi.input_terminated'])
        self.assertEqual(DATA, self.app.read)
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())
        # The caller's environ is left as it was.
        self.assertEqual('chunked', environ['HTTP_TRANSFER_ENCODING'])

    def test_chunked_under_uwsgi(self):
        self.check_chunked(via_webob=False)

    def test_chunked_under_uwsgi_read_by_webob(self):
        self.check_chunked(via_webob=True)

    def test_chunked_via_patch_dict(self):
        pieces = [b'ab', b'cde', b'f']
        fake = types.SimpleNamespace(
            chunked_read=mock.Mock(side_effect=pieces + [b'']))
        with mock.patch.dict(sys.modules, {'uwsgi': fake}):
            self.call(self.chunked_environ())
        self.assertEqual(b'abcdef', self.app.read)
        self.assertEqual(expected(b'abcdef', DEFAULT), self.recorded())

    def test_chunked_error_answer(self):
        self.fake_uwsgi([DATA])
        self.app.status = '413 Request Entity Too Large'
        self.call(self.chunked_environ())
        self.assertNoRecord()

    def test_chunked_app_stops_early(self):
        self.fake_uwsgi([DATA[:100], DATA[100:]])
        self.app.limit = 50
        self.call(self.chunked_environ())
        self.assertEqual(DATA[:50], self.app.read)
        self.assertNoRecord()

    def test_chunked_without_uwsgi_passes_through(self):
        self.fake_module(None)     # import uwsgi: ImportError
        environ = self.chunked_environ()
        self.app.limit = 100
        self.call(environ)
        self.assertEqual('chunked',
                         self.app.environ['HTTP_TRANSFER_ENCODING'])
        self.assertIs(environ['wsgi.input'], self.app.environ['wsgi.input'])
        self.assertNoRecord()

    def test_chunked_uwsgi_without_chunked_read_passes_through(self):
        self.fake_module(types.SimpleNamespace())
        environ = self.chunked_environ()
        self.call(environ)
        self.assertEqual('chunked',
                         self.app.environ['HTTP_TRANSFER_ENCODING'])
        self.assertNoRecord()

    def test_uwsgi_chunked_input_reads(self):
        hashers = mock.Mock()
        fake = mock.Mock()
        fake.chunked_read.side_effect = [b'abc', b'defgh', b'']
        stream = stage_digests.UwsgiChunkedInput(fake, hashers)
        self.assertEqual(b'ab', stream.read(2))
        self.assertEqual(b'cdef', stream.read(4))
        self.assertEqual(b'gh', stream.read(10))
        self.assertEqual(b'', stream.read(10))
        self.assertEqual(b'', stream.read())
        self.assertEqual(3, fake.chunked_read.call_count)
        self.assertEqual([mock.call(b'abc'), mock.call(b'defgh'),
                          mock.call(b'')], hashers.feed.call_args_list)

    def test_uwsgi_chunked_input_read_all(self):
        hashers = mock.Mock()
        fake = mock.Mock()
        fake.chunked_read.side_effect = [b'abc', b'de', b'']
        stream = stage_digests.UwsgiChunkedInput(fake, hashers)
        self.assertEqual(b'abcde', stream.read())
        self.assertEqual(b'', stream.read(None))

    def test_hashers(self):
        hashers = stage_digests.Hashers(['md5', 'sha256', 'sha512'])
        for piece in (DATA[:10], b'', DATA[10:]):
            hashers.feed(piece)
        self.assertTrue(hashers.ended)
        self.assertEqual(len(DATA), hashers.total)
        self.assertEqual(expected(DATA, ['md5', 'sha256', 'sha512']),
                         hashers.finish())

    # -- framings left to Glance ------------------------------------------
    # (Transfer-Encoding, Content-Length) as the environ has them; None:
    # the header is absent. Glance sizes a chunked body by its
    # Content-Length and refuses it when they differ, reads no body for a
    # coding it does not know, and so on: the filter must not decide.
    LEFT_TO_GLANCE = [
        ('chunked', str(len(DATA))),
        ('chunked', '12'),
        ('Chunked', '0'),
        ('CHUNKED', 'abc'),
        ('chunked', '-1'),
        ('gzip, chunked', None),
        ('gzip, chunked', str(len(DATA))),
        ('chunked, chunked', None),
        ('chunked,chunked', None),
        ('identity', None),
        ('identity', str(len(DATA))),
        ('gzip', None),
        ('', None),
        ('', str(len(DATA))),
        (None, None),
        (None, ''),
        (None, 'abc'),
        (None, '-1'),
        (None, '+%d' % len(DATA)),
        (None, ' %d' % len(DATA)),
        (None, '%d, %d' % (len(DATA), len(DATA))),
        (None, '1e3'),
        (None, '7_6804'),
        (None, '%d\n' % len(DATA)),
    ]

    def framed_environ(self, encoding, length):
        req = webob.Request.blank(STAGE_PATH, method='PUT', body=DATA)
        for name, value in (('HTTP_TRANSFER_ENCODING', encoding),
                            ('CONTENT_LENGTH', length)):
            if value is None:
                req.environ.pop(name, None)
            else:
                req.environ[name] = value
        return req.environ

    def test_stage_framing(self):
        for encoding, length in self.LEFT_TO_GLANCE:
            self.assertIsNone(stage_digests.stage_framing(
                self.framed_environ(encoding, length)), (encoding, length))
        for encoding, length, framing in [
                (None, '0', stage_digests.BY_LENGTH),
                (None, '76804', stage_digests.BY_LENGTH),
                (None, '000123', stage_digests.BY_LENGTH),
                ('chunked', None, stage_digests.CHUNKED),
                ('chunked', '', stage_digests.CHUNKED),
                ('Chunked', None, stage_digests.CHUNKED),
                ('CHUNKED', None, stage_digests.CHUNKED)]:
            self.assertEqual(framing, stage_digests.stage_framing(
                self.framed_environ(encoding, length)), (encoding, length))

    def test_other_framings_reach_glance_untouched_and_unhashed(self):
        fake = self.fake_uwsgi([DATA])
        self.app.limit = len(DATA)
        with mock.patch.object(stage_digests, 'Hashers') as hashers:
            for encoding, length in self.LEFT_TO_GLANCE:
                environ = self.framed_environ(encoding, length)
                before = dict(environ)
                status, _ = self.call(environ)
                self.assertEqual('204 No Content', status)
                # The very environ, headers and input as they came.
                self.assertIs(environ, self.app.environ)
                self.assertEqual(before, environ, (encoding, length))
                os.remove(self.staged)
        hashers.assert_not_called()
        self.assertEqual([], fake.calls)
        self.assertEqual([], self.repo.asked)
        self.assertNoRecord()
        self.assertIn("Stage of image %s: not hashed, its framing is left "
                      "to Glance (Transfer-Encoding 'chunked', "
                      "Content-Length '%d')" % (IMAGE_ID, len(DATA)),
                      self.log.output)

    def test_chunked_with_content_length_refused_by_glance(self):
        # Glance refuses a chunked body whose Content-Length is not its
        # length (glance_store: size mismatch): the filter lets it.
        def glance(environ, start_response):
            self.assertEqual('chunked', environ['HTTP_TRANSFER_ENCODING'])
            self.assertEqual('12', environ['CONTENT_LENGTH'])
            start_response('400 Bad Request', [])
            return [b'Size mismatch']

        self.filter = stage_digests.StageDigests(glance)
        self.fake_uwsgi([DATA])
        self.stage_file()
        stage_record.write(self.staged, IMAGE_ID, {'sha256': 'a' * 64})
        status, body = self.call(self.framed_environ('chunked', '12'))
        self.assertEqual(('400 Bad Request', b'Size mismatch'),
                         (status, body))
        # The earlier record is neither replaced nor removed.
        self.assertEqual({'sha256': 'a' * 64}, self.recorded())

    def test_chunked_with_empty_content_length_is_hashed(self):
        self.fake_uwsgi([DATA[:5000], DATA[5000:]])
        status, _ = self.call(self.framed_environ('chunked', ''))
        self.assertEqual('204 No Content', status)
        self.assertNotIn('CONTENT_LENGTH', self.app.environ)
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_chunked_keeps_glances_image_size_header(self):
        # Glance checks the stored size against X-Openstack-Image-Size:
        # the filter leaves it, so Glance refuses the same bodies.
        self.fake_uwsgi([DATA])
        environ = self.chunked_environ()
        environ['HTTP_X_OPENSTACK_IMAGE_SIZE'] = '5'
        self.call(environ)
        self.assertEqual('5', self.app.environ['HTTP_X_OPENSTACK_IMAGE_SIZE'])

    # -- other requests ---------------------------------------------------
    def test_other_requests_pass_through(self):
        calls = []

        def app(environ, start_response):
            calls.append(environ)
            start_response('200 OK', [])
            return [b'inner']

        self.filter = stage_digests.StageDigests(app)
        cases = [('GET', STAGE_PATH), ('POST', STAGE_PATH),
                 ('PUT', '/v2/images/%s/file' % IMAGE_ID),
                 ('PUT', '/v2/images/%s' % IMAGE_ID),
                 ('PUT', '/v2/images/not-an-id/stage'),
                 ('PUT', '/v1/images/%s/stage' % IMAGE_ID),
                 ('PUT', STAGE_PATH + '/x'),
                 ('GET', '/v2/images/%s' % IMAGE_ID),
                 ('PATCH', '/v2/images/%s' % IMAGE_ID),
                 ('DELETE', '/v2/images/%s/stage' % IMAGE_ID)]
        with mock.patch.object(stage_digests, 'Hashers') as hashers:
            for method, path in cases:
                req = webob.Request.blank(path, method=method, body=DATA)
                raw = req.environ['wsgi.input']
                del calls[:]
                status, body = self.call(req.environ)
                self.assertEqual('200 OK', status)
                self.assertEqual(b'inner', body)
                self.assertEqual(1, len(calls))
                self.assertIs(req.environ, calls[0])
                self.assertIs(raw, calls[0]['wsgi.input'])
        hashers.assert_not_called()
        self.request_context.assert_not_called()
        self.assertNoRecord()

    def test_delete_removes_record(self):
        self.stage()
        self.assertTrue(os.path.exists(self.record))

        def app(environ, start_response):
            start_response('204 No Content', [])
            return [b'']

        self.filter = stage_digests.StageDigests(app)
        status, _ = self.stage(data=b'', method='DELETE',
                               path='/v2/images/%s' % IMAGE_ID)
        self.assertEqual('204 No Content', status)
        self.assertNoRecord()
        self.assertTrue(os.path.exists(self.staged))

    def test_delete_error_keeps_record(self):
        self.stage()

        def app(environ, start_response):
            start_response('403 Forbidden', [])
            return [b'no']

        self.filter = stage_digests.StageDigests(app)
        status, body = self.stage(data=b'', method='DELETE',
                                  path='/v2/images/%s/' % IMAGE_ID)
        self.assertEqual(('403 Forbidden', b'no'), (status, body))
        self.assertEqual(expected(DATA, DEFAULT), self.recorded())

    def test_delete_of_other_image_keeps_record(self):
        self.stage()

        def app(environ, start_response):
            start_response('204 No Content', [])
            return [b'']

        self.filter = stage_digests.StageDigests(app)
        self.stage(data=b'', method='DELETE', path='/v2/images/%s' % OTHER_ID)
        self.assertTrue(os.path.exists(self.record))

    def test_delete_without_staging_dir(self):
        def app(environ, start_response):
            start_response('204 No Content', [])
            return [b'']

        self.filter = stage_digests.StageDigests(app)
        glance_internals.staging_dir.side_effect = ValueError('bad')
        status, _ = self.stage(data=b'', method='DELETE',
                               path='/v2/images/%s' % IMAGE_ID)
        self.assertEqual('204 No Content', status)

    def test_filter_factory(self):
        app = object()
        made = stage_digests.filter_factory({}, foo='bar')(app)
        self.assertIsInstance(made, stage_digests.StageDigests)
        self.assertIs(app, made.app)

    def test_record_used_by_take(self):
        self.stage()
        self.assertEqual((expected(DATA, DEFAULT), None),
                         stage_record.take(self.staged, IMAGE_ID))
        self.assertNoRecord()


class TestImportDigestsRecorded(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'staged')
        with open(self.path, 'wb') as f:
            f.write(DATA)
        self.reads = 0
        self.passes = []
        real = hashing.digest_stream

        def digest_stream(chunks, algorithms, progress=None):
            self.passes.append(list(algorithms))
            return real(chunks, algorithms, progress)

        self.useFixture(fixtures.MockPatchObject(
            hashing, 'digest_stream', side_effect=digest_stream))

    def chunks(self):
        self.reads += 1
        with open(self.path, 'rb') as f:
            data = f.read()
        return iter([data[:1000], data[1000:]])

    def never(self):
        raise AssertionError('the data was read')

    def test_all_recorded_no_read(self):
        digests = hashing.ImportDigests()
        recorded = mock.Mock(return_value=(expected(DATA, DEFAULT), None))
        found = digests.of(self.never, self.path, DEFAULT, recorded=recorded)
        self.assertEqual(expected(DATA, DEFAULT), found)
        self.assertEqual([], self.passes)
        # Later calls for the same file: neither recorded nor data again.
        self.assertEqual({'sha256': expected(DATA, DEFAULT)['sha256']},
                         digests.of(self.never, self.path, ['sha256'],
                                    recorded=recorded))
        recorded.assert_called_once_with()

    def test_recorded_values_are_trusted(self):
        # Proof that they are used, not recomputed: a value that is not
        # the data's digest comes back as is.
        fake = 'ab' * 32
        digests = hashing.ImportDigests()
        found = digests.of(self.never, self.path, ['sha256'],
                           recorded=lambda: ({'sha256': fake}, None))
        self.assertEqual({'sha256': fake}, found)

    def test_partial_one_pass_for_the_missing(self):
        fake = 'cd' * 32
        digests = hashing.ImportDigests()
        digests.want(['md5'])
        found = digests.of(self.chunks, self.path, ['sha256', 'sha512'],
                           recorded=lambda: ({'sha256': fake}, None))
        self.assertEqual(1, self.reads)
        self.assertEqual([['md5', 'sha512']], self.passes)
        self.assertEqual({'sha256': fake,
                          'sha512': expected(DATA, ['sha512'])['sha512']},
                         found)
        # md5, wanted by another plugin, came in that same pass.
        self.assertEqual(expected(DATA, ['md5']),
                         digests.of(self.never, self.path, ['md5']))

    def test_recorded_cover_the_request_not_the_wanted(self):
        digests = hashing.ImportDigests()
        digests.want(['md5'])
        found = digests.of(self.never, self.path, ['sha256'],
                           recorded=lambda: (expected(DATA, ['sha256']),
                                             None))
        self.assertEqual(expected(DATA, ['sha256']), found)
        self.assertEqual([], self.passes)
        self.assertEqual(expected(DATA, ['md5']),
                         digests.of(self.chunks, self.path, ['md5']))
        self.assertEqual([['md5']], self.passes)

    def test_no_record_normal_pass(self):
        digests = hashing.ImportDigests()
        log = self.useFixture(fixtures.FakeLogger())
        found = digests.of(self.chunks, self.path, DEFAULT,
                           recorded=lambda: (None, 'no record'))
        self.assertEqual(expected(DATA, DEFAULT), found)
        self.assertEqual(1, self.reads)
        self.assertEqual([DEFAULT], self.passes)
        self.assertIn('no record', log.output)

    def test_without_recorded(self):
        digests = hashing.ImportDigests()
        self.assertEqual(expected(DATA, DEFAULT),
                         digests.of(self.chunks, self.path, DEFAULT))
        self.assertEqual(1, self.reads)

    def test_invalid_recorded_values_ignored(self):
        digests = hashing.ImportDigests()
        wanted = ['md5', 'sha1', 'sha256', 'sha512']
        recorded = {
            'sha256': 'zz' * 32,        # not hex
            'sha512': 'ab' * 10,        # wrong length
            'md5': '',                  # empty
            'nope': 'ab' * 32,          # unknown algorithm
            'shake_128': 'ab' * 16,     # no fixed length
            'sha1': expected(DATA, ['sha1'])['sha1'],   # valid
        }
        found = digests.of(self.chunks, self.path, wanted,
                           recorded=lambda: (recorded, None))
        self.assertEqual(expected(DATA, wanted), found)
        self.assertEqual([['md5', 'sha256', 'sha512']], self.passes)

    def test_recorded_names_and_values_normalised(self):
        value = expected(DATA, ['sha3_256'])['sha3_256']
        digests = hashing.ImportDigests()
        found = digests.of(self.never, self.path, ['sha3_256'],
                           recorded=lambda: ({'SHA3-256': value.upper()},
                                             None))
        self.assertEqual({'sha3_256': value}, found)

    def test_recorded_value_with_whitespace(self):
        value = expected(DATA, ['sha256'])['sha256']
        digests = hashing.ImportDigests()
        found = digests.of(self.chunks, self.path, ['sha256'],
                           recorded=lambda: ({'sha256': ' %s\n' % value},
                                             None))
        self.assertEqual({'sha256': value}, found)

    def test_recorded_called_again_for_a_new_version(self):
        digests = hashing.ImportDigests()
        recorded = mock.Mock(return_value=(expected(DATA, DEFAULT), None))
        digests.of(self.never, self.path, DEFAULT, recorded=recorded)
        with open(self.path, 'ab') as f:
            f.write(b'more')
        recorded.return_value = (None, 'the staged file changed')
        found = digests.of(self.chunks, self.path, DEFAULT,
                           recorded=recorded)
        self.assertEqual(expected(DATA + b'more', DEFAULT), found)
        self.assertEqual(2, recorded.call_count)
        self.assertEqual(1, self.reads)

    def test_with_stage_record_take(self):
        # The wiring of common/task.py: recorded=take(path, image id).
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(record_key='k', group='glance_import_ext')
        self.useFixture(fixtures.MockPatchObject(
            stage_record, 'boot_id', return_value='boot-1'))
        stage_record.write(self.path, IMAGE_ID, expected(DATA, DEFAULT))
        digests = hashing.ImportDigests()
        found = digests.of(self.never, self.path, DEFAULT,
                           recorded=lambda: stage_record.take(self.path,
                                                              IMAGE_ID))
        self.assertEqual(expected(DATA, DEFAULT), found)
        self.assertFalse(os.path.lexists(stage_record.path_of(self.path)))
        # A record of another image: a normal pass.
        stage_record.write(self.path, OTHER_ID, expected(DATA, DEFAULT))
        digests = hashing.ImportDigests()
        found = digests.of(self.chunks, self.path, DEFAULT,
                           recorded=lambda: stage_record.take(self.path,
                                                              IMAGE_ID))
        self.assertEqual(expected(DATA, DEFAULT), found)
        self.assertEqual(1, self.reads)

    def test_public_helpers(self):
        self.assertEqual([[1, 3], [2]], hashing.spread([1, 2, 3], 2))
        self.assertEqual([[1], [2]], hashing.spread([1, 2], 8))
        h = hashlib.sha256()
        feed = hashing.HashThread([h])
        feed.put(b'abc')
        feed.close()
        self.assertEqual(hashlib.sha256(b'abc').hexdigest(), h.hexdigest())
