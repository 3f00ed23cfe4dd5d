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

"""The library's promises on the database the cloud runs on.

Every functional test runs on the database GIE_TEST_DATABASE names
(harness/cloud.py): MariaDB by default, a MariaDB Galera cluster with
``tox -e functional-galera``, PostgreSQL with ``tox -e
functional-postgresql``. The tests here are the ones those environments
run first (tests/functional/databases.txt): two replicas of one region
with every plugin of the library, connected on Galera to different nodes
(on the other servers to the one server); and one glance-api of two uWSGI
processes, whose imports of one lineage serialize on the lock the
processes share (on PostgreSQL pg_try_advisory_lock, on MariaDB
GET_LOCK).

image_versions' lineage lock is the database's own on MariaDB and
PostgreSQL; on Galera the harness gives every replica a tooz lock
([image_versions] coordination_url), as the library requires there.
"""

import hashlib
import json
import threading
import time
import uuid

from testtools import content

from tests.functional import base
from tests.functional.harness import client as image_client

EVERY_PLUGIN = ['staging_owner', 'metadata_copy', 'checksum_verify',
                'manifest_verify', 'glance_download_verify', 'image_versions']
COMMAND = 'glance-import-ext-manage'
STATUS = 'glance-import-ext-status'
RECORD_KEY = 'functional-databases-key'
STATE = 'import_ext_version_state'
SUCCESSOR = 'import_ext_superseded_by'
CONCURRENT_IMPORTS = 10


def lineage_problems(images):
    """How ``images`` (id -> image: a whole lineage) break the promise.

    The promise: one visible version, the current one, and none hidden
    without a successor. Returns one text per break.
    """
    problems = []
    visible = sorted(i for i, image in images.items()
                     if not image['os_hidden'])
    if len(visible) != 1:
        problems.append('%d visible versions: %s' % (len(visible), visible))
    for image_id in visible:
        if images[image_id].get(STATE) != 'current':
            problems.append('visible %s is %s, not current' % (
                image_id, images[image_id].get(STATE)))
    for image_id, image in sorted(images.items()):
        if not image['os_hidden']:
            continue
        if image.get(STATE) != 'superseded':
            problems.append('hidden %s is %s, not superseded' % (
                image_id, image.get(STATE)))
        # Successors lead to a visible version, without a loop.
        seen = [image_id]
        while images.get(seen[-1], {}).get('os_hidden'):
            successor = images[seen[-1]].get(SUCCESSOR)
            if successor not in images or successor in seen:
                problems.append('hidden %s (%s): successors %s then %r' % (
                    image_id, image.get(STATE), seen, successor))
                break
            seen.append(successor)
    return problems


def every_plugin_conf():
    """glance-image-import.conf of a worker running EVERY_PLUGIN."""
    return {'glance_import_ext': {'record_key': RECORD_KEY},
            'image_versions': {'rotation_poll_interval': '0.3'}}


class LineageTestCase(base.CloudTestCase):
    """Helpers of the tests that import versions of one lineage."""

    def setUp(self):
        super().setUp()
        self.name = 'lineage-%s' % uuid.uuid4().hex[:8]
        self.glance_errors = []
        self.addDetail('glance-5xx', content.Content(
            content.UTF8_TEXT,
            lambda: ['\n'.join(self.glance_errors).encode('utf-8')]))

    def retried(self, call, *args, **kwargs):
        """``call``'s answer, asked again after Glance's own 5xx answers.

        A Galera node aborts a transaction of Glance's that conflicts with
        a write replicated from another node ("Deadlock found"), and
        Glance answers 500 where it does not retry: a client asks again.
        The answers are kept as the test's detail.
        """
        for attempt in range(5):
            try:
                return call(*args, **kwargs)
            except image_client.APIError as exc:
                if exc.status < 500 or attempt == 4:
                    raise
                self.glance_errors.append(str(exc)[:300])
                time.sleep(1)

    def staged(self, worker, data):
        """An image of this test's lineage, staged on ``worker``."""
        client = self.cloud.client(worker)
        image = client.create(
            name=self.name,
            expected_digest_sha256=hashlib.sha256(data).hexdigest())
        client.stage(image['id'], data)
        return image['id']

    def settled(self, client, image_id, timeout=60):
        """The image once its rotation is no longer pending, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            image = self.retried(client.get, image_id)
            if image.get(STATE) != 'pending':
                return image
            time.sleep(0.3)
        return None

    def verdicts(self, worker, image_ids):
        """records verify's exit code and verdict of each image."""
        result = self.cloud.workers[worker].command(
            COMMAND, 'records', 'verify', '--format', 'json', *image_ids)
        self.addDetail('records verify', content.text_content(
            'exit %d\n%s\n%s' % (result.returncode, result.stdout,
                                 result.stderr)))
        found = json.loads(result.stdout)['images'] if result.stdout else []
        return result.returncode, {r['image']: r['verdict'] for r in found}

    def concurrent_versions(self, workers):
        """Versions of this test's lineage imported at once; what broke.

        A first version through ``workers[0]``; then one version staged
        on each worker of ``workers`` (names, repeated as wanted), all
        imported at the same moment, each through the worker that staged
        it. Returns (tasks, problems): each version's (worker, import
        task), and one text per broken promise: an import not answered
        202 or not successful, a rotation still pending, the lineage's
        (lineage_problems), an active image listed besides the current
        one, records that are not valid. Problems are gathered, not
        asserted, so that a failure tells all of them and the versions'
        states (the problems' last entry, if any).
        """
        first_via = self.cloud.client(workers[0])
        first = self.staged(workers[0], base.random_bytes(64 * 1024))
        first_via.import_(first)
        _, task = first_via.wait_for_import(first)
        self.assertEqual('success', task['status'], task)
        self.assertIsNotNone(self.settled(first_via, first))

        staged = [(w, self.staged(w, base.random_bytes(128 * 1024)))
                  for w in workers]
        barrier = threading.Barrier(len(staged))
        answers = {}

        def start(worker, image_id):
            client = self.cloud.client(worker)
            barrier.wait()
            # Asked again after a 5xx, as a client does. import_ lists the
            # image's tasks first, and Glance's GET of them is a write
            # transaction (it soft-deletes the owner's expired tasks) that
            # the other node's task writes abort on Galera: a 500 there
            # once left an image staged, never imported, with no task. A
            # 500 to the POST leaves at worst the import lock on a task
            # never created, which Glance's next import breaks as stale.
            try:
                resp = self.retried(client.import_, image_id)
                answers[image_id] = resp.status_code
            except Exception as exc:  # reported with the lineage below
                answers[image_id] = 'no answer: %s' % str(exc)[:2000]

        threads = [threading.Thread(target=start, args=s) for s in staged]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        problems = []
        tasks = {}
        for worker, image_id in staged:
            if answers.get(image_id) != 202:
                problems.append('import of %s via %s answered %s' % (
                    image_id, worker, answers.get(image_id)))
                continue
            _, task = self.retried(self.cloud.client(worker).wait_for_import,
                                   image_id, timeout=240)
            tasks[image_id] = (worker, task)
            if task['status'] != 'success':
                problems.append('import of %s via %s: %s: %s' % (
                    image_id, worker, task['status'], task['message']))
        ids = [first] + [image_id for _, image_id in staged]
        for image_id in ids:
            if self.settled(first_via, image_id) is None:
                problems.append('rotation of %s still pending' % image_id)
        # What a user sees once every rotation ended (Galera applies other
        # nodes' writes asynchronously: a moment to catch up).
        time.sleep(1)
        # The versions: the images whose import succeeded (a failed one,
        # reported above, stays out of the lineage).
        lineage = {i: image for i, image in (
            (i, self.retried(first_via.get, i)) for i in ids)
            if image['status'] == 'active'}
        problems += lineage_problems(lineage)
        listed = first_via.request('GET', '/v2/images', params={
            'name': self.name, 'status': 'active'}).json()['images']
        if len(listed) != 1:
            problems.append('the lineage lists %d active images: %s' % (
                len(listed), sorted(i['id'] for i in listed)))
        code, verdicts = self.verdicts(workers[0], sorted(lineage))
        problems += ['records of %s: %s' % (i, verdicts.get(i))
                     for i in sorted(lineage) if verdicts.get(i) != 'valid']
        if problems:
            problems.append('the versions: %s' % json.dumps(
                {i: {k: image.get(k) for k in ('os_hidden', STATE, SUCCESSOR)}
                 for i, image in lineage.items()}, indent=1, sort_keys=True))
        return tasks, problems


class TestEveryPluginOnTwoNodes(LineageTestCase):
    """Replica ``one`` on the first database node, ``two`` on the second."""

    @classmethod
    def build_cloud(cls, cloud):
        galera = cloud.database == 'galera'
        for name, node in zip(('one', 'two'), (1, 2) if galera else (1, 1)):
            cloud.add_glance(name, plugins=EVERY_PLUGIN, db_node=node,
                             import_conf=every_plugin_conf())
        # image_versions left to the database's own lock.
        cloud.add_glance('database_lock', db_node=3 if galera else 1,
                         plugins=['staging_owner', 'image_versions'],
                         import_conf={
                             'image_versions': {'coordination_url': ''}})

    def test_import_with_every_plugin_through_each_node(self):
        for worker, reader in (('one', 'two'), ('two', 'one')):
            data = base.random_bytes(256 * 1024)
            image_id = self.staged(worker, data)
            client = self.cloud.client(worker)
            client.import_(image_id)
            image, task = client.wait_for_import(image_id)
            self.assertEqual('success', task['status'], task)
            self.assertImported(client, image, data)
            # The records, read through the other node.
            image = self.settled(self.cloud.client(reader), image_id)
            self.assertIsNotNone(image, 'rotation still pending')
            url = self.cloud.workers[worker].url
            self.assertEqual(','.join(EVERY_PLUGIN),
                             image['import_ext_plugins'])
            self.assertEqual(url, image['import_ext_staged_on'])
            self.assertEqual(url, image['import_ext_imported_on'])
            self.assertEqual('sha256', image['import_ext_verified_digests'])
            self.assertEqual('current', image[STATE])
            # The admin command, through the other node too.
            code, verdicts = self.verdicts(reader, [image_id])
            self.assertEqual((0, {image_id: 'valid'}), (code, verdicts))

    def test_database_lock_only_where_every_replica_shares_it(self):
        worker = self.cloud.workers['database_lock']
        check = worker.command(STATUS, 'upgrade', 'check', '--json')
        verdicts = {c['check']: c for c in json.loads(check.stdout)['checks']}
        client = self.cloud.client('database_lock')
        image, task = self.stage_and_import(client, base.random_bytes(4096),
                                            name=self.name)
        if self.cloud.database != 'galera':
            self.assertEqual(0, verdicts['Lineage lock']['result'],
                             verdicts['Lineage lock'])
            self.assertEqual('success', task['status'], task)
            return
        # On a Galera node: refused, before and at import, never a
        # node-local lock in silence; the image can be imported again.
        self.assertEqual(2, check.returncode, check.stdout)
        self.assertEqual(2, verdicts['Lineage lock']['result'])
        for text in (verdicts['Lineage lock']['details'], task['message']):
            self.assertIn('Galera', text)
            self.assertIn('coordination_url', text)
        self.assertEqual('failure', task['status'])
        self.assertEqual('uploading', image['status'])

    def test_concurrent_imports_of_one_lineage_through_both_nodes(self):
        workers = [('one', 'two')[n % 2] for n in range(CONCURRENT_IMPORTS)]
        _, problems = self.concurrent_versions(workers)
        self.assertEqual([], problems)


class TestOneGlanceOfTwoProcesses(LineageTestCase):
    """One glance-api of two uWSGI processes (its only replica).

    A deployment's glance-api runs several processes: each runs the
    imports it answers, and their rotations, in its own threads, so that
    only a lock the processes share serializes a lineage's versions: the
    database's own (GET_LOCK, pg_try_advisory_lock) on one database
    server, the harness's tooz lock on Galera.
    """

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('processes', plugins=EVERY_PLUGIN, processes=2,
                         import_conf=every_plugin_conf())

    def test_concurrent_imports_of_one_lineage_through_both_processes(self):
        glance = self.cloud.workers['processes']
        pids = glance.worker_pids()
        self.assertEqual(2, len(pids), pids)

        tasks, problems = self.concurrent_versions(
            ['processes'] * CONCURRENT_IMPORTS)

        # Both processes took imports: Glance runs an import's task in the
        # process that answered it, and logs its flow's steps there, each
        # line with that process's pid. Other processes writing to the
        # same log file (the admin command) are no worker.
        self.assertEqual(pids, glance.worker_pids(), 'a worker restarted')
        ran_in = {}
        for image_id, (_, task) in sorted(tasks.items()):
            found = set(glance.log_pids(task['id'], 'glance.async_'))
            ran_in[image_id] = sorted(found & set(pids))
            if len(ran_in[image_id]) != 1:
                problems.append('task %s of %s logged by the workers %s' % (
                    task['id'], image_id, ran_in[image_id]))
        self.addDetail('import processes', content.text_content(
            json.dumps(ran_in, indent=1, sort_keys=True)))
        took_part = sorted({p for found in ran_in.values() for p in found})
        self.assertEqual([], problems)
        self.assertEqual(pids, took_part, ran_in)
