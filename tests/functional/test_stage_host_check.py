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

"""The paste filter stage_host_check on real glance-api replicas.

A and B are replicas of one region, both with the filter; C is a third
replica without it: Glance's own answer to compare with. Data is staged
on A; imports go through B (or C), which proxy them to A.
"""

import concurrent.futures
import hashlib
import os
import signal
import time

from tests.functional import base
from tests.functional.harness import glance

PLUGINS = ['staging_owner', 'checksum_verify']
HEADER = 'X-Import-Ext-Staging-Worker'
# Longer than the probe of a filter that asks first (probe_timeout 2 s in
# the harness), far shorter than Glance's 60 s proxy timeout.
SLOW_SECONDS = 8
GLANCE_PROXY_TIMEOUT = 60


class TestStageHostCheck(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        for name in ('a', 'b'):
            cloud.add_glance(name, plugins=PLUGINS, processes=2,
                             paste_filters=[glance.STAGE_HOST_CHECK])
        cloud.add_glance('c', plugins=PLUGINS, processes=1)

    def setUp(self):
        super().setUp()
        self.a = self.cloud.workers['a']
        self.owner_a = self.cloud.client('a')
        self.owner_b = self.cloud.client('b')
        self.owner_c = self.cloud.client('c')
        # A test that stops A starts it again, also when it fails.
        self.addCleanup(self._ensure_running, self.a)

    @staticmethod
    def _ensure_running(worker):
        if not worker.running:
            worker.start()

    def _stage_on_a(self, size=256 * 1024):
        data = base.random_bytes(size)
        image = self.owner_a.create(
            expected_digest_sha256=hashlib.sha256(data).hexdigest())
        self.owner_a.stage(image['id'], data)
        return image['id'], data

    def _staged_file(self, image_id):
        return os.path.join(self.a.staging_dir, image_id)

    def _pause_a(self):
        """SIGSTOP A's uWSGI (master and workers): alive, answers nothing.

        The kernel still completes TCP handshakes on its listening socket:
        A accepts connections and is slow to answer, as a busy worker is.
        """
        pgid = self.a.service.proc.pid  # its own session: pgid == pid
        os.killpg(pgid, signal.SIGSTOP)
        self.addCleanup(self._resume, pgid)
        return pgid

    @staticmethod
    def _resume(pgid):
        try:
            os.killpg(pgid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def _import_request(self, client, image_id):
        # Plain POST: ImageClient.import_ first lists the image's tasks,
        # which a caller who cannot see the image may not do.
        return client.request(
            'POST', '/v2/images/%s/import' % image_id, expect=None,
            json={'method': {'name': 'glance-direct'}})

    def assertRevealsNoWorker(self, resp):
        self.assertNotIn(HEADER, resp.headers)
        hints = (self.a.url, '127.0.0.1:%d' % self.a.port,
                 ':%d' % self.a.port)
        for hint in hints:
            self.assertNotIn(hint, resp.text)
            for name, value in resp.headers.items():
                self.assertNotIn(hint, value, name)

    def assertStagedUnchanged(self, image_id, data):
        self.assertEqual('uploading', self.owner_b.get(image_id)['status'])
        with open(self._staged_file(image_id), 'rb') as f:
            self.assertEqual(hashlib.sha256(data).hexdigest(),
                             hashlib.sha256(f.read()).hexdigest())

    def assertImportsThroughB(self, image_id, data):
        resp = self.owner_b.import_(image_id)
        self.assertEqual(self.a.url, resp.headers[HEADER])
        image, task = self.owner_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.owner_b, image, data)
        self.assertEqual(self.a.url, image['import_ext_imported_on'])

    # -- a. a caller who may not import ----------------------------------
    def test_caller_who_may_not_import_gets_glances_own_answer(self):
        # Bob (another project) sees a shared image he is a member of, but
        # may not import into it; he does not see the other image at all.
        shared_id, shared_data = self._stage_on_a()
        self.owner_a.request('POST', '/v2/images/%s/members' % shared_id,
                             json={'member': 'other'})
        hidden_id, hidden_data = self._stage_on_a()
        bob_b = self.cloud.client('b', user='bob', project='other')
        bob_c = self.cloud.client('c', user='bob', project='other')
        self.assertEqual(shared_id, bob_b.get(shared_id)['id'])

        for a_is in ('up', 'down'):
            if a_is == 'down':
                self.a.stop()
            for image_id, status in ((shared_id, 403), (hidden_id, 404)):
                resp = self._import_request(bob_b, image_id)
                glance_itself = self._import_request(bob_c, image_id)
                what = 'A %s, image %s' % (a_is, image_id)
                self.assertEqual(status, resp.status_code, what)
                self.assertEqual(glance_itself.status_code,
                                 resp.status_code, what)
                self.assertEqual(glance_itself.text, resp.text, what)
                self.assertEqual(glance_itself.headers['Content-Type'],
                                 resp.headers['Content-Type'], what)
                self.assertNotIn('Retry-After', resp.headers, what)
                self.assertRevealsNoWorker(resp)

        self.a.start()
        for image_id, data in ((shared_id, shared_data),
                               (hidden_id, hidden_data)):
            self.assertStagedUnchanged(image_id, data)
            self.assertImportsThroughB(image_id, data)

    # -- b. a slow but alive staging worker ------------------------------
    def test_slow_staging_worker_is_not_down(self):
        image_id, data = self._stage_on_a()
        pgid = self._pause_a()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            future = pool.submit(self.owner_b.import_, image_id,
                                 expect=None)
            time.sleep(SLOW_SECONDS)
            if future.done():
                self.fail('B answered while A was stopped: %d %s' % (
                    future.result().status_code, future.result().text))
            self._resume(pgid)
            resp = future.result()
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertGreater(time.monotonic() - started, SLOW_SECONDS)
        self.assertEqual(self.a.url, resp.headers[HEADER])
        image, task = self.owner_b.wait_for_import(image_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.owner_b, image, data)
        self.assertEqual(self.a.url, image['import_ext_imported_on'])

    def test_staging_worker_slower_than_glances_proxy_gets_glances_500(self):
        # Glance gives up on A after 60 s and answers 500; A accepted the
        # connection and will run the import once it goes on: neither
        # "down" nor "unchanged". Glance's answer passes through.
        image_id, data = self._stage_on_a()
        pgid = self._pause_a()
        started = time.monotonic()
        resp = self._import_request(self.owner_b, image_id)
        waited = time.monotonic() - started
        self._resume(pgid)
        self.assertEqual(500, resp.status_code, resp.text)
        self.assertGreaterEqual(waited, GLANCE_PROXY_TIMEOUT)
        self.assertNotIn('Retry-After', resp.headers)
        self.assertRevealsNoWorker(resp)
        # A goes on with the request it accepted while stopped (seen here:
        # it runs the import). Either way the owner ends with the image.
        deadline = time.monotonic() + 30
        tasks = []
        while not tasks and time.monotonic() < deadline:
            time.sleep(0.5)
            tasks = self.owner_b.tasks(image_id)
        if tasks:
            image, task = self.owner_b.wait_for_import(image_id)
            self.assertEqual('success', task['status'], task)
            self.assertImported(self.owner_b, image, data)
        else:
            self.assertImportsThroughB(image_id, data)

    # -- c. the staging worker really down ------------------------------
    def test_staging_worker_down_503_then_import_when_back(self):
        image_id, data = self._stage_on_a()
        self.a.stop()

        # Glance alone answers 500 (Glance 33's proxy misses keystoneauth's
        # ConnectFailure) and changes nothing.
        plain = self._import_request(self.owner_c, image_id)
        self.assertEqual(500, plain.status_code, plain.text)
        self.assertStagedUnchanged(image_id, data)

        resp = self._import_request(self.owner_b, image_id)
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertEqual('15', resp.headers['Retry-After'])
        self.assertEqual('application/json', resp.headers['Content-Type'])
        error = resp.json()['error']
        self.assertEqual(503, error['code'])
        message = error['message']
        self.assertIn(image_id, message)
        self.assertIn('staged on glance-api worker %s' % self.a.url,
                      message)
        self.assertIn('retry the import when that worker is back', message)
        self.assertLess(len(message), 1000)
        self.assertNotIn(HEADER, resp.headers)
        self.assertStagedUnchanged(image_id, data)
        self.assertEqual([], self.owner_b.tasks(image_id))  # none started

        self.a.start()
        self.assertImportsThroughB(image_id, data)
