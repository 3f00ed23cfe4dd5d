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

"""Base for functional tests: one real cloud per test class.

The cloud's services start in setUpClass and stop in tearDownClass, also
when set-up fails half-way. A service that cannot start fails the tests;
nothing here skips. When a test fails, every server's log is attached to
its result.
"""

import hashlib
import os
import time

import testtools
from testtools import content

from tests.functional.harness import cloud as cloud_mod


class CloudTestCase(testtools.TestCase):

    @classmethod
    def build_cloud(cls, cloud):
        """Add services to ``cloud``; subclasses override."""
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cloud = cloud_mod.Cloud()
        try:
            cls.build_cloud(cls.cloud)
        except BaseException:
            print(cls.cloud.logs())
            cls.cloud.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cloud.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.addOnException(self._attach_logs)

    def _attach_logs(self, exc_info):
        self.addDetail('server-logs', content.text_content(self.cloud.logs()))

    # -- helpers -------------------------------------------------------
    def stage_and_import(self, client, data, **props):
        """glance-direct: create, stage, import; returns (image, task)."""
        image = client.create(**props)
        client.stage(image['id'], data)
        client.import_(image['id'], 'glance-direct')
        return client.wait_for_import(image['id'])

    def assertImported(self, client, image, data):
        self.assertEqual('active', image['status'], image)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         image['os_hash_value'])
        self.assertEqual(data, client.download(image['id']))

    def wait_until_unlocked(self, client, image_id, task_id, timeout=30):
        """(image, task) once the import lock is gone from the image.

        After a failed glance-download the library finishes Glance 33's
        revert in the background, after Glance marked the task failed.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            image = client.get(image_id)
            if 'os_glance_import_task' not in image:
                tasks = {t['id']: t for t in client.tasks(image_id)}
                return image, tasks[task_id]
            time.sleep(0.3)
        self.fail('image %s still locked after %ss: %s' % (
            image_id, timeout, client.get(image_id)))


def random_bytes(size):
    return os.urandom(size)
