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

"""manifest_verify on a real glance-api, against a vendor-style mirror.

A loopback HTTP server plays the publisher: it serves an image and its
checksum manifests in every format vendors use, signed with real OpenPGP
keys made for the test (gpg), detached or clearsigned.
"""

import hashlib
import json
import tempfile

from tests.functional import base
from tests.functional.harness import loopback_http
from tests import pgp

PLUGINS = ['staging_owner', 'manifest_verify', 'checksum_verify']
IMAGE = 'vendor-cloud-1.0-amd64.img'


class ManifestTestBase(base.CloudTestCase):

    @classmethod
    def keys(cls, cloud):
        keydir = tempfile.mkdtemp(prefix='keys', dir=cloud.base_dir)
        cls.vendor = pgp.make_key(keydir, 'Vendor Signing')
        cls.intruder = pgp.make_key(keydir, 'Intruder')
        cls.server = loopback_http.FileServer(cloud.reserve_port())
        cls.data = base.random_bytes(300 * 1024)
        cls.digests = {a: hashlib.new(a, cls.data).hexdigest()
                       for a in ('md5', 'sha256', 'sha512')}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        for key in (cls.vendor, cls.intruder):
            pgp.cleanup(key)
        super().tearDownClass()

    def url(self, path):
        return self.server.url + path

    def publish(self, path, body):
        self.server.serve(path, body.encode() if isinstance(body, str)
                          else body)
        return self.url(path)

    def serve_image(self, directory):
        return self.publish('/%s/%s' % (directory, IMAGE), self.data)

    def gnu(self, algorithm='sha256', digest=None):
        digest = digest or self.digests[algorithm]
        return ('%s *other-image.img\n%s  %s\n' % ('0' * len(digest), digest,
                                                   IMAGE))

    def web_download(self, worker, image_uri, **props):
        client = self.cloud.client(worker)
        image = client.create(**props)
        client.import_(image['id'], 'web-download', uri=image_uri)
        image, task = client.wait_for_import(image['id'])
        return client, image, task


class TestManifestVerify(ManifestTestBase):

    @classmethod
    def build_cloud(cls, cloud):
        cls.keys(cloud)
        rules = [
            '%s/signed/ %s .gpg' % (cls.server.url, cls.vendor.keyring_path),
            '%s/clear/ %s clearsigned' % (cls.server.url,
                                          cls.vendor.armored_path)]
        cloud.add_glance('api', plugins=PLUGINS, import_conf={
            'manifest_verify': {'trust_rule': rules, 'read_timeout': '2',
                                'retries': '0'}})
        cloud.add_glance('warn', plugins=PLUGINS, import_conf={
            'manifest_verify': {'mode': 'warn', 'trust_rule': rules[0]}})
        cloud.add_glance('strict', plugins=PLUGINS, import_conf={
            'manifest_verify': {'unsigned_manifests': 'refuse'}})

    def assertVerified(self, client, image, task, signer, algorithms):
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, self.data)
        self.assertEqual(signer, image['import_ext_manifest_signer'])
        self.assertEqual(algorithms, image['import_ext_manifest_algorithms'])

    def assertFails(self, task, image, *phrases):
        self.assertEqual('failure', task['status'], task)
        for phrase in phrases:
            self.assertIn(phrase, task['message'])
        self.assertLess(len(task['message']), 2000)
        self.assertNotIn('import_ext_manifest_signer', image)

    # -- formats and signatures ----------------------------------------
    def test_gnu_manifest_with_detached_signature(self):
        manifest = self.gnu().encode()
        url = self.publish('/signed/SHA256SUMS', manifest)
        self.publish('/signed/SHA256SUMS.gpg',
                     pgp.sign_detached(self.vendor, manifest))
        client, image, task = self.web_download(
            'api', self.serve_image('signed'), expected_digests_url=url)
        self.assertVerified(client, image, task, self.vendor.fingerprint,
                            'sha256')
        self.assertEqual(url, image['import_ext_manifest_url'])
        self.assertEqual('/signed/' + IMAGE,
                         image['import_ext_manifest_entry'])

    def test_bsd_manifest_clearsigned_for_glance_direct(self):
        body = ('# %s: %d bytes\nSHA256 (%s) = %s\nSHA512 (%s) = %s\n' % (
            IMAGE, len(self.data), IMAGE, self.digests['sha256'], IMAGE,
            self.digests['sha512']))
        url = self.publish('/clear/CHECKSUM',
                           pgp.clearsign(self.vendor, body.encode()))
        client = self.cloud.client('api')
        image, task = self.stage_and_import(
            client, self.data, expected_digests_url=url,
            expected_digests_entry=IMAGE)
        self.assertVerified(client, image, task, self.vendor.fingerprint,
                            'sha256,sha512')

    def test_unsigned_simplestreams_and_bare_digest(self):
        # Every release lists the same file name: the URI's path decides.
        feed = {'format': 'products:1.0', 'products': {'vendor:1.0': {
            'versions': {'20261122': {'items': {'disk1.img': {
                'path': 'releases/1.0/' + IMAGE, 'size': len(self.data),
                'sha256': self.digests['sha256'],
                'md5': self.digests['md5']}}},
                '20251122': {'items': {'disk1.img': {
                    'path': 'releases/0.9/' + IMAGE, 'size': 1,
                    'sha256': '0' * 64, 'md5': '0' * 32}}}}}}}
        url = self.publish('/streams/v1/vendor.json', json.dumps(feed))
        client, image, task = self.web_download(
            'api', self.serve_image('streams/releases/1.0'),
            expected_digests_url=url)
        self.assertVerified(client, image, task, 'unsigned', 'md5,sha256')

        url = self.publish('/alpine/%s.sha512' % IMAGE,
                           self.digests['sha512'] + '\n')
        client, image, task = self.web_download(
            'api', self.serve_image('alpine'), expected_digests_url=url)
        self.assertVerified(client, image, task, 'unsigned', 'sha512')

    def test_wrong_key_tampered_and_unsigned_under_a_rule(self):
        image_uri = self.serve_image('signed')
        manifest = self.gnu().encode()
        url = self.publish('/signed/wrong-key/SHA256SUMS', manifest)
        self.publish('/signed/wrong-key/SHA256SUMS.gpg',
                     pgp.sign_detached(self.intruder, manifest))
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, 'must be signed')

        url = self.publish('/signed/tampered/SHA256SUMS',
                           self.gnu(digest='ab' * 32))
        self.publish('/signed/tampered/SHA256SUMS.gpg',
                     pgp.sign_detached(self.vendor, manifest))
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, 'must be signed')

        url = self.publish('/signed/unsigned/SHA256SUMS', manifest)
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, 'must be signed', 'not found')

    def test_unsigned_refused_where_the_operator_says_so(self):
        url = self.publish('/plain/SHA256SUMS', self.gnu())
        _, image, task = self.web_download(
            'strict', self.serve_image('plain'), expected_digests_url=url)
        self.assertFails(task, image, 'unsigned manifests are refused')

    # -- what the manifest says ----------------------------------------
    def test_mismatch_duplicates_missing_entry(self):
        image_uri = self.serve_image('plain')
        url = self.publish('/plain/bad/SHA256SUMS',
                           self.gnu(digest='cd' * 32))
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, 'sha256 mismatch with entry',
                         'nothing was stored')

        url = self.publish('/plain/twice/SHA256SUMS',
                           self.gnu() + '%s  %s\n' % ('ef' * 32, IMAGE))
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, url, IMAGE)

        url = self.publish('/plain/other/SHA256SUMS',
                           '%s  someone-else.img\n' % ('ef' * 32))
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, url, IMAGE)

        url = self.publish('/plain/agree/SHA256SUMS', self.gnu())
        _, image, task = self.web_download(
            'api', image_uri, expected_digests_url=url,
            expected_digest_sha256='12' * 32)
        self.assertFails(task, image, 'expected_digest_sha256 disagrees')

    # -- fetching --------------------------------------------------------
    def test_huge_filtered_and_silent_manifests(self):
        image_uri = self.serve_image('plain')
        url = self.publish('/plain/huge/SHA256SUMS',
                           b'#' * (50 * 1024 * 1024))
        _, image, task = self.web_download('api', image_uri,
                                           expected_digests_url=url)
        self.assertFails(task, image, 'larger than')

        # Port 1 is not in [import_filtering_opts] allowed_ports.
        _, image, task = self.web_download(
            'api', image_uri,
            expected_digests_url='http://127.0.0.1:1/SHA256SUMS')
        self.assertFails(task, image, 'import_filtering_opts')

        self.server.hang('/plain/silent/SHA256SUMS')
        _, image, task = self.web_download(
            'api', image_uri,
            expected_digests_url=self.url('/plain/silent/SHA256SUMS'))
        self.assertFails(task, image)

    # -- modes -------------------------------------------------------------
    def test_warn_mode_and_dry_run(self):
        image_uri = self.serve_image('signed')
        url = self.publish('/signed/warn/SHA256SUMS', self.gnu())
        client, image, task = self.web_download('warn', image_uri,
                                                expected_digests_url=url)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, self.data)
        self.assertIn('manifest_verify', image['import_ext_warnings'])
        self.assertIn('must be signed', image['import_ext_warnings'])

        manifest = self.gnu().encode()
        url = self.publish('/signed/dry/SHA256SUMS', manifest)
        self.publish('/signed/dry/SHA256SUMS.gpg',
                     pgp.sign_detached(self.vendor, manifest))
        client = self.cloud.client('api')
        image, task = self.stage_and_import(
            client, self.data, expected_digests_url=url,
            expected_digests_entry=IMAGE, import_ext_dry_run='true')
        self.assertEqual('failure', task['status'], task)
        self.assertEqual('uploading', image['status'])
        self.assertIn('manifest_verify passed',
                      image['import_ext_dry_run_report'])
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'])
        self.assertVerified(client, image, task, self.vendor.fingerprint,
                            'sha256')
