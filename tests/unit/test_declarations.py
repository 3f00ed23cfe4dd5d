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

"""declarations: the rules of expected_digest_<algorithm>, in one place."""

import hashlib

import testtools

from glance_import_ext.common import declarations

DATA = b'the staged image data'
DECLARED = {'expected_digest_%s' % a: hashlib.new(a, DATA).hexdigest()
            for a in ('md5', 'sha1', 'sha256', 'sha512', 'sha3_256')}


class TestDeclaredDigests(testtools.TestCase):

    def test_no_limit_accepts_every_declaration(self):
        self.assertEqual(5, len(declarations.declared_digests(DECLARED)))

    def test_limit_names_the_declared_algorithms(self):
        exc = self.assertRaises(ValueError, declarations.declared_digests,
                                DECLARED, 4)
        self.assertIn('5 digest algorithms are declared (md5, sha1, '
                      'sha256, sha3_256, sha512), at most 4', str(exc))
        self.assertEqual(5, len(declarations.declared_digests(DECLARED, 5)))


class TestDeclaredAlgorithms(testtools.TestCase):

    def test_valid_algorithms_whatever_the_value(self):
        # Work done ahead needs the algorithm only: a bad value is the
        # import's check to refuse.
        self.assertEqual(
            ['sha256', 'sha512'],
            sorted(declarations.declared_algorithms({
                'expected_digest_SHA256': 'not hex',
                'expected_digest_sha512': 'x',
                'expected_digest_sha999': 'x',
                'expected_digest_shake_128': 'x',
                'expected_digest': 'x',
                'name': 'x'})))

    def test_nothing_declared(self):
        self.assertEqual([], declarations.declared_algorithms({}))
