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

"""metadata_copy in real glance-api processes, with a real Keystone."""

import uuid

from tests.functional import base

PLUGINS = ['staging_owner', 'metadata_copy', 'checksum_verify']
SOURCE_PROPERTIES = {
    'hw_disk_bus': 'scsi',
    'hw_vif_model': 'e1000',           # excluded by the test's config
    'trait:CUSTOM_FAST_DISK': 'required',
    'os_distro': 'ubuntu',
    'build_note': 'outside every prefix',
}
COPIED = ['hw_disk_bus', 'os_distro', 'trait:CUSTOM_FAST_DISK']


class TestMetadataCopy(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.with_keystone()
        cloud.add_user('alice', 'demo')
        cloud.add_user('bob', 'other')
        cloud.add_glance('region-one', region='RegionOne')
        cloud.add_glance(
            'region-two', region='RegionTwo', plugins=PLUGINS,
            # Glance's own glance-download metadata step off: the plugin
            # alone decides what is copied.
            conf={'glance_download_properties': {'extra_properties': '[]'}},
            import_conf={'metadata_copy': {
                'exclude_prefixes': '[hw_vif_model]'}})

    def _active_image(self, client, **props):
        image = client.create(name='source', **props)
        client.upload(image['id'], base.random_bytes(64 * 1024))
        return image['id']

    def _staged(self, client, **props):
        data = base.random_bytes(64 * 1024)
        image = client.create(name='target', **props)
        client.stage(image['id'], data)
        return image['id'], data

    def test_glance_download_copies_by_prefix_and_records_provenance(self):
        source_id = self._active_image(self.cloud.client('region-one'),
                                       **SOURCE_PROPERTIES)
        target = self.cloud.client('region-two')
        image = target.create(name='copy', os_distro='target-own-value')
        target.import_(image['id'], 'glance-download',
                       glance_image_id=source_id, glance_region='RegionOne',
                       glance_service_interface='public')
        image, task = target.wait_for_import(image['id'])
        self.assertEqual('success', task['status'], task)
        self.assertEqual('active', image['status'])
        self.assertEqual('scsi', image['hw_disk_bus'])
        self.assertEqual('required', image['trait:CUSTOM_FAST_DISK'])
        # The target's own value wins by default.
        self.assertEqual('target-own-value', image['os_distro'])
        self.assertNotIn('hw_vif_model', image)
        self.assertNotIn('build_note', image)
        self.assertEqual(source_id, image['import_ext_metadata_source_image'])
        self.assertEqual('RegionOne',
                         image['import_ext_metadata_source_region'])
        self.assertEqual('hw_disk_bus,trait:CUSTOM_FAST_DISK',
                         image['import_ext_metadata_copied'])
        self.assertEqual('staging_owner,metadata_copy,checksum_verify',
                         image['import_ext_plugins'])

    def test_private_image_of_another_project_is_not_copied(self):
        bob = self.cloud.client('region-two', user='bob', project='other')
        private_id = self._active_image(bob, visibility='private',
                                        **SOURCE_PROPERTIES)
        alice = self.cloud.client('region-two')
        image_id, data = self._staged(alice, copy_metadata_from=private_id)
        alice.import_(image_id)
        image, task = alice.wait_for_import(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('metadata_copy: source image %s not found, or not '
                      'visible to you' % private_id, task['message'])
        self.assertEqual('uploading', image['status'])
        for key in COPIED + ['import_ext_metadata_copied']:
            self.assertNotIn(key, image)

        admin = self.cloud.client('region-two', user='admin',
                                  project='admin')
        admin.request('PATCH', '/v2/images/' + private_id, json=[
            {'op': 'replace', 'path': '/visibility', 'value': 'public'}],
            headers={'Content-Type':
                     'application/openstack-images-v2.1-json-patch'})
        alice.import_(image_id)
        image, task = alice.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(alice, image, data)
        self.assertEqual(','.join(COPIED), image['import_ext_metadata_copied'])
        for key in COPIED:
            self.assertEqual(SOURCE_PROPERTIES[key], image[key])
        self.assertNotIn('import_ext_metadata_source_region', image)

    def test_missing_local_source_fails_clearly_and_can_be_retried(self):
        alice = self.cloud.client('region-two')
        missing = str(uuid.uuid4())
        image_id, data = self._staged(alice, copy_metadata_from=missing)
        alice.import_(image_id)
        image, task = alice.wait_for_import(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn('source image %s not found' % missing, task['message'])
        self.assertEqual('uploading', image['status'])

        source_id = self._active_image(alice, **SOURCE_PROPERTIES)
        alice.update(image_id, copy_metadata_from=source_id)
        alice.import_(image_id)
        image, task = alice.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(alice, image, data)
        self.assertEqual('scsi', image['hw_disk_bus'])

    def test_not_an_image_id_is_refused(self):
        alice = self.cloud.client('region-two')
        image_id, _ = self._staged(alice, copy_metadata_from='my-favourite')
        alice.import_(image_id)
        image, task = alice.wait_for_import(image_id)
        self.assertEqual('failure', task['status'])
        self.assertIn("copy_metadata_from='my-favourite' is not an image id",
                      task['message'])
        self.assertEqual('uploading', image['status'])
