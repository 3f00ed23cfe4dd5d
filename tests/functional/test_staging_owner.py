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

"""Distributed import across two glance-api replicas with separate staging.

Replicas A and B share a database and an image store; each stages on its
own disk. Data is staged on A and the import is requested through B.
"""

import concurrent.futures
import hashlib
import os
import re
import shutil

from tests.functional import base
from tests.functional.harness import glance

PLUGINS = ['staging_owner', 'metadata_copy', 'checksum_verify']
COMMAND = 'glance-import-ext-manage'
# "2026-11-21 23:31:36.142 15593 ERROR glance..." (oslo.log's format)
LOG_ERROR = re.compile(r'^\S+ \S+ \d+ (ERROR|CRITICAL) ')


class TestDistributedImport(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        for name in ('a', 'b'):
            cloud.add_glance(name, plugins=PLUGINS, processes=2,
                             paste_filters=[glance.STAGE_HOST_CHECK])

    def setUp(self):
        super().setUp()
        self.a = self.cloud.workers['a']
        self.b = self.cloud.workers['b']
        self.via_a = self.cloud.client('a')
        self.via_b = self.cloud.client('b')
        # A test that stops A starts it again, also when it fails.
        self.addCleanup(self._ensure_running, self.a)

    @staticmethod
    def _ensure_running(worker):
        if not worker.running:
            worker.start()

    def _stage_on_a(self, size=256 * 1024, **props):
        data = base.random_bytes(size)
        image = self.via_a.create(
            expected_digest_sha256=hashlib.sha256(data).hexdigest(), **props)
        self.via_a.stage(image['id'], data)
        return image['id'], data

    def _staged_file(self, image_id):
        return os.path.join(self.a.staging_dir, image_id)

    def test_staged_on_a_imported_through_b_runs_on_a(self):
        image_id, data = self._stage_on_a()
        resp = self.via_b.import_(image_id)
        self.assertEqual(self.a.url,
                         resp.headers['X-Import-Ext-Staging-Worker'])
        image, task = self.via_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, data)
        self.assertEqual(self.a.url, image['import_ext_staged_on'])
        self.assertEqual(self.a.url, image['import_ext_imported_on'])
        self.assertEqual('sha256', image['import_ext_verified_digests'])
        self.assertFalse(os.path.exists(self._staged_file(image_id)))

    def test_failed_import_is_retried_through_b_on_the_staging_worker(self):
        image_id, data = self._stage_on_a()
        good = hashlib.sha256(data).hexdigest()
        self.via_a.update(image_id, expected_digest_sha256=hashlib.sha256(
            b'wrong').hexdigest())
        self.via_b.import_(image_id)
        image, task = self.via_b.wait_for_import(image_id)
        self.assertEqual('failure', task['status'])
        self.assertEqual('uploading', image['status'])
        self.assertTrue(os.path.isfile(self._staged_file(image_id)))

        self.via_b.update(image_id, expected_digest_sha256=good)
        resp = self.via_b.import_(image_id)
        # Still proxied: the staging worker is known again after failure.
        self.assertEqual(self.a.url,
                         resp.headers['X-Import-Ext-Staging-Worker'])
        image, task = self.via_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, data)
        self.assertEqual(self.a.url, image['import_ext_imported_on'])

    def test_staging_worker_down_503_then_import_when_back(self):
        image_id, data = self._stage_on_a()
        self.a.stop()

        resp = self.via_b.import_(image_id, expect=(503,))
        self.assertEqual('15', resp.headers['Retry-After'])
        message = resp.json()['error']['message']
        self.assertIn('staged on glance-api worker %s' % self.a.url, message)
        self.assertIn('retry the import when that worker is back', message)
        self.assertEqual('uploading', self.via_b.get(image_id)['status'])
        self.assertTrue(os.path.isfile(self._staged_file(image_id)))

        listing = self.b.run_command(COMMAND, 'imports', 'list')
        self.assertEqual(0, listing.returncode, listing.stdout)
        self.assertRegex(listing.stdout, r'%s\s+uploading\s+none\s+-\s+NO'
                         r'\s+%s' % (image_id, re.escape(self.a.url)))

        self.a.start()
        refused = self.b.run_command(COMMAND, 'imports', 'clean', '--worker',
                                     self.a.url, '--apply')
        self.assertEqual(1, refused.returncode, refused.stdout)
        self.assertIn('Refusing: worker %s answers' % self.a.url,
                      refused.stdout)

        self.via_b.import_(image_id)
        image, task = self.via_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, data)
        self.assertEqual(self.a.url, image['import_ext_imported_on'])

    def test_clean_images_of_a_worker_gone_for_good(self):
        image_id, data = self._stage_on_a(size=4096)
        self.a.stop()
        shutil.rmtree(self.a.staging_dir)  # A's disk is gone with it
        os.makedirs(self.a.staging_dir)

        dry = self.b.run_command(COMMAND, 'imports', 'clean', '--worker',
                                 self.a.url)
        self.assertEqual(0, dry.returncode, dry.stdout)
        self.assertIn('would reset image %s: status uploading -> queued'
                      % image_id, dry.stdout)
        self.assertIn('os_glance_stage_host: %s -> (removed)' % self.a.url,
                      dry.stdout)
        self.assertIn('Dry run: nothing changed', dry.stdout)
        self.assertEqual('uploading', self.via_b.get(image_id)['status'])

        applied = self.b.run_command(COMMAND, 'imports', 'clean', '--worker',
                                     self.a.url, '--apply')
        self.assertEqual(0, applied.returncode, applied.stdout)
        image = self.via_b.get(image_id)
        self.assertEqual('queued', image['status'])
        listing = self.b.run_command(COMMAND, 'imports', 'list')
        self.assertNotIn(image_id, listing.stdout)

        # Its owner stages again, on B this time, and imports.
        self.via_b.stage(image_id, data)
        self.via_b.import_(image_id)
        image, task = self.via_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, data)
        self.assertEqual(self.b.url, image['import_ext_imported_on'])

    def test_twenty_concurrent_imports(self):
        workers = self.cloud.workers.values()
        logs = {path: os.path.getsize(path) for w in workers
                for path in (w.log_file, w.uwsgi_log)}

        def one(_):
            image_id, data = self._stage_on_a(size=512 * 1024)
            client = self.cloud.client('b')
            client.import_(image_id)
            image, task = client.wait_for_import(image_id, timeout=300)
            return client, image, task, data

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(one, range(20)))
        for client, image, task, data in results:
            self.assertEqual('success', task['status'], task)
            self.assertImported(client, image, data)
            self.assertEqual(self.a.url, image['import_ext_imported_on'])
            self.assertEqual('staging_owner,metadata_copy,checksum_verify',
                             image['import_ext_plugins'])
        written = ''
        for path, start in logs.items():
            with open(path, errors='replace') as f:
                f.seek(start)
                written += f.read()
        self.assertNotIn('database is locked', written)
        errors = [line for line in written.splitlines()
                  if LOG_ERROR.match(line) or 'Traceback' in line]
        self.assertEqual([], errors)
