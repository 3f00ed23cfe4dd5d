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

"""The admin command on real glance-api replicas: crashed imports, gone
workers, hostile values, operator errors.

Replicas A and B of one region (uWSGI, two processes each, MariaDB) run
``staging_owner`` and a test-only plugin that holds an import while a file
exists (``harness/slow_plugin.py``), so an import can be kept running, and
the uWSGI process running it killed with SIGKILL mid-import. The library's
keepalive updates a running import's task every 5 s here
(``heartbeat_interval``), so a dead one is told from a live one after
``keepalive.stale_after(5)`` seconds.
"""

import json
import os
import socket
import subprocess
import threading
import time

import fixtures
import pbr.version
import testtools

from glance_import_ext.common import keepalive
from glance_import_ext.common import records
from tests.functional import base
from tests.functional.harness import client as image_client
from tests.functional.harness import glance
from tests.functional.harness import loopback_http

COMMAND = 'glance-import-ext-manage'
DEPRECATED_COMMAND = 'glance-import-ext-stuck-imports'
HEARTBEAT = 5
STALE = keepalive.stale_after(HEARTBEAT)
PLUGINS = ['staging_owner', 'slow']
SLOW = {'slow': 'tests.functional.harness.slow_plugin:get_flow'}
HOLD = 'test_hold_file'
LOCK = 'os_glance_import_task'
RECORD_KEY = 'functional-recovery-key'


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


class RecoveryTestCase(base.CloudTestCase):
    """Replicas A and B with the slow plugin and a 5 s keepalive."""

    @classmethod
    def build_cloud(cls, cloud):
        for name in ('a', 'b'):
            cloud.add_glance(
                name, plugins=PLUGINS, processes=2, test_plugins=SLOW,
                paste_filters=[glance.STAGE_HOST_CHECK],
                import_conf={'glance_import_ext': {
                    'heartbeat_interval': str(HEARTBEAT)}})

    def setUp(self):
        super().setUp()
        self.a = self.cloud.workers['a']
        self.b = self.cloud.workers['b']
        self.via_a = self.cloud.client('a')
        self.via_b = self.cloud.client('b')
        self.holds = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(self._ensure_running, self.a)

    @staticmethod
    def _ensure_running(worker):
        if not worker.running:
            worker.start()

    # -- helpers -------------------------------------------------------
    def hold(self, image_id, client):
        """Make ``image_id``'s next import wait until release(path)."""
        path = os.path.join(self.holds, image_id)
        open(path, 'w').close()
        self.addCleanup(self.release, path)
        client.update(image_id, **{HOLD: path})
        return path

    @staticmethod
    def release(path):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def wait_started(self, path, timeout=120):
        """The pid of the glance-api process running the held import."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(path + '.started') as f:
                    return int(f.read())
            except (FileNotFoundError, ValueError):
                time.sleep(0.2)
        self.fail('held import %s did not start in %ss' % (path, timeout))

    def stage(self, client, size=256 * 1024):
        data = base.random_bytes(size)
        image = client.create()
        client.stage(image['id'], data)
        return image['id'], data

    def run_ok(self, worker, *args, rc=0):
        result = worker.command(COMMAND, *args)
        self.assertEqual(rc, result.returncode,
                         'stdout:\n%s\nstderr:\n%s' % (result.stdout,
                                                       result.stderr))
        return result

    def listing(self, worker):
        result = self.run_ok(worker, 'imports', 'list', '--format', 'json')
        return {row['image']: row for row in json.loads(result.stdout)}

    def wait_for_verdict(self, worker, image_id, verdict, timeout):
        deadline = time.monotonic() + timeout
        while True:
            row = self.listing(worker).get(image_id)
            if row and row['import'] == verdict:
                return row
            if time.monotonic() > deadline:
                self.fail('import of %s not %s after %ss: %s' % (
                    image_id, verdict, timeout, row))
            time.sleep(2)

    def task(self, client, image_id, task_id):
        return {t['id']: t for t in client.tasks(image_id)}[task_id]


class TestCrashRecovery(RecoveryTestCase):

    def test_killed_imports_recovered_and_retried(self):
        # Y: glance-direct staged on A, imported through B (runs on A).
        # W: web-download on A. X: glance-direct on B, stays alive.
        dead_id, dead_data = self.stage(self.via_a, size=1024 * 1024)
        dead_hold = self.hold(dead_id, self.via_a)
        web_data = base.random_bytes(300 * 1024)
        served = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(served, 'web.img'), 'wb') as f:
            f.write(web_data)
        files = loopback_http.FileServer(self.cloud.reserve_port(), served)
        self.addCleanup(files.stop)
        uri = files.url + '/web.img'
        web_id = self.via_a.create()['id']
        web_hold = self.hold(web_id, self.via_a)
        live_id, live_data = self.stage(self.via_b)
        live_hold = self.hold(live_id, self.via_b)

        resp = self.via_b.import_(dead_id)
        self.assertEqual(self.a.url,
                         resp.headers['X-Import-Ext-Staging-Worker'])
        self.via_a.import_(web_id, 'web-download', uri=uri)
        self.via_b.import_(live_id)
        pids = {self.wait_started(dead_hold), self.wait_started(web_hold)}
        live_started = time.monotonic()
        self.wait_started(live_hold)
        self.assertTrue(pids <= set(self.a.worker_pids()), pids)
        dead_task = self.via_a.get(dead_id)[LOCK]
        web_task = self.via_a.get(web_id)[LOCK]

        for pid in pids:
            self.a.kill_worker(pid)
        killed = time.monotonic()
        for image_id in (dead_id, web_id):
            image = self.via_b.get(image_id)
            self.assertEqual('importing', image['status'])
            self.assertIn(image[LOCK], (dead_task, web_task))

        # Just killed: not stale yet, so alive; nothing touches it.
        rows = self.listing(self.b)
        self.assertEqual('alive', rows[dead_id]['import'], rows[dead_id])
        self.assertEqual('alive', rows[live_id]['import'], rows[live_id])
        early = self.run_ok(self.a, 'imports', 'recover', '--apply')
        self.assertIn('Not touched: image %s (importing): import alive'
                      % dead_id, early.stdout)
        self.assertNotIn('recovered', early.stdout)
        self.assertEqual('importing', self.via_b.get(dead_id)['status'])
        refused = self.run_ok(self.b, 'imports', 'clean', '--worker',
                              self.a.url, '--apply', rc=1)
        self.assertIn('Refusing: worker %s answers' % self.a.url,
                      refused.stdout)

        # Dead once its task went unrefreshed for STALE seconds.
        row = self.wait_for_verdict(self.b, dead_id, 'dead', STALE + 90)
        self.assertGreater(time.monotonic() - killed, 3 * HEARTBEAT)
        self.assertGreaterEqual(row['age_seconds'], STALE)
        self.assertEqual(self.a.url, row['data_worker'])
        self.assertTrue(row['data_worker_answers'])
        self.wait_for_verdict(self.b, web_id, 'dead', 30)
        # X has run longer than that: the keepalive keeps it alive.
        rows = self.listing(self.b)
        self.assertGreater(time.monotonic() - live_started, STALE)
        self.assertEqual('alive', rows[live_id]['import'], rows[live_id])
        self.assertLess(rows[live_id]['age_seconds'], STALE)
        self.assertEqual(self.b.url, rows[live_id]['data_worker'])
        table = self.run_ok(self.b, 'imports', 'list').stdout
        self.assertRegex(table, r'%s\s+importing\s+dead\s+\d+s\s+yes\s+%s'
                         % (dead_id, self.a.url))
        self.assertRegex(table, r'%s\s+importing\s+alive\s+\d+s\s+yes\s+%s'
                         % (live_id, self.b.url))
        # Stuck: Glance refuses a retry.
        self.via_b.import_(dead_id, expect=(409,))

        dry = self.run_ok(self.a, 'imports', 'recover')
        self.assertIn('would recover image %s: status importing -> '
                      'uploading' % dead_id, dry.stdout)
        self.assertIn('would recover image %s: status importing -> queued'
                      % web_id, dry.stdout)
        self.assertIn('Dry run: nothing changed', dry.stdout)
        self.assertIn('Not touched: image %s' % live_id, dry.stdout)
        for image_id, task_id in ((dead_id, dead_task), (web_id, web_task)):
            image = self.via_b.get(image_id)
            self.assertEqual(('importing', task_id),
                             (image['status'], image[LOCK]))
            self.assertEqual('processing',
                             self.task(self.via_b, image_id,
                                       task_id)['status'])
        web_staged = os.path.join(self.a.staging_dir, web_id)
        self.assertTrue(os.path.isfile(web_staged))

        applied = self.run_ok(self.a, 'imports', 'recover', '--apply')
        out = applied.stdout
        self.assertIn('recovered image %s: status importing -> uploading'
                      % dead_id, out)
        self.assertIn('os_glance_stage_host: (absent) -> %s' % self.a.url,
                      out)
        self.assertIn('os_glance_import_task: %s -> (removed)' % dead_task,
                      out)
        self.assertIn('task %s: processing -> failure' % dead_task, out)
        self.assertIn('recovered image %s: status importing -> queued'
                      % web_id, out)
        self.assertIn('staged file %s removed' % web_staged, out)
        self.assertIn('Not touched: image %s' % live_id, out)
        with open(self.a.log_file, errors='replace') as f:
            log = f.read()
        self.assertIn('recovered image %s: status importing -> uploading'
                      % dead_id, log)

        image = self.via_b.get(dead_id)
        self.assertEqual('uploading', image['status'])
        self.assertNotIn(LOCK, image)
        self.assertNotIn('os_glance_importing_to_stores', image)
        self.assertEqual([], [k for k in image if k.startswith('import_ext_')])
        self.assertTrue(
            os.path.isfile(os.path.join(self.a.staging_dir, dead_id)))
        task = self.task(self.via_b, dead_id, dead_task)
        self.assertEqual('failure', task['status'])
        self.assertLess(len(task['message']), 1000)
        self.assertIn('Import stopped: the glance-api worker running it (%s) '
                      'stopped' % self.a.url, task['message'])
        self.assertIn('is back to uploading; import it again',
                      task['message'])
        web = self.via_b.get(web_id)
        self.assertEqual('queued', web['status'])
        self.assertNotIn(LOCK, web)
        self.assertFalse(os.path.exists(web_staged))
        self.assertEqual('failure',
                         self.task(self.via_b, web_id, web_task)['status'])

        # The live import was never touched, and finishes.
        self.assertEqual('importing', self.via_b.get(live_id)['status'])
        self.release(live_hold)
        image, task = self.via_b.wait_for_import(live_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, live_data)

        # Retries: through the other replica, proxied to the staged data;
        # web-download on A, whose staged residue is gone.
        self.release(dead_hold)
        self.release(web_hold)
        resp = self.via_b.import_(dead_id)
        self.assertEqual(self.a.url,
                         resp.headers['X-Import-Ext-Staging-Worker'])
        image, task = self.via_b.wait_for_import(dead_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, dead_data)
        self.assertEqual(self.a.url, image['import_ext_imported_on'])
        self.via_a.import_(web_id, 'web-download', uri=uri)
        image, task = self.via_a.wait_for_import(web_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_a, image, web_data)

        rows = self.listing(self.b)
        for image_id in (dead_id, web_id, live_id):
            self.assertNotIn(image_id, rows)
        nothing = self.run_ok(self.a, 'imports', 'recover', '--apply')
        self.assertIn('No dead import to recover.', nothing.stdout)


class TestCleanNeverTouchesLiveImports(RecoveryTestCase):

    def test_clean_leaves_live_and_forged_alone(self):
        # X: imported on B and alive, its owner claims it was staged on A.
        live_id, live_data = self.stage(self.via_b)
        live_hold = self.hold(live_id, self.via_b)
        self.via_b.import_(live_id)
        self.wait_started(live_hold)
        self.via_b.update(live_id, import_ext_staged_on=self.a.url)
        # Z: staged on B, waiting; its owner claims A too.
        waiting_id, _ = self.stage(self.via_b)
        self.via_b.update(waiting_id, import_ext_staged_on=self.a.url)
        # G: staged on A, which is now gone.
        gone_id, gone_data = self.stage(self.via_a, size=4096)
        self.a.stop()

        dry = self.run_ok(self.b, 'imports', 'clean', '--worker', self.a.url)
        self.assertIn('would reset image %s: status uploading -> queued'
                      % gone_id, dry.stdout)
        self.assertIn('Dry run: nothing changed', dry.stdout)
        reset = self.run_ok(self.b, 'imports', 'clean', '--worker', self.a.url,
                            '--apply')
        self.assertIn('reset image %s: status uploading -> queued' % gone_id,
                      reset.stdout)
        gone = self.via_b.get(gone_id)
        self.assertEqual('queued', gone['status'])
        self.assertIsNone(gone['size'])
        self.assertUntouched(reset, live_id, waiting_id)

        # H: staged on A too, then A is gone again; delete it.
        self.a.start()
        doomed_id, _ = self.stage(self.via_a, size=4096)
        self.a.stop()
        delete = self.run_ok(self.b, 'imports', 'clean', '--worker',
                             self.a.url, '--action', 'delete', '--apply')
        self.assertIn('deleted image %s: image deleted (was uploading)'
                      % doomed_id, delete.stdout)
        self.assertNotIn(gone_id, delete.stdout)
        self.assertRaises(image_client.APIError, self.via_b.get, doomed_id)
        self.assertEqual('queued', self.via_b.get(gone_id)['status'])
        self.assertUntouched(delete, live_id, waiting_id)

        self.release(live_hold)
        image, task = self.via_b.wait_for_import(live_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, live_data)
        # G's owner stages again, on B, and imports.
        self.via_b.stage(gone_id, gone_data)
        self.via_b.import_(gone_id)
        image, task = self.via_b.wait_for_import(gone_id)
        self.assertEqual('success', task['status'], task)
        self.assertImported(self.via_b, image, gone_data)

    def assertUntouched(self, result, live_id, waiting_id):
        self.assertNotIn(live_id, result.stdout)
        self.assertNotIn(waiting_id, result.stdout)
        image = self.via_b.get(live_id)
        self.assertEqual('importing', image['status'])
        self.assertIn(LOCK, image)
        self.assertEqual('uploading', self.via_b.get(waiting_id)['status'])


class _Listener:
    """Counts TCP connections to a port of 127.0.0.1."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            conn.close()

    def stop(self):
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


class TestUserValuesAreNeverTrusted(RecoveryTestCase):

    BAD_WORKERS = ['', '/', 'not-a-url', 'http://', 'ftp://127.0.0.1/',
                   'file:///etc/passwd', 'http://user:pw@127.0.0.1:9292',
                   'http://127.0.0.1:9292/\nx', 'http://127.0.0.1:99999']

    def test_malformed_worker_is_refused(self):
        image_id, _ = self.stage(self.via_b)
        for value in self.BAD_WORKERS:
            result = self.b.command(COMMAND, 'imports', 'clean', '--worker',
                                    value, '--apply')
            self.assertEqual(2, result.returncode, (value, result))
            self.assertEqual('', result.stdout)
            [line] = _lines(result.stderr)
            self.assertTrue(line.startswith(
                '%s: error: --worker ' % COMMAND), line)
            self.assertIn('is not a worker URL', line)
        self.assertEqual('uploading', self.via_b.get(image_id)['status'])

    def test_list_never_probes_or_prints_user_values(self):
        listener = _Listener()
        self.addCleanup(listener.stop)
        lure = 'http://127.0.0.1:%d/' % listener.port
        fake = '00000000-0000-0000-0000-000000000000'
        forged_row = 'x\n%s  uploading  dead    5s  NO  http://forged' % fake
        held = {}
        for value in (lure, forged_row):
            image_id, _ = self.stage(self.via_b)
            path = self.hold(image_id, self.via_b)
            self.via_b.import_(image_id)
            self.wait_started(path)
            self.via_b.update(image_id, import_ext_staged_on=value)
            held[image_id] = path

        table = self.run_ok(self.b, 'imports', 'list')
        rows = self.listing(self.b)
        self.assertEqual(0, listener.connections)
        header, *lines = _lines(table.stdout)
        self.assertEqual(['IMAGE', 'STATUS', 'IMPORT', 'AGE', 'ANSWERS',
                          'WORKER'], header.split())
        listed = {line.split()[0] for line in lines}
        self.assertEqual(set(rows), listed)
        self.assertNotIn(fake, table.stdout)
        self.assertNotIn('forged', table.stdout)
        self.assertNotIn(str(listener.port), table.stdout)
        for image_id in held:
            self.assertEqual('alive', rows[image_id]['import'])
            self.assertEqual(self.b.url, rows[image_id]['data_worker'])
            self.assertNotIn(lure, json.dumps(rows[image_id]))
            self.assertNotIn('forged', json.dumps(rows[image_id]))

        # Once nothing listens there, clean of the lure's "worker" (a
        # worker the operator names is probed) touches none of the images
        # whose owners named it.
        listener.stop()
        result = self.b.command(COMMAND, 'imports', 'clean', '--worker',
                                lure.rstrip('/'), '--apply')
        self.assertEqual(0, result.returncode, result)
        self.assertIn('No stuck image has its data on', result.stdout)
        for image_id, path in held.items():
            self.assertEqual('importing', self.via_b.get(image_id)['status'])
            self.release(path)
            image, task = self.via_b.wait_for_import(image_id)
            self.assertEqual('success', task['status'], task)


def _run(*args, env=None, timeout=60, command=COMMAND):
    env = dict(env or os.environ)
    env.pop('OS_GLANCE_CONFIG_DIR', None)
    started = time.monotonic()
    result = subprocess.run(
        [os.path.join(glance.BIN_DIR, command)] + list(args), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=timeout)
    return result, time.monotonic() - started


class TestOperatorErrors(testtools.TestCase):
    """Clear one-line errors, fast; no services needed."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def conf(self, text):
        path = os.path.join(self.dir, 'glance-api.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def assertOneLineError(self, result, elapsed, *needles, limit=15):
        self.assertEqual(2, result.returncode, result)
        self.assertEqual('', result.stdout)
        [line] = _lines(result.stderr)
        self.assertTrue(line.startswith(COMMAND + ': error: '), line)
        self.assertIn('Hint: ', line)
        for needle in needles:
            self.assertIn(needle, line)
        self.assertLess(elapsed, limit)
        return line

    def test_missing_config_file(self):
        missing = os.path.join(self.dir, 'nowhere', 'glance-api.conf')
        result, elapsed = _run('--config-file', missing, 'imports', 'list')
        self.assertOneLineError(result, elapsed, 'not found', missing)

    def test_malformed_config_file(self):
        path = self.conf('[DEFAULT]\nthis is not ini\n[database\n')
        result, elapsed = _run('--config-file', path, 'imports', 'list')
        self.assertOneLineError(result, elapsed,
                                'cannot read the configuration', path)

    def test_no_database_connection(self):
        path = self.conf('[DEFAULT]\n')
        result, elapsed = _run('--config-file', path, 'imports', 'list')
        self.assertOneLineError(result, elapsed,
                                '[database] connection is not set')

    def test_unreachable_database_socket(self):
        path = self.conf(
            '[database]\nconnection = mysql+pymysql://glance:s3cret@'
            'localhost/glance?unix_socket=%s/missing.sock\n' % self.dir)
        result, elapsed = _run('--config-file', path, 'imports', 'list')
        line = self.assertOneLineError(
            result, elapsed, "cannot connect to Glance's database",
            '[database] connection', limit=10)
        self.assertNotIn('s3cret', line)
        self.addDetail('seconds', testtools.content.text_content(
            '%.2f' % elapsed))

    def test_unreachable_database_port(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        path = self.conf(
            '[database]\nconnection = mysql+pymysql://glance:s3cret@'
            '127.0.0.1:%d/glance\n' % port)
        result, elapsed = _run('--config-file', path, 'imports', 'recover',
                               '--apply')
        line = self.assertOneLineError(
            result, elapsed, "cannot connect to Glance's database", limit=10)
        self.assertNotIn('s3cret', line)

    def test_version_is_the_librarys(self):
        result, _ = _run('--version')
        self.assertEqual(0, result.returncode, result)
        ours = pbr.version.VersionInfo('glance-import-ext').version_string()
        theirs = pbr.version.VersionInfo('glance').version_string()
        self.assertEqual(ours, result.stdout.strip())
        self.assertNotEqual(theirs, result.stdout.strip())

    def test_help_describes_every_command(self):
        result, _ = _run('--help')
        self.assertEqual(0, result.returncode, result)
        for word in ('imports', 'versions', 'records', 'upgrade',
                     'exit codes', '--config-file', '--version'):
            self.assertIn(word, result.stdout)
        for category, actions in (('imports', ['list', 'recover', 'clean']),
                                  ('versions', ['rotate']),
                                  ('records', ['verify']),
                                  ('upgrade', ['check'])):
            result, _ = _run(category, '--help')
            self.assertEqual(0, result.returncode, result)
            for action in actions:
                self.assertIn(action, result.stdout)
        for command, options in (
                (('imports', 'list'), ['--format', '--no-probe']),
                (('imports', 'recover'), ['--image', '--apply', '--format']),
                (('imports', 'clean'), ['--worker', '--action', '--apply',
                                        '--format']),
                (('versions', 'rotate'), ['IMAGE', '--apply', '--format']),
                (('records', 'verify'), ['IMAGE', '--format']),
                (('upgrade', 'check'), ['--json'])):
            result, _ = _run(*command, '--help')
            self.assertEqual(0, result.returncode, result)
            for option in options:
                self.assertIn(option, result.stdout)

    def test_deprecated_name_runs_the_new_action(self):
        missing = os.path.join(self.dir, 'nowhere', 'glance-api.conf')
        result, elapsed = _run('--config-file', missing, 'verify-records',
                               command=DEPRECATED_COMMAND)
        self.assertEqual(2, result.returncode, result)
        self.assertEqual('', result.stdout)
        deprecation, line = _lines(result.stderr)
        self.assertEqual('%s is deprecated: use %s records verify' % (
            DEPRECATED_COMMAND, COMMAND), deprecation)
        self.assertTrue(line.startswith(COMMAND + ': error: '), line)
        self.assertIn('not found', line)

    def test_bad_arguments(self):
        result, elapsed = _run('imports', 'recover', '--image', 'not-an-id')
        self.assertOneLineError(result, elapsed, 'not an image id')
        result, elapsed = _run('frobnicate')
        self.assertOneLineError(result, elapsed, 'invalid choice')


class TestVerifyRecords(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        cloud.add_glance('keyed', plugins=['staging_owner'], import_conf={
            'glance_import_ext': {'record_key': RECORD_KEY}})
        cloud.add_glance('unkeyed', plugins=['staging_owner'])

    def test_valid_forged_unsealed(self):
        keyed = self.cloud.client('keyed')
        unkeyed = self.cloud.client('unkeyed')
        ids = {}
        for name, client in (('valid', keyed), ('forged', keyed),
                             ('unsealed', unkeyed)):
            data = base.random_bytes(4096)
            image, task = self.stage_and_import(client, data)
            self.assertEqual('success', task['status'], task)
            ids[name] = image['id']
        keyed.update(ids['forged'], import_ext_staged_on='http://elsewhere')
        plain = keyed.create()['id']
        worker = self.cloud.workers['keyed']

        result = worker.command(COMMAND, 'records', 'verify', '--format',
                                'json')
        self.assertEqual(1, result.returncode, result)
        verdicts = {r['image']: r['verdict']
                    for r in json.loads(result.stdout)['images']}
        self.assertEqual(records.VALID, verdicts[ids['valid']])
        self.assertEqual(records.FORGED, verdicts[ids['forged']])
        self.assertEqual(records.UNSEALED, verdicts[ids['unsealed']])
        self.assertNotIn(plain, verdicts)

        table = worker.command(COMMAND, 'records', 'verify')
        self.assertEqual(1, table.returncode, table)
        self.assertRegex(table.stdout, r'%s\s+active\s+forged\s' %
                         ids['forged'])
        good = worker.command(COMMAND, 'records', 'verify', ids['valid'])
        self.assertEqual(0, good.returncode, good)
        self.assertRegex(good.stdout, r'%s\s+active\s+valid\s' % ids['valid'])
        bad = worker.command(COMMAND, 'records', 'verify', ids['valid'],
                             ids['unsealed'])
        self.assertEqual(1, bad.returncode, bad)
