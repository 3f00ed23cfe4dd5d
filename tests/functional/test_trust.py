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

"""The core's promises against a hostile user and a careless operator.

Real glance-api workers (uWSGI, MariaDB), one of them with Glance's
property protections on:
- a fault while a plugin builds its flow fails the import (fail closed);
- a revert that property protections stop does not wedge the image, and
  metadata_copy copies key by key what the caller may write;
- task messages stay bounded whatever a user wrote;
- the library's records cannot be preset or edited unseen;
- an unreasonable set of digest declarations is refused.
"""

import hashlib
import os

from glance_import_ext.common import options
from glance_import_ext.common import records
from tests.functional import base

RECORD_KEY = 'functional-record-key'
PLUGINS = ['staging_owner', 'metadata_copy', 'checksum_verify']
# Members may create and change hw_* but only admin may delete them;
# restricted_* is admin's alone; the library's records are read-only for
# users (the rule README.rst recommends) where RECORDS_RULE is added.
RECORDS_RULE = """
[^import_ext_(?!dry_run$).*]
create = admin
read = admin,member,reader
update = admin
delete = admin
"""
PROTECTIONS = """
[^hw_.*]
create = admin,member
read = admin,member,reader
update = admin,member
delete = admin

[^restricted_.*]
create = admin
read = admin,member,reader
update = admin
delete = admin

%(records_rule)s
[.*]
create = admin,member
read = admin,member,reader
update = admin,member
delete = admin,member
"""


class TestTrust(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        import_conf = {
            'glance_import_ext': {'record_key': RECORD_KEY},
            'metadata_copy': {
                'extra_properties_prefixes': '[hw_,restricted_]'}}
        # 'protected' adds the rule for the records; 'hw-protected' has
        # only the rules for users' keys, as before an operator adds it.
        for name, records_rule in (('protected', RECORDS_RULE),
                                   ('hw-protected', '')):
            rules = os.path.join(cloud.base_dir, name + '-protections.conf')
            with open(rules, 'w') as f:
                f.write(PROTECTIONS % {'records_rule': records_rule})
            cloud.add_glance(name, plugins=PLUGINS, import_conf=import_conf,
                             conf={'DEFAULT': {
                                 'property_protection_file': rules,
                                 'property_protection_rule_format': 'roles'}})
        cloud.add_glance(
            'open', plugins=['staging_owner', 'metadata_copy',
                             'checksum_verify_fault'],
            import_conf=import_conf,
            test_plugins={'checksum_verify_fault':
                          'tests.functional.fault_plugin:get_flow'})
        cloud.add_glance('unverified', plugins=['staging_owner'],
                         import_conf=import_conf)

    def setUp(self):
        super().setUp()
        self.conf = options.CONF[options.GROUP]

    def _import(self, worker, data=None, **props):
        client = self.cloud.client(worker)
        data = data if data is not None else base.random_bytes(64 * 1024)
        image, task = self.stage_and_import(client, data, **props)
        return client, image, task, data

    def _declare_and_retry(self, client, image_id, data, *more_ops):
        """Declare the right sha256, import again: it must succeed."""
        client.patch(image_id, [
            {'op': 'replace', 'path': '/expected_digest_sha256',
             'value': hashlib.sha256(data).hexdigest()}] + list(more_ops))
        client.import_(image_id)
        image, task = client.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        return image, task

    def assertRetryable(self, image):
        self.assertEqual('uploading', image['status'], image)
        self.assertNotIn('os_glance_import_task', image)

    # -- 1. fail closed ------------------------------------------------
    def test_fault_while_a_flow_is_built_fails_the_import(self):
        data = base.random_bytes(64 * 1024)
        client, image, task, _ = self._import(
            'open', data, test_fault_while_building='db',
            expected_digest_sha256=hashlib.sha256(b'other').hexdigest())
        self.assertEqual('failure', task['status'], task)
        self.assertIn('checksum_verify: could not prepare its check '
                      '(DBConnectionError', task['message'])
        self.assertIn('rather than left unchecked', task['message'])
        self.assertRetryable(image)
        self.assertIsNone(image['os_hash_value'])

        # The fault gone, the same image imports and is checked.
        image, task = self._declare_and_retry(
            client, image['id'], data,
            {'op': 'remove', 'path': '/test_fault_while_building'})
        self.assertEqual('sha256', image['import_ext_verified_digests'])

    # -- 2. reverts that protections stop; key by key ---------------------
    def _public_source(self, **props):
        admin = self.cloud.client('protected', user='admin',
                                  project='admin', roles=('admin',))
        source = admin.create(name='source', visibility='public', **props)
        admin.upload(source['id'], base.random_bytes(4096))
        return source['id']

    def test_revert_stopped_by_property_protection_leaves_image_retryable(
            self):
        source = self._public_source(hw_disk_bus='scsi',
                                     restricted_note='admin only')
        data = base.random_bytes(128 * 1024)
        wrong = hashlib.sha256(b'wrong').hexdigest()
        client, image, task, _ = self._import(
            'hw-protected', data, copy_metadata_from=source,
            expected_digest_sha256=wrong)
        self.assertEqual('failure', task['status'], task)
        # The real reason, then what could not be undone and why.
        self.assertIn('checksum_verify: sha256 mismatch', task['message'])
        self.assertIn("metadata_copy could not undo its change of "
                      "'hw_disk_bus' (not allowed by property protections)",
                      task['message'])
        self.assertRetryable(image)
        self.assertEqual('scsi', image['hw_disk_bus'])  # stayed, reported
        for key in ('import_ext_plugins', 'import_ext_metadata_copied',
                    'import_ext_seal', 'restricted_note'):
            self.assertNotIn(key, image)

        image, task = self._declare_and_retry(client, image['id'], data)
        # Key by key: what the caller may write is copied, the rest named.
        self.assertEqual('hw_disk_bus', image['import_ext_metadata_copied'])
        self.assertEqual('restricted_note',
                         image['import_ext_metadata_skipped'])
        self.assertNotIn('restricted_note', image)
        # The plugins' own records pass the protection users cannot.
        self.assertEqual(','.join(PLUGINS), image['import_ext_plugins'])
        self.assertEqual(records.VALID, records.check(
            image['id'], image, conf=_Keyed())[0])

    # -- 3. bounded messages -------------------------------------------
    def test_huge_user_values_give_bounded_actionable_messages(self):
        huge_digest = 'a' * 65500
        _, image, task, _ = self._import(
            'open', expected_digest_sha256=huge_digest)
        self.assertEqual('failure', task['status'], task)
        self.assertLess(len(task['message']), 2000)
        self.assertIn('property expected_digest_sha256: sha256 digest',
                      task['message'])
        self.assertIn('(65500 characters) has 65500 hex digits, expected 64',
                      task['message'])
        self.assertRetryable(image)

        _, image, task, _ = self._import(
            'protected', copy_metadata_from='x' * 65500)
        self.assertEqual('failure', task['status'], task)
        self.assertLess(len(task['message']), 2000)
        self.assertIn('is not an image id', task['message'])
        self.assertIn('(65500 characters)', task['message'])
        self.assertRetryable(image)

    # -- 6. records nobody can forge -----------------------------------
    def test_presets_under_the_namespace_are_removed_and_sealed_over(self):
        forged = {'import_ext_plugins': 'checksum_verify,metadata_copy',
                  'import_ext_verified_digests': 'sha256,sha512',
                  'import_ext_download_verified': 'RegionOne/x sha512:00',
                  'import_ext_seal': 'v1:' + '0' * 64}
        client, image, task, data = self._import('unverified', **forged)
        self.assertEqual('success', task['status'], task)
        self.assertImported(client, image, data)
        self.assertEqual('staging_owner', image['import_ext_plugins'])
        self.assertNotIn('import_ext_verified_digests', image)
        self.assertNotIn('import_ext_download_verified', image)
        self.assertEqual(records.VALID,
                         records.check(image['id'], image, _Keyed())[0])

        # The owner edits a record afterwards: it no longer verifies.
        client.update(image['id'], import_ext_verified_digests='sha512')
        edited = client.get(image['id'])
        self.assertEqual(records.FORGED,
                         records.check(image['id'], edited, _Keyed())[0])

    def test_protection_rule_keeps_users_out_of_the_records(self):
        client = self.cloud.client('protected')
        resp = client.request(
            'POST', '/v2/images', expect=(403,),
            json={'name': 'forger', 'disk_format': 'raw',
                  'container_format': 'bare',
                  'import_ext_verified_digests': 'sha256'})
        self.assertEqual(403, resp.status_code)
        # The one request under the namespace stays the user's to make.
        client.create(name='dry', import_ext_dry_run='true')
        _, image, task, data = self._import('protected')
        self.assertEqual('success', task['status'], task)
        resp = client.patch(image['id'], [
            {'op': 'replace', 'path': '/import_ext_plugins',
             'value': 'checksum_verify'}], expect=(403,))
        self.assertEqual(403, resp.status_code)

    # -- 8. bounded resources ------------------------------------------
    def test_unreasonable_declarations_are_refused(self):
        data = base.random_bytes(64 * 1024)
        every = sorted({'md5', 'sha1', 'sha224', 'sha256', 'sha384',
                        'sha512', 'sha3_224', 'sha3_256', 'sha3_384',
                        'sha3_512', 'blake2b', 'blake2s', 'sha512_224',
                        'sha512_256', 'sm3'} &
                       hashlib.algorithms_available)
        declared = {'expected_digest_' + a: hashlib.new(a, data).hexdigest()
                    for a in every}
        client, image, task, _ = self._import('open', data, **declared)
        self.assertEqual('failure', task['status'], task)
        self.assertIn('%d digest algorithms are declared' % len(every),
                      task['message'])
        self.assertIn('at most 4 are accepted', task['message'])
        self.assertRetryable(image)


class _Keyed:
    """The key the workers of this test seal with."""

    record_key = RECORD_KEY
    previous_record_keys = []
