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

"""hashing: one-pass digests and checks of declared algorithms/digests."""

import hashlib
import os
from unittest import mock

import fixtures
import testtools

from glance_import_ext.common import hashing
from glance_import_ext.common import import_state

DATA = bytes(range(256)) * 40 + b'tail'  # 10244 bytes
SEVERAL = ['md5', 'sha1', 'sha256', 'sha512', 'sha3_256', 'blake2b']


def chunked(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


def expected(data, algorithms):
    return {a: hashlib.new(a, data).hexdigest() for a in algorithms}


class TestDigestStream(testtools.TestCase):

    def check(self, data, algorithms, chunk_size=1000):
        digests, total = hashing.digest_stream(chunked(data, chunk_size),
                                               algorithms)
        self.assertEqual(expected(data, algorithms), digests)
        self.assertEqual(len(data), total)

    def test_one_algorithm(self):
        self.check(DATA, ['sha256'])

    def test_several_algorithms(self):
        self.check(DATA, SEVERAL)

    def test_empty_input(self):
        self.check(b'', ['sha256'])
        self.check(b'', SEVERAL)

    def test_threads_bounded_by_cores(self):
        real = hashing.HashThread
        for cores in (1, 2, 64):
            started = []

            def counting(hashers):
                started.append(len(hashers))
                return real(hashers)
            with mock.patch.object(hashing, 'max_threads',
                                   return_value=cores), \
                    mock.patch.object(hashing, 'HashThread',
                                      side_effect=counting):
                self.check(DATA, SEVERAL)
            self.assertEqual(min(cores, len(SEVERAL)), len(started))
            self.assertEqual(len(SEVERAL), sum(started))

    def test_one_empty_chunk(self):
        digests, total = hashing.digest_stream([b''], SEVERAL)
        self.assertEqual(expected(b'', SEVERAL), digests)
        self.assertEqual(0, total)

    def test_many_more_chunks_than_queue_depth(self):
        self.check(DATA, SEVERAL, chunk_size=7)

    def test_algorithms_as_dict_keys(self):
        # checksum_verify passes its {algorithm: digest} declarations.
        digests, _ = hashing.digest_stream([DATA], {'md5': 'x', 'sha1': 'y'})
        self.assertEqual(expected(DATA, ['md5', 'sha1']), digests)

    def test_no_algorithm_still_counts(self):
        self.assertEqual(({}, len(DATA)),
                         hashing.digest_stream(chunked(DATA, 1000), []))

    def test_progress_gets_running_total(self):
        for algorithms in (['sha256'], SEVERAL):
            seen = []
            hashing.digest_stream([b'abc', b'de', b'f'], algorithms,
                                  progress=seen.append)
            self.assertEqual([3, 5, 6], seen)

    def test_error_while_reading_propagates(self):
        def chunks():
            yield b'abc'
            raise OSError('disk gone')
        for algorithms in (['sha256'], SEVERAL):
            self.assertRaises(OSError, hashing.digest_stream, chunks(),
                              algorithms)

    def test_error_from_progress_propagates(self):
        def progress(total):
            raise RuntimeError('aborted')
        self.assertRaises(RuntimeError, hashing.digest_stream,
                          chunked(DATA, 100), SEVERAL, progress)


class TestMultiDigest(testtools.TestCase):

    def feed(self, hasher, pieces):
        for piece in pieces:
            hasher.update(piece)
        return hasher.hexdigests()

    def test_small_pieces_batched_across_the_batch_size(self):
        data = os.urandom(3 * hashing.BATCH + 17)
        for algorithms in (['sha256'], SEVERAL):
            hasher = hashing.MultiDigest(algorithms, threaded=True)
            self.assertEqual(expected(data, algorithms),
                             self.feed(hasher, chunked(data, 65536)))
            self.assertEqual(len(data), hasher.total)

    def test_one_algorithm_hashed_in_the_feeding_thread(self):
        with mock.patch.object(hashing, 'HashThread') as thread:
            hasher = hashing.MultiDigest(['sha256'])
            self.assertEqual(expected(DATA, ['sha256']),
                             self.feed(hasher, chunked(DATA, 100)))
        thread.assert_not_called()

    def test_empty_pieces_change_nothing(self):
        hasher = hashing.MultiDigest(SEVERAL, threaded=True)
        self.assertEqual(expected(DATA, SEVERAL),
                         self.feed(hasher, [b'', DATA, b'', b'']))

    def test_no_algorithm_no_thread(self):
        hasher = hashing.MultiDigest([], threaded=True)
        self.assertEqual({}, self.feed(hasher, [DATA]))
        self.assertEqual(len(DATA), hasher.total)


class TestCheckAlgorithm(testtools.TestCase):

    def test_canonical_name_and_digest_size(self):
        self.assertEqual(('sha256', 32), hashing.check_algorithm('SHA256'))
        self.assertEqual(('sha3_256', 32),
                         hashing.check_algorithm('sha3-256'))
        self.assertEqual(('blake2b', 64), hashing.check_algorithm('blake2b'))

    def test_rejects_unknown(self):
        exc = self.assertRaises(ValueError, hashing.check_algorithm, 'nope')
        self.assertIn("unknown digest algorithm 'nope'", str(exc))
        self.assertIn('sha256', str(exc))

    def test_rejects_empty_name(self):
        self.assertRaises(ValueError, hashing.check_algorithm, '')

    def test_rejects_shake(self):
        for name in ('shake_128', 'SHAKE-256'):
            exc = self.assertRaises(ValueError, hashing.check_algorithm,
                                    name)
            self.assertIn('no fixed digest length', str(exc))

    def test_supported_has_no_shake(self):
        supported = hashing.supported()
        self.assertIn('sha256', supported)
        self.assertFalse([a for a in supported if a.startswith('shake')])


class TestCheckHexDigest(testtools.TestCase):

    SHA256 = hashlib.sha256(b'x').hexdigest()

    def test_normalises_case_and_whitespace(self):
        self.assertEqual(
            ('sha256', self.SHA256),
            hashing.check_hex_digest('SHA256',
                                     '  %s\n' % self.SHA256.upper()))

    def test_rejects_non_hex(self):
        for value in ('g' * 64, self.SHA256[:-1] + 'z', '0x' + '0' * 62,
                      self.SHA256[:32] + ' ' + self.SHA256[33:], ''):
            exc = self.assertRaises(ValueError, hashing.check_hex_digest,
                                    'sha256', value)
            self.assertIn('is not hexadecimal', str(exc))

    def test_rejects_wrong_length(self):
        for value in (self.SHA256[:-2], self.SHA256 + 'ab',
                      hashlib.md5(b'x').hexdigest()):
            exc = self.assertRaises(ValueError, hashing.check_hex_digest,
                                    'sha256', value)
            self.assertIn('expected 64', str(exc))

    def test_rejects_unknown_algorithm(self):
        self.assertRaises(ValueError, hashing.check_hex_digest, 'nope',
                          self.SHA256)


class Wrapper:
    """Stands in for Glance's ImportActionWrapper."""


class TestImportDigests(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'staged')
        self.write(b'first data' * 1000)
        self.reads = 0

    def write(self, data):
        with open(self.path, 'wb') as f:
            f.write(data)
        self.data = data

    def chunks(self):
        self.reads += 1
        with open(self.path, 'rb') as f:
            yield f.read()

    def test_one_pass_serves_every_plugin(self):
        digests = hashing.ImportDigests()
        digests.want(['md5', 'sha512'])
        digests.want(['sha256'])
        first = digests.of(self.chunks, self.path, ['sha256'])
        second = digests.of(self.chunks, self.path, ['md5', 'sha512'])
        self.assertEqual(1, self.reads)
        self.assertEqual(hashlib.sha256(self.data).hexdigest(),
                         first['sha256'])
        self.assertEqual(hashlib.md5(self.data).hexdigest(), second['md5'])

    def test_an_algorithm_nobody_announced_costs_one_more_pass(self):
        digests = hashing.ImportDigests()
        digests.want(['sha256'])
        digests.of(self.chunks, self.path, ['sha256'])
        result = digests.of(self.chunks, self.path, ['sha3_256'])
        self.assertEqual(2, self.reads)
        self.assertEqual(hashlib.sha3_256(self.data).hexdigest(),
                         result['sha3_256'])

    def test_rewritten_data_is_hashed_again(self):
        digests = hashing.ImportDigests()
        digests.of(self.chunks, self.path, ['sha256'])
        self.write(b'converted by a later plugin, longer than before')
        result = digests.of(self.chunks, self.path, ['sha256'])
        self.assertEqual(2, self.reads)
        self.assertEqual(hashlib.sha256(self.data).hexdigest(),
                         result['sha256'])

    def test_shared_per_import(self):
        # One ImportState per Glance action wrapper (one per import), even
        # for imports that reuse a task id.
        wrapper, other = Wrapper(), Wrapper()
        self.assertIs(import_state.of(wrapper).digests,
                      import_state.of(wrapper).digests)
        self.assertIsNot(import_state.of(wrapper),
                         import_state.of(other))
