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

"""manifest_verify: trust rules, entries, reading a manifest."""

import hashlib
from unittest import mock

import fixtures
import testtools

from glance_import_ext.common import errors
from glance_import_ext.common import openpgp
from glance_import_ext.common import remote
from glance_import_ext.plugins import manifest_verify as mv
from tests.unit import fakes

DATA = b'vendor image bytes'
SHA256 = hashlib.sha256(DATA).hexdigest()
MANIFEST = ('%s  vendor.img\n' % SHA256).encode()


class Conf:

    def __init__(self, rules=(), unsigned='accept'):
        self.trust_rule = list(rules)
        self.unsigned_manifests = unsigned
        self.max_manifest_bytes = 4096
        self.connect_timeout = 1
        self.read_timeout = 1
        self.retries = 0


class TestTrustRules(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.keyring = self.useFixture(fixtures.TempDir()).join('k.gpg')
        self.useFixture(fixtures.MockPatchObject(openpgp, 'check_keyring'))

    def test_parse_and_longest_prefix(self):
        rules = mv.trust_rules(Conf([
            'https://mirror/ %s .gpg' % self.keyring,
            'https://mirror/ubuntu/ %s clearsigned' % self.keyring]))
        self.assertEqual('clearsigned', mv.rule_for(
            rules, 'https://mirror/ubuntu/SHA256SUMS').signature)
        self.assertEqual('.gpg', mv.rule_for(
            rules, 'https://mirror/debian/SHA512SUMS').signature)
        self.assertIsNone(mv.rule_for(rules, 'https://elsewhere/SUMS'))

    def test_bad_rules_are_config_errors(self):
        for text in ('https://mirror/ only-two',
                     'ftp://mirror/ %s .gpg' % self.keyring,
                     'https://mirror/ %s gpg' % self.keyring,
                     'https://mirror/ %s ./x' % self.keyring):
            self.assertRaises(errors.ConfigError, mv.TrustRule.parse, text)

    def test_unusable_keyring_is_a_config_error(self):
        openpgp.check_keyring.side_effect = openpgp.SignatureError('nope')
        exc = self.assertRaises(errors.ConfigError, mv.TrustRule.parse,
                                'https://m/ /missing .gpg')
        self.assertIn('nope', str(exc))


class TestReadManifest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.docs = {}
        self.useFixture(fixtures.MockPatchObject(
            remote, 'fetch', side_effect=lambda url, *a: self.fetched(url)))
        self.useFixture(fixtures.MockPatchObject(openpgp, 'check_keyring'))

    def fetched(self, url):
        if url not in self.docs:
            raise remote.FetchError('not found at %s' % url)
        return self.docs[url]

    def test_unsigned_accepted_and_recorded_as_such(self):
        self.docs['https://m/SHA256SUMS'] = MANIFEST
        exp = mv.read_manifest('https://m/SHA256SUMS', 'vendor.img', Conf())
        self.assertEqual({'sha256': SHA256}, exp.digests)
        self.assertEqual(mv.UNSIGNED, exp.signer)

    def test_unsigned_refused(self):
        self.docs['https://m/SHA256SUMS'] = MANIFEST
        exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                'https://m/SHA256SUMS', 'vendor.img',
                                Conf(unsigned='refuse'))
        self.assertIn('unsigned manifests are refused', str(exc))

    def test_detached_signature_checked_with_the_rules_keyring(self):
        self.docs['https://m/SHA256SUMS'] = MANIFEST
        self.docs['https://m/SHA256SUMS.gpg'] = b'sig'
        with mock.patch.object(openpgp, 'verify_detached',
                               return_value='FPR') as verify:
            exp = mv.read_manifest('https://m/SHA256SUMS', 'vendor.img',
                                   Conf(['https://m/ /k.gpg .gpg']))
        verify.assert_called_once_with(MANIFEST, b'sig', '/k.gpg')
        self.assertEqual('FPR', exp.signer)

    def test_missing_signature_under_a_rule_fails(self):
        self.docs['https://m/SHA256SUMS'] = MANIFEST
        exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                'https://m/SHA256SUMS', 'vendor.img',
                                Conf(['https://m/ /k.gpg .gpg']))
        self.assertIn('must be signed', str(exc))
        self.assertIn('SHA256SUMS.gpg', str(exc))

    def test_missing_entry_names_manifest_and_entry(self):
        self.docs['https://m/SHA256SUMS'] = MANIFEST
        exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                'https://m/SHA256SUMS', 'other.img', Conf())
        self.assertIn('https://m/SHA256SUMS', str(exc))
        self.assertIn('other.img', str(exc))


class TestTasks(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.repo = fakes.FakeImageRepo(fakes.make_image(
            status='uploading', properties={
                mv.URL_PROPERTY: 'https://m/SHA256SUMS'}))

    def tasks(self, method='glance-direct', **method_args):
        kwargs = fakes.plugin_kwargs(self.repo, method=method)
        kwargs['import_req']['method'].update(method_args)
        flow = mv.get_flow(**kwargs)
        return [node for node, _ in flow.iter_nodes()]

    def test_glance_direct_needs_an_entry(self):
        verify = self.tasks()[1]
        self.assertIn('set expected_digests_entry', verify.problem)

    def test_web_download_looks_up_the_uri_path(self):
        with mock.patch.object(mv, 'read_manifest') as read:
            self.tasks('web-download', uri='https://m/rel/1.0/vendor.img')
        self.assertEqual('/rel/1.0/vendor.img', read.call_args[0][1])

    def test_fetch_problem_becomes_the_tasks_failure(self):
        self.repo.change_behind_our_back(
            **{mv.ENTRY_PROPERTY: 'vendor.img'})
        with mock.patch.object(remote, 'fetch',
                               side_effect=remote.FetchError('refused')):
            verify = self.tasks()[1]
        exc = self.assertRaises(errors.ImportFailed, verify.execute,
                                file_path='file:///nowhere')
        self.assertIn('manifest_verify: refused', str(exc))

    def test_no_url_no_check(self):
        self.repo.image.extra_properties.pop(mv.URL_PROPERTY)
        names = [type(t).__name__ for t in self.tasks()]
        self.assertNotIn('VerifyAgainstManifest', names)


class TestVerify(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        path = self.useFixture(fixtures.TempDir()).join('staged')
        with open(path, 'wb') as f:
            f.write(DATA)
        self.file_uri = 'file://' + path
        self.repo = fakes.FakeImageRepo(fakes.make_image())
        self.plugin = fakes.make_plugin(self.repo, mv.NAME)

    def verify(self, digests, size=None, **declared):
        self.repo.change_behind_our_back(**declared)
        exp = mv.Expected('https://m/SUMS', 'vendor.img', digests, size,
                          'FPR')
        return mv.VerifyAgainstManifest(self.plugin, exp).execute(
            file_path=self.file_uri)

    def test_match_is_recorded(self):
        self.verify({'sha256': SHA256}, size=len(DATA))
        props = self.repo.properties
        self.assertEqual('FPR', props[mv.RECORD_SIGNER])
        self.assertEqual('sha256', props[mv.RECORD_ALGORITHMS])

    def test_mismatch_size_and_disagreeing_declaration_fail(self):
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                {'sha256': 'ab' * 32})
        self.assertIn('sha256 mismatch with entry', str(exc))
        self.assertTrue(str(exc).endswith('; nothing was stored'), exc)
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                {'sha256': SHA256}, size=1)
        self.assertIn('lists 1 bytes', str(exc))
        exc = self.assertRaises(errors.ImportFailed, self.verify,
                                {'sha256': SHA256},
                                expected_digest_sha256='cd' * 32)
        self.assertIn('expected_digest_sha256 disagrees', str(exc))
        self.assertIn('; nothing was stored; correct the declaration',
                      str(exc))

    def test_warn_mode_records_instead(self):
        self.conf.config(group=mv.NAME, mode='warn')
        self.verify({'sha256': 'ab' * 32})
        warning = self.repo.properties['import_ext_warnings']
        self.assertIn('sha256 mismatch', warning)
        self.assertNotIn('nothing was stored', warning)
        self.assertTrue(warning.endswith('; warn mode: the import went on '
                                         'and the data was stored'), warning)
        self.assertNotIn(mv.RECORD_SIGNER, self.repo.properties)
