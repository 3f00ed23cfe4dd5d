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

"""A proxied glance-direct import under Keystone, on every Glance release.

Glance 32 and older read ``[keystone_authtoken] identity_uri`` when they
proxy a glance-direct import to the worker that staged the data;
keystonemiddleware 13 no longer registers that option, so such a Glance
answers 500 to every proxied import. The library's paste filter
``stage_host_check`` registers the option when nothing else did (README,
"the paste filter"). Replicas 'a' and 'b' have the filter, 'plain' has
not; all three share a database and run Keystone's authtoken.
"""

from importlib import metadata

from tests.functional import base
from tests.functional.harness import glance

PLUGINS = ['staging_owner']


def _major(dist):
    return int(metadata.version(dist).split('.')[0])


# The defect the filter works around is there (Glance <= 32 with
# keystonemiddleware >= 13), or not (Glance 33, or an older
# keystonemiddleware).
DEFECT = _major('glance') <= 32 and _major('keystonemiddleware') >= 13


class TestProxiedImportUnderKeystone(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.with_keystone()
        cloud.add_user('alice', 'demo')
        for name in ('a', 'b'):
            cloud.add_glance(name, plugins=PLUGINS,
                             paste_filters=[glance.STAGE_HOST_CHECK])
        cloud.add_glance('plain', plugins=PLUGINS)

    def _stage_on(self, worker):
        client = self.cloud.client(worker)
        data = base.random_bytes(64 * 1024)
        image = client.create()
        client.stage(image['id'], data)
        return image['id'], data

    def test_proxied_import_through_the_filter_succeeds(self):
        image_id, data = self._stage_on('plain')
        via_b = self.cloud.client('b')
        resp = via_b.import_(image_id)  # 202 expected: Glance proxied it
        self.assertEqual(self.cloud.workers['plain'].url,
                         resp.headers['X-Import-Ext-Staging-Worker'])
        image, task = via_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(via_b, image, data)
        self.assertEqual(self.cloud.workers['plain'].url,
                         image['import_ext_imported_on'])

    def test_without_the_filter_as_the_release_behaves(self):
        """What an operator without the filter sees: the defect itself."""
        image_id, data = self._stage_on('a')
        via_plain = self.cloud.client('plain')
        if not DEFECT:
            via_plain.import_(image_id)
            image, task = via_plain.wait_for_import(image_id)
            self.assertEqual('success', task['status'], task)
            return
        via_plain.import_(image_id, expect=(500,))
        self.assertIn('NoSuchOptError', self.cloud.workers['plain'].logs())
        # Nothing changed: the same import through a replica with the
        # filter succeeds.
        self.assertEqual('uploading', via_plain.get(image_id)['status'])
        via_b = self.cloud.client('b')
        via_b.import_(image_id)
        image, task = via_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(via_b, image, data)
