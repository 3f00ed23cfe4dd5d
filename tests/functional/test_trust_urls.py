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

"""A trust rule applies to the URL that is fetched, however it is written.

Real glance-api (uWSGI, MariaDB, Keystone) with manifest_verify and a
trust rule for the loopback publisher's ``/signed/``: a user spells the
URL of an unsigned manifest under it another way, or lets a redirect lead
there, and the import must still demand the signature (issue 16, 4).
"""

from tests.functional import test_manifest_verify
from tests import pgp

UNSIGNED = '/signed/unsigned/SHA256SUMS'
SIGNED = '/signed/ok/SHA256SUMS'


class TestTrustRuleUrls(test_manifest_verify.ManifestTestBase):

    @classmethod
    def build_cloud(cls, cloud):
        cls.keys(cloud)
        port = cls.server.port
        rules = ['http://127.0.0.1:%d/signed/ %s .gpg' % (
                     port, cls.vendor.keyring_path)]
        cloud.add_glance('api', plugins=test_manifest_verify.PLUGINS,
                         import_conf={'manifest_verify': {
                             'trust_rule': rules, 'read_timeout': '2',
                             'retries': '0'}})

    def setUp(self):
        super().setUp()
        self.manifest = self.gnu().encode()
        self.image_uri = self.serve_image('signed')
        self.publish(UNSIGNED, self.manifest)
        # Most servers decode %73 to "s": this one serves the same file.
        self.publish(UNSIGNED.replace('/signed/', '/%73igned/'),
                     self.manifest)
        self.publish(SIGNED, self.manifest)
        self.publish(SIGNED + '.gpg',
                     pgp.sign_detached(self.vendor, self.manifest))

    def spell(self, template):
        return template % {'port': self.server.port}

    def outcome(self, url):
        _, image, task = self.web_download('api', self.image_uri,
                                           expected_digests_url=url)
        return image, task

    def test_unsigned_under_a_rule_refused_however_spelt(self):
        spellings = [
            'HTTP://127.0.0.1:%(port)d' + UNSIGNED,
            # Host case is in the unit tests: Glance's filter here refuses
            # every spelling of localhost, so it cannot reach this server.
            'http://127.0.0.1:0%(port)d' + UNSIGNED,
            'http://127.0.0.1:%(port)d/.' + UNSIGNED,
            'http://127.0.0.1:%(port)d/x/..' + UNSIGNED,
            'http://127.0.0.1:%(port)d' + UNSIGNED.replace('/signed/',
                                                           '/%%73igned/'),
        ]
        accepted = []
        for template in spellings:
            url = self.spell(template)
            image, task = self.outcome(url)
            if (task['status'] != 'failure' or
                    'must be signed' not in task['message']):
                accepted.append((url, task['status'],
                                 image.get('import_ext_manifest_signer'),
                                 task['message'][:200]))
                continue
            self.assertIn('(trust rule for http://', task['message'])
            self.assertIn('SHA256SUMS.gpg', task['message'])
            self.assertLess(len(task['message']), 2000)
            self.assertNotIn('import_ext_manifest_signer', image)
            self.assertEqual('queued', image['status'], image)
        self.assertEqual([], accepted, 'spellings that escaped the rule')

    def test_redirect_into_the_signed_prefix_needs_the_signature(self):
        self.server.redirect('/plain/r/SHA256SUMS', UNSIGNED)
        image, task = self.outcome(self.url('/plain/r/SHA256SUMS'))
        self.assertEqual('failure', task['status'], task)
        self.assertIn(
            'must be signed (trust rule for %s/signed/, reached by its '
            'redirect to %s)' % (self.server.url, self.url(UNSIGNED)),
            task['message'])
        self.assertNotIn('import_ext_manifest_signer', image)

    def test_signed_manifest_passes_however_reached(self):
        for url in (self.url(SIGNED),
                    self.spell('HTTP://127.0.0.1:0%(port)d/x/..' + SIGNED)):
            image, task = self.outcome(url)
            self.assertEqual('success', task['status'], task)
            self.assertEqual(self.vendor.fingerprint,
                             image['import_ext_manifest_signer'])
            self.assertEqual(self.url(SIGNED),
                             image['import_ext_manifest_url'])

        self.server.redirect('/plain/ok/SHA256SUMS', SIGNED)
        image, task = self.outcome(self.url('/plain/ok/SHA256SUMS'))
        self.assertEqual('success', task['status'], task)
        self.assertEqual(self.vendor.fingerprint,
                         image['import_ext_manifest_signer'])
