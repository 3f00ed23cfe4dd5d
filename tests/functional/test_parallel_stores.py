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

"""Glance 33's parallel multi-store import with every plugin listed.

One glance-api with three file stores and ``max_parallel_stores = 3``
imports to all three at once. Glance 33 then writes a
``pending://parallel-import/<image>/<store>`` location row per store
before the upload and turns it active (or deletes it) per store. Its
failure and crash paths must leave the image exactly as Glance intends
(retryable, or active in the stores that succeeded), and nothing of the
library's behind. Parallel import is new in Glance 33: these tests are
not in the release matrix of older releases.
"""

import hashlib
import json
import os
import time
import uuid

import fixtures

from glance_import_ext.common import keepalive
from glance_import_ext.common import records
from tests.functional import base
from tests.functional.harness import glance

COMMAND = 'glance-import-ext-manage'
STORES = ('fast', 'slow', 'third')
PLUGINS = ['staging_owner', 'metadata_copy', 'glance_download_verify',
           'manifest_verify', 'checksum_verify', 'image_versions',
           'slow_upload']
SLOW_UPLOAD = {
    'slow_upload': 'tests.functional.harness.slow_upload_plugin:get_flow'}
HOLD = 'test_hold_upload'
HEARTBEAT = 5
STALE = keepalive.stale_after(HEARTBEAT)
RECORD_KEY = 'functional-parallel-key'
LOCK = 'os_glance_import_task'
IMPORTING_TO = 'os_glance_importing_to_stores'
FAILED = 'os_glance_failed_import'
STATE = 'import_ext_version_state'
RECORD_SUFFIX = '.import_ext_digests'


class TestParallelStores(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance(
            'api', plugins=PLUGINS, stores=STORES, max_parallel_stores=3,
            test_plugins=SLOW_UPLOAD, paste_filters=[glance.STAGE_DIGESTS],
            import_conf={
                'glance_import_ext': {'record_key': RECORD_KEY,
                                      'heartbeat_interval': str(HEARTBEAT)},
                'image_versions': {'rotation_poll_interval': '0.3'}})

    def setUp(self):
        super().setUp()
        self.api = self.cloud.workers['api']
        self.client = self.cloud.client('api')
        self.name = 'parallel-%s' % uuid.uuid4().hex[:8]

    # -- helpers -------------------------------------------------------
    def staged(self, size=256 * 1024, **props):
        data = base.random_bytes(size)
        image = self.client.create(name=self.name, **props)
        self.client.stage(image['id'], data)
        return image['id'], data

    def import_everywhere(self, image_id, **kwargs):
        self.client.import_(image_id, stores=STORES, **kwargs)
        image, task = self.client.wait_for_import(image_id)
        return self.wait_until_unlocked(self.client, image_id, task['id'])

    def location_rows(self, image_id):
        """Glance's location rows of the image that are not deleted."""
        return self.cloud.db.query(
            self.api.db_url, 'SELECT value, status FROM image_locations '
            'WHERE image_id = %s AND NOT deleted ORDER BY value',
            (image_id,))

    def store_files(self, image_id):
        """{store: bytes} of the objects the file stores hold for it."""
        found = {}
        for store, datadir in self.api.stores.items():
            path = os.path.join(datadir, image_id)
            if os.path.isfile(path):
                with open(path, 'rb') as f:
                    found[store] = f.read()
        return found

    def staging_files(self, image_id):
        return sorted(n for n in os.listdir(self.api.staging_dir)
                      if n.split('.', 1)[0] == image_id)

    def fail_store(self, store, image_id):
        """Make ``store`` refuse this image's data.

        A directory where the file store would write the image: it
        refuses an existing path (Duplicate). Permissions would not stop
        the tests, which run as root.
        """
        blocker = os.path.join(self.api.stores[store], image_id)
        os.makedirs(blocker)
        self.addCleanup(lambda: os.path.isdir(blocker) and os.rmdir(blocker))
        return blocker

    def command(self, *args, rc=0):
        result = self.api.command(COMMAND, *args)
        self.assertEqual(rc, result.returncode, 'stdout:\n%s\nstderr:\n%s' % (
            result.stdout, result.stderr))
        return result.stdout

    def records_verdict(self, image_id):
        result = self.api.command(COMMAND, 'records', 'verify', '--format',
                                  'json', image_id)
        out = json.loads(result.stdout)
        [row] = out['images']
        return row['verdict'], result.returncode

    def rotated(self, image_id, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            image = self.client.get(image_id)
            if image.get(STATE) != 'pending':
                return image
            self.assertLess(time.monotonic(), deadline,
                            'rotation still pending: %s' % image)
            time.sleep(0.3)

    def assertRetryable(self, image, image_id):
        """Back to uploading with its staged data; nothing else left."""
        self.assertEqual('uploading', image['status'], image)
        self.assertNotIn(LOCK, image)
        self.assertFalse(image.get(IMPORTING_TO), image)
        self.assertEqual([], [k for k in image if k.startswith('import_ext_')])
        self.assertEqual([], self.location_rows(image_id))
        self.assertEqual({}, self.store_files(image_id))
        # The staged data, kept for a retry, and at most its stage record,
        # which still describes it (a retry then needs no pass over it).
        self.assertIn(self.staging_files(image_id),
                      ([image_id], [image_id, image_id + RECORD_SUFFIX]))

    def assertImportedEverywhere(self, image_id, data):
        image = self.rotated(image_id)
        self.assertImported(self.client, image, data)
        self.assertEqual(set(STORES), set(image['stores'].split(',')))
        self.assertFalse(image.get(IMPORTING_TO), image)
        self.assertFalse(image.get(FAILED), image)
        self.assertEqual(','.join(PLUGINS), image['import_ext_plugins'])
        self.assertEqual('current', image[STATE])
        rows = self.location_rows(image_id)
        self.assertEqual(['active'] * 3, [r['status'] for r in rows], rows)
        self.assertEqual({s: data for s in STORES},
                         self.store_files(image_id))
        self.assertStagingDone(image_id)
        self.assertEqual((records.VALID, 0), self.records_verdict(image_id))
        return image

    def assertStagingDone(self, image_id):
        # Glance removed the staged data; the stage record goes within a
        # heartbeat of the import's success (the keepalive removes it).
        deadline = time.monotonic() + 3 * HEARTBEAT
        while self.staging_files(image_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual([], self.staging_files(image_id))

    # -- tests ---------------------------------------------------------
    def test_plugin_failure_leaves_image_retryable(self):
        wrong = hashlib.sha256(b'other data').hexdigest()
        image_id, data = self.staged(expected_digest_sha256=wrong)

        image, task = self.import_everywhere(image_id)
        self.assertEqual('failure', task['status'], task)
        self.assertIn('checksum_verify', task['message'])
        self.assertIn(wrong, task['message'])
        self.assertRetryable(image, image_id)
        self.assertFalse(image.get(FAILED), image)

        self.client.update(image_id, expected_digest_sha256=hashlib.sha256(
            data).hexdigest())
        image, task = self.import_everywhere(image_id)
        self.assertEqual('success', task['status'], task)
        image = self.assertImportedEverywhere(image_id, data)
        self.assertIn('sha256', image['import_ext_verified_digests'])

    def test_store_failure_when_all_must_succeed(self):
        image_id, data = self.staged()
        blocker = self.fail_store('slow', image_id)

        image, task = self.import_everywhere(image_id,
                                             all_stores_must_succeed=True)
        self.assertEqual('failure', task['status'], task)
        # Glance's message for any store failure of a parallel import.
        self.assertEqual('Task failed due to Internal Error',
                         task['message'])
        self.assertRetryable(image, image_id)
        self.assertEqual(records.NO_RECORDS,
                         self.records_verdict(image_id)[0])

        os.rmdir(blocker)
        image, task = self.import_everywhere(image_id,
                                             all_stores_must_succeed=True)
        self.assertEqual('success', task['status'], task)
        self.assertImportedEverywhere(image_id, data)

    def test_store_failure_when_any_may_succeed(self):
        old_id, _ = self.staged(size=4096)
        _, task = self.import_everywhere(old_id)
        self.assertEqual('success', task['status'], task)
        self.rotated(old_id)
        image_id, data = self.staged()
        self.fail_store('slow', image_id)

        image, task = self.import_everywhere(image_id,
                                             all_stores_must_succeed=False)
        self.assertEqual('success', task['status'], task)
        image = self.rotated(image_id)
        self.assertImported(self.client, image, data)
        self.assertEqual({'fast', 'third'}, set(image['stores'].split(',')))
        self.assertEqual('slow', image[FAILED])
        self.assertFalse(image.get(IMPORTING_TO), image)
        rows = self.location_rows(image_id)
        self.assertEqual(['active', 'active'], [r['status'] for r in rows])
        for row in rows:
            self.assertTrue(row['value'].startswith('file://'), row)
        self.assertEqual({'fast': data, 'third': data},
                         self.store_files(image_id))
        self.assertStagingDone(image_id)
        self.assertEqual(','.join(PLUGINS), image['import_ext_plugins'])
        self.assertEqual((records.VALID, 0), self.records_verdict(image_id))
        # image_versions: the new image replaced the old one.
        self.assertEqual('current', image[STATE])
        self.assertEqual(old_id, image['import_ext_previous_image'])
        old = self.client.get(old_id)
        self.assertTrue(old['os_hidden'], old)
        self.assertEqual(image_id, old['import_ext_superseded_by'])

    def test_worker_killed_during_parallel_upload(self):
        holds = self.useFixture(fixtures.TempDir()).path
        hold = os.path.join(holds, 'upload')
        open(hold, 'w').close()
        self.addCleanup(lambda: os.path.exists(hold) and os.remove(hold))
        image_id, data = self.staged(size=1024 * 1024, **{HOLD: hold})
        self.client.import_(image_id, stores=STORES)
        pids = {self.wait_started(hold, store) for store in STORES}
        self.assertEqual(1, len(pids), pids)
        rows = self.location_rows(image_id)
        self.assertEqual(
            [('pending://parallel-import/%s/%s' % (image_id, s), 'uploading')
             for s in sorted(STORES)],
            [(r['value'], r['status']) for r in rows])
        self.assertEqual(set(STORES), set(self.store_files(image_id)))
        task_id = self.client.get(image_id)[LOCK]

        self.api.kill_worker(pids.pop())
        self.wait_dead(image_id, STALE + 60)
        dry = self.command('imports', 'recover')
        self.assertIn('would recover image %s: status importing -> '
                      'uploading' % image_id, dry)
        self.assertIn('Dry run: nothing changed', dry)
        self.assertIn('3 pending:// location row(s) of the parallel import '
                      'deleted', dry)
        self.assertEqual(3, len(self.location_rows(image_id)))
        self.assertEqual(set(STORES), set(self.store_files(image_id)))
        self.assertEqual('importing', self.client.get(image_id)['status'])

        out = self.command('imports', 'recover', '--apply')
        self.assertIn('recovered image %s: status importing -> uploading'
                      % image_id, out)
        self.assertIn('3 pending:// location row(s) of the parallel import '
                      'deleted', out)
        for store in STORES:
            self.assertIn('partial store object %s removed' % os.path.join(
                self.api.stores[store], image_id), out)
        self.assertIn('task %s: processing -> failure' % task_id, out)
        image = self.client.get(image_id)
        self.assertRetryable(image, image_id)
        tasks = {t['id']: t for t in self.client.tasks(image_id)}
        self.assertEqual('failure', tasks[task_id]['status'])

        os.remove(hold)
        image, task = self.import_everywhere(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImportedEverywhere(image_id, data)
        self.assertIn('No dead import to recover.',
                      self.command('imports', 'recover', '--apply'))

    def wait_started(self, hold, store, timeout=60):
        """The pid of the glance-api process holding ``store``'s upload."""
        path = '%s.%s.started' % (hold, store)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    return int(f.read())
            except (FileNotFoundError, ValueError):
                time.sleep(0.2)
        self.fail('upload to %s not held after %ss' % (store, timeout))

    def wait_dead(self, image_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            rows = json.loads(
                self.command('imports', 'list', '--format', 'json'))
            row = {r['image']: r for r in rows}.get(image_id)
            if row and row['import'] == 'dead':
                return row
            self.assertLess(time.monotonic(), deadline,
                            'import of %s not dead: %s' % (image_id, row))
            time.sleep(2)
