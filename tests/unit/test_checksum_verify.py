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

"""checksum_verify: the declarations and the verifying task."""

import hashlib

import fixtures
import testtools

from glance_import_ext.common import checks
from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.plugins import checksum_verify
from tests.unit import fakes

DATA = b'the staged image data'
SHA256 = hashlib.sha256(DATA).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


class TestDeclaredDigests(testtools.TestCase):

    def test_picks_declarations_and_ignores_other_properties(self):
        self.assertEqual(
            {'sha256': SHA256, 'md5': MD5},
            checksum_verify.declared_digests({
                'expected_digest_sha256': SHA256,
                'expected_digest_MD5': MD5.upper(),
                'expected_digest': 'not a declaration',
                'name': 'cirros',
                'os_hash_value': 'abc'}))

    def test_nothing_declared(self):
        self.assertEqual({}, checksum_verify.declared_digests({'a': 'b'}))

    def assertMalformed(self, key, value, reason):
        exc = self.assertRaises(ValueError, checksum_verify.declared_digests,
                                {'name': 'x', key: value})
        self.assertTrue(str(exc).startswith('property %s: ' % key), exc)
        self.assertIn(reason, str(exc))

    def test_non_hex_value_names_the_property(self):
        self.assertMalformed('expected_digest_sha256', 'z' * 64,
                             'not hexadecimal')

    def test_wrong_length_names_the_property(self):
        self.assertMalformed('expected_digest_sha256', MD5, 'expected 64')

    def test_unknown_algorithm_names_the_property(self):
        self.assertMalformed('expected_digest_sha999', SHA256,
                             'unknown digest algorithm')

    def test_shake_names_the_property(self):
        self.assertMalformed('expected_digest_shake_128', SHA256,
                             'no fixed digest length')

    def test_same_algorithm_declared_twice_alike(self):
        self.assertEqual({'sha256': SHA256}, checksum_verify.declared_digests(
            {'expected_digest_sha256': SHA256,
             'expected_digest_SHA256': SHA256.upper()}))

    def test_same_algorithm_declared_twice_differently(self):
        exc = self.assertRaises(
            ValueError, checksum_verify.declared_digests,
            {'expected_digest_sha256': SHA256,
             'expected_digest_SHA256': hashlib.sha256(b'y').hexdigest()})
        self.assertIn('two different sha256 digests', str(exc))


class TestVerifyDeclaredDigests(fakes.PluginTestCase):

    def verify(self, dry_run=False, **declared):
        path = self.useFixture(fixtures.TempDir()).join('staged')
        with open(path, 'wb') as f:
            f.write(DATA)
        self.repo = fakes.FakeImageRepo(fakes.make_image(
            properties=declared))
        self.plugin = fakes.make_plugin(self.repo, checksum_verify.NAME)
        self.plugin.shared.dry_run = dry_run
        task = checksum_verify.VerifyDeclaredDigests(self.plugin)
        task.execute(file_path='file://' + path)

    def test_matching_digests_are_recorded(self):
        self.verify(expected_digest_sha256=SHA256, expected_digest_md5=MD5)
        self.assertEqual(
            'md5,sha256',
            self.repo.properties[checksum_verify.VERIFIED_PROPERTY])

    def test_mismatch_fails_the_import(self):
        other = hashlib.sha256(b'other').hexdigest()
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                expected_digest_sha256=other)
        self.assertIn('checksum_verify: sha256 mismatch: expected %s' % other,
                      str(exc))
        self.assertIn(SHA256, str(exc))
        self.assertNotIn(checksum_verify.VERIFIED_PROPERTY,
                         self.repo.properties)

    def test_malformed_declaration_fails_the_import(self):
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                expected_digest_sha256='nothex')
        self.assertIn('property expected_digest_sha256', str(exc))

    def test_each_mode_says_its_own_outcome(self):
        other = hashlib.sha256(b'other').hexdigest()
        problem = ('sha256 mismatch: expected %s, the %d imported bytes '
                   'have %s' % (other, len(DATA), SHA256))
        mismatch = 'checksum_verify: ' + problem
        # enforce: the import fails before any store write.
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                expected_digest_sha256=other)
        self.assertEqual(mismatch + '; nothing was stored', str(exc))
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                expected_digest_sha256='nothex')
        self.assertRegex(str(exc), '; nothing was stored; correct it and '
                                   'import again$')
        # warn: the import goes on, the data is stored; no advice to import
        # an image that is imported.
        self.conf.config(group=checksum_verify.NAME, mode='warn')
        self.verify(expected_digest_sha256=other)
        warning = self.repo.properties[checks.WARNINGS]
        self.assertEqual(mismatch + '; warn mode: the import went on and '
                         'the data was stored', warning)
        self.verify(expected_digest_sha256='nothex')
        warning = self.repo.properties[checks.WARNINGS]
        self.assertNotIn('nothing was stored', warning)
        self.assertNotIn('import again', warning)
        # dry run: the report gets the problem; its summary the outcome.
        self.verify(dry_run=True, expected_digest_sha256=other)
        self.assertNotIn(checks.WARNINGS, self.repo.properties)
        self.assertEqual(['checksum_verify FAILED: ' + problem],
                         self.plugin.shared.outcomes)
        self.assertIn('%s. Nothing was stored;' % problem,
                      dry_run.summary(self.plugin.shared))

    def test_no_declaration_changes_nothing(self):
        self.verify(name='plain')
        self.assertEqual([], self.repo.saves)
