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
from glance_import_ext.plugins import manifest_verify as mv
from glance_import_ext.plugins.manifest_verify import openpgp
from glance_import_ext.plugins.manifest_verify import remote
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
                     'https://mirror/ %s ./x' % self.keyring,
                     'https://u:p@mirror/ %s .gpg' % self.keyring,
                     'https://mirror:0/ %s .gpg' % self.keyring,
                     'https://mirror/a%%2Fb/ %s .gpg' % self.keyring,
                     'https://mirror/#x %s .gpg' % self.keyring):
            self.assertRaises(errors.ConfigError, mv.TrustRule.parse, text)

    def test_every_spelling_of_a_url_under_a_rule_matches(self):
        rules = mv.trust_rules(Conf([
            'http://host:8080/signed/ %s .gpg' % self.keyring]))
        for spelling in ('http://host:8080/signed/S',
                         'HTTP://host:8080/signed/S',
                         'http://HOST:8080/signed/S',
                         'http://host.:8080/signed/S',
                         'http://host:08080/signed/S',
                         'http://host:8080/./signed/S',
                         'http://host:8080/x/../signed/S',
                         'http://host:8080/%73igned/S',
                         'http://host:8080/%2e/signed/S',
                         'http://host:8080/signed/x/../S'):
            self.assertIsNotNone(mv.rule_for(rules, spelling), spelling)
        for elsewhere in ('http://host:8080/signed-not/S',
                          'http://host:8080/signed/../S',
                          'http://host/signed/S',
                          'https://host:8080/signed/S'):
            self.assertIsNone(mv.rule_for(rules, elsewhere), elsewhere)
        self.assertRaises(remote.FetchError, mv.rule_for, rules,
                          'http://host:8080/signed%2FS')

    def test_prefixes_are_put_in_normal_form_too(self):
        rules = mv.trust_rules(Conf([
            'HTTPS://Mirror.:0443/./a/x/../%%75buntu/ %s .gpg' % self.keyring,
            'http://[0::1]:80 %s .gpg' % self.keyring,
            'https://host %s .gpg' % self.keyring]))
        self.assertEqual(['https://mirror/a/ubuntu/', 'http://[::1]/',
                          'https://host/'], [r.prefix for r in rules])
        self.assertIsNotNone(mv.rule_for(rules,
                                         'https://mirror/a/ubuntu/SUMS'))
        # A prefix without a path no longer covers other hosts' names.
        self.assertIsNone(mv.rule_for(rules, 'https://host.evil/SUMS'))
        self.assertIsNone(mv.rule_for(rules, 'https://hostile/SUMS'))

    def test_rules_for_hops_are_each_hops_longest_match(self):
        rules = mv.trust_rules(Conf([
            'https://m/ %s .gpg' % self.keyring,
            'https://m/a/ %s .asc' % self.keyring,
            'https://m/b/ %s clearsigned' % self.keyring]))
        found = mv.rules_for_hops(rules, ['https://x/S', 'https://m/a/S',
                                          'https://m/a/T', 'https://m/b/S',
                                          'https://m/S'])
        self.assertEqual([('https://m/a/S', '.asc'),
                          ('https://m/b/S', 'clearsigned'),
                          ('https://m/S', '.gpg')],
                         [(hop, r.signature) for hop, r in found])
        self.assertEqual([], mv.rules_for_hops(rules, ['https://x/S']))

    def test_unusable_keyring_is_a_config_error(self):
        openpgp.check_keyring.side_effect = openpgp.SignatureError('nope')
        exc = self.assertRaises(errors.ConfigError, mv.TrustRule.parse,
                                'https://m/ /missing .gpg')
        self.assertIn('nope', str(exc))


class TestReadManifest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.docs = {}
        self.redirects = {}
        self.useFixture(fixtures.MockPatchObject(
            remote, 'fetch', side_effect=self.fetched))
        self.useFixture(fixtures.MockPatchObject(openpgp, 'check_keyring'))

    def fetched(self, url, *args, on_hop=None):
        # As remote.fetch: each hop in normal form, reported before use.
        hop = remote.normalise_url(url)
        self.assertEqual(url, hop)  # read_manifest fetches the normal form
        came_from = None
        while True:
            if on_hop is not None:
                on_hop(hop, came_from)
            if hop not in self.redirects:
                break
            came_from, hop = hop, remote.normalise_url(self.redirects[hop])
        if hop not in self.docs:
            raise remote.FetchError('not found at %s' % hop)
        return self.docs[hop]

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

    def test_unsigned_under_a_rule_refused_however_spelt(self):
        self.docs['http://m:8080/signed/SHA256SUMS'] = MANIFEST
        conf = Conf(['http://m:8080/signed/ /k.gpg .gpg'])
        for spelling in ('HTTP://m:8080/signed/SHA256SUMS',
                         'http://M:8080/signed/SHA256SUMS',
                         'http://m:08080/signed/SHA256SUMS',
                         'http://m:8080/./signed/SHA256SUMS',
                         'http://m:8080/x/../signed/SHA256SUMS',
                         'http://m:8080/%73igned/SHA256SUMS'):
            exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                    spelling, 'vendor.img', conf)
            self.assertIn('manifest http://m:8080/signed/SHA256SUMS must be '
                          'signed (trust rule for http://m:8080/signed/)',
                          str(exc))
            self.assertIn('SHA256SUMS.gpg', str(exc))

    def test_signed_manifest_recorded_under_its_normal_form(self):
        self.docs['https://m/SHA256SUMS'] = MANIFEST
        self.docs['https://m/SHA256SUMS.gpg'] = b'sig'
        with mock.patch.object(openpgp, 'verify_detached',
                               return_value='FPR'):
            exp = mv.read_manifest('HTTPS://M:443/x/../SHA256SUMS',
                                   'vendor.img',
                                   Conf(['https://m/ /k.gpg .gpg']))
        self.assertEqual('https://m/SHA256SUMS', exp.url)
        self.assertEqual('FPR', exp.signer)

    def test_redirect_into_a_signed_prefix_needs_the_signature(self):
        self.redirects['https://m/plain/SUMS'] = 'https://m/signed/SUMS'
        self.docs['https://m/signed/SUMS'] = MANIFEST
        conf = Conf(['https://m/signed/ /k.gpg .gpg'])
        exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                'https://m/plain/SUMS', 'vendor.img', conf)
        self.assertIn('must be signed (trust rule for https://m/signed/, '
                      'reached by its redirect to https://m/signed/SUMS)',
                      str(exc))
        self.assertIn('not found at https://m/signed/SUMS.gpg', str(exc))

        # The signature next to the hop under the rule satisfies it.
        self.docs['https://m/signed/SUMS.gpg'] = b'sig'
        with mock.patch.object(openpgp, 'verify_detached',
                               return_value='FPR') as verify:
            exp = mv.read_manifest('https://m/plain/SUMS', 'vendor.img',
                                   conf)
        verify.assert_called_once_with(MANIFEST, b'sig', '/k.gpg')
        self.assertEqual('FPR', exp.signer)
        self.assertEqual('https://m/plain/SUMS', exp.url)

    def test_redirect_out_of_a_signed_prefix_keeps_its_rule(self):
        self.redirects['https://m/signed/SUMS'] = 'https://cdn/SUMS'
        self.docs['https://cdn/SUMS'] = MANIFEST
        exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                'https://m/signed/SUMS', 'vendor.img',
                                Conf(['https://m/signed/ /k.gpg .gpg']))
        self.assertIn('must be signed (trust rule for https://m/signed/)',
                      str(exc))

    def test_redirect_under_a_rule_refuses_unsigned_before_the_policy(self):
        # unsigned_manifests=accept is for manifests no rule covers at all.
        self.redirects['https://m/plain/SUMS'] = 'https://m/%73igned/./SUMS'
        self.docs['https://m/signed/SUMS'] = MANIFEST
        self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                          'https://m/plain/SUMS', 'vendor.img',
                          Conf(['https://m/signed/ /k.gpg .gpg'],
                               unsigned='accept'))

    def test_every_rule_on_the_way_must_be_satisfied(self):
        self.redirects['https://m/a/SUMS'] = 'https://m/b/SUMS'
        self.docs['https://m/b/SUMS'] = MANIFEST
        self.docs['https://m/a/SUMS.gpg'] = b'sig'
        conf = Conf(['https://m/a/ /a.gpg .gpg',
                     'https://m/b/ /b.gpg clearsigned',
                     'https://m/ /any.gpg .sign'])
        with mock.patch.object(openpgp, 'verify_detached',
                               return_value='FA') as detached, \
                mock.patch.object(openpgp, 'verify_clearsigned',
                                  return_value=(MANIFEST, 'FB')) as clear:
            exp = mv.read_manifest('https://m/a/SUMS', 'vendor.img', conf)
        detached.assert_called_once_with(MANIFEST, b'sig', '/a.gpg')
        clear.assert_called_once_with(MANIFEST, '/b.gpg')
        self.assertEqual('FA,FB', exp.signer)

        with mock.patch.object(openpgp, 'verify_detached',
                               return_value='FA'), \
                mock.patch.object(openpgp, 'verify_clearsigned',
                                  side_effect=openpgp.SignatureError('no')):
            exc = self.assertRaises(mv.ManifestProblem, mv.read_manifest,
                                    'https://m/a/SUMS', 'vendor.img', conf)
        self.assertIn('trust rule for https://m/b/', str(exc))

    def test_only_the_attempt_that_answered_is_judged(self):
        # A failed first attempt went elsewhere; its hops do not count.
        def fetched(url, *args, on_hop=None):
            on_hop(url, None)
            on_hop('https://m/signed/SUMS', url)
            on_hop(url, None)
            return MANIFEST

        remote.fetch.side_effect = fetched
        exp = mv.read_manifest('https://m/plain/SUMS', 'vendor.img',
                               Conf(['https://m/signed/ /k.gpg .gpg']))
        self.assertEqual(mv.UNSIGNED, exp.signer)

    def test_invalid_url_is_a_clear_problem(self):
        exc = self.assertRaises(remote.FetchError, mv.read_manifest,
                                'https://m/a%2FSUMS', 'vendor.img', Conf())
        self.assertIn('encoded "/"', str(exc))

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
