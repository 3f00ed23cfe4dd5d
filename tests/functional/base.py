"""Base for functional tests: one real cloud per test class.

The cloud's services start in setUpClass and stop in tearDownClass, also
when set-up fails half-way. A service that cannot start fails the tests;
nothing here skips. When a test fails, every server's log is attached to
its result.
"""

import hashlib
import os

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


def random_bytes(size):
    return os.urandom(size)
