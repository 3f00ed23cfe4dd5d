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

"""glance-import-ext-manage: the decisions, with a fake database."""

import argparse
import datetime
import io
import json
import os

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.cmd.manage import assess
from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import glance_db
from glance_import_ext.cmd.manage import imports
from glance_import_ext.cmd.manage import records as records_cmd
from glance_import_ext.cmd.manage import recovery
from glance_import_ext.cmd.manage import values
from glance_import_ext.cmd.manage import versions as versions_cmd
from glance_import_ext.common import keepalive
from glance_import_ext.common import options
from glance_import_ext.common import records
from glance_import_ext import glance_internals
from glance_import_ext.plugins.image_versions import lock
from glance_import_ext.plugins.image_versions import rotation
from tests.unit import fakes

A = 'http://glance-a.example.com:9292'
B = 'http://glance-b.example.com:9292'
EVIL = 'http://127.0.0.1:6666'
LOCK = assess.LOCK
STAGE_HOST = assess.STAGE_HOST
IMPORTING_TO = assess.IMPORTING_TO
STAGED_ON = assess.STAGED_ON
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)
INTERVAL = 5
STALE = keepalive.stale_after(INTERVAL)


def image_id(n):
    return '%08d-0000-4000-8000-000000000000' % n


def task_id(n):
    return 'aaaaaaaa-0000-4000-8000-%012d' % n


def ago(seconds):
    return NOW - datetime.timedelta(seconds=seconds)


def make_image(n, status='importing', lock=None, age=600, locations=0,
               size=1024, **props):
    if lock:
        props[LOCK] = lock
    return {'id': image_id(n), 'status': status, 'updated_at': ago(age),
            'size': size, 'properties': props, 'locations': locations}


def make_task(n, status='processing', age=1, method='glance-direct',
              worker=A, stage_host=A, facts=True, **extra):
    result = None
    if facts:
        result = {keepalive.RESULT_KEY: dict(
            {'worker': worker, 'stage_host': stage_host, 'method': method},
            **extra)}
    return {'id': task_id(n), 'status': status, 'updated_at': ago(age),
            'result': result, 'message': '',
            'input': {'image_id': image_id(n), 'import_req': {
                'method': {'name': method}}}}


class FakeDb:
    """What the commands read from and write to Glance's database."""

    def __init__(self):
        self.store = {}
        self.tasks = {}
        self.applied = []
        self.conflicts = set()

    def add(self, image, task=None):
        self.store[image['id']] = image
        if task:
            self.tasks[task['id']] = task
        return image['id']

    # GlanceDb's interface
    def images(self, status):
        return [i for i in self.store.values() if i['status'] == status]

    def image(self, image_id):
        return self.store.get(image_id)

    def locked_image_ids(self, statuses):
        return [i['id'] for i in self.store.values()
                if i['status'] in statuses and LOCK in i['properties']]

    def task(self, task_id):
        return self.tasks.get(task_id)

    def latest_import_task(self, image_id):
        found = [t for t in self.tasks.values()
                 if t['input']['image_id'] == image_id]
        return found[-1] if found else None

    def apply(self, change):
        if change.image_id in self.conflicts:
            raise errors.Changed('the image is no longer %s' %
                                 change.from_status)
        self.applied.append(change)


class Base(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(options.CONF))
        self.conf.config(group=options.GROUP, heartbeat_interval=INTERVAL)
        self.db = FakeDb()
        self.anchors = self.useFixture(fakes.FakeAnchors())
        self.out = io.StringIO()
        self.staging = self.useFixture(fixtures.TempDir()).path
        self.here = recovery.Here(A, self.staging, INTERVAL)

    def staged(self, image_id, name=None, age=3600):
        path = os.path.join(self.staging, name or image_id)
        with open(path, 'wb') as f:
            f.write(b'x')
        then = (datetime.datetime.now() -
                datetime.timedelta(seconds=age)).timestamp()
        os.utime(path, (then, then))
        return path

    def lines(self):
        return self.out.getvalue().splitlines()


class TestParseWorker(testtools.TestCase):

    def test_canonical_forms(self):
        for value, canonical in (
                ('http://Glance-A.example.com:9292/', A),
                ('HTTPS://h.example.com:443/', 'https://h.example.com'),
                ('http://h:80', 'http://h'),
                ('http://[::1]:9292/', 'http://[::1]:9292'),
                ('http://h:9292/glance/', 'http://h:9292/glance')):
            self.assertEqual(canonical, values.parse_worker(value), value)

    def test_refused(self):
        for value in ('', ' ', ' http://h', '/', 'not-a-url', 'http://',
                      'http:///x',
                      'ftp://h/', 'file:///etc/passwd', 'h:9292',
                      'http://u:p@h:9292', 'http://u@h', 'http://h/?x=1',
                      'http://h/#x', 'http://h x', 'http://h\n',
                      'http://h:99999', 'http://h:port', None, 42):
            self.assertRaises(ValueError, values.parse_worker, value)
            self.assertIsNone(values.worker_of(value))


class TestShow(testtools.TestCase):

    def test_escapes_control_characters(self):
        self.assertEqual('a\\nb\\x1b[31m\\\\', values.show('a\nb\x1b[31m\\'))
        self.assertNotIn('\n', values.show('x\r\ny\u2028z'))

    def test_bounded(self):
        self.assertEqual('x' * 10 + '...', values.show('x' * 50, limit=10))

    def test_none(self):
        self.assertEqual('-', values.show(None))

    def test_reason_hides_database_credentials(self):
        exc = Exception('cannot connect to mysql+pymysql://glance:s3cret@db/'
                        'glance\nsecond line')
        self.assertEqual('cannot connect to mysql+pymysql://***@db/glance',
                         errors.reason(exc))


class TestAssess(Base):

    def assess(self, image, task):
        return assess.assess(image, task, NOW, INTERVAL)

    def test_fresh_watched_task_is_alive(self):
        a = self.assess(make_image(1, lock=task_id(1)),
                        make_task(1, age=STALE))
        self.assertEqual(assess.ALIVE, a.verdict)
        self.assertEqual(STALE, a.age)
        self.assertIn('dead after %d s' % STALE, a.reason)

    def test_stale_watched_task_is_dead(self):
        a = self.assess(make_image(1, lock=task_id(1)),
                        make_task(1, age=STALE + 1))
        self.assertEqual(assess.DEAD, a.verdict)
        self.assertIn('not updated for %d s' % (STALE + 1), a.reason)

    def test_interval_recorded_in_the_task_wins(self):
        a = self.assess(make_image(1, lock=task_id(1)),
                        make_task(1, age=STALE + 1, interval=60))
        self.assertEqual(assess.ALIVE, a.verdict)

    def test_unwatched_task_dead_only_after_glances_expiry(self):
        image = make_image(1, lock=task_id(1))
        young = self.assess(image, make_task(1, age=3599, facts=False))
        self.assertEqual(assess.ALIVE, young.verdict)
        self.assertIn('not watched', young.reason)
        old = self.assess(image, make_task(1, age=3600, facts=False))
        self.assertEqual(assess.DEAD, old.verdict)

    def test_pending_task(self):
        image = make_image(1, lock=task_id(1))
        self.assertEqual(assess.ALIVE, self.assess(
            image, make_task(1, 'pending', age=7199)).verdict)
        self.assertEqual(assess.DEAD, self.assess(
            image, make_task(1, 'pending', age=7200)).verdict)

    def test_ended_task_still_holding_the_image(self):
        image = make_image(1, lock=task_id(1))
        for status in ('failure', 'success'):
            finishing = self.assess(image, make_task(1, status, age=2))
            self.assertEqual(assess.ALIVE, finishing.verdict)
            stuck = self.assess(image, make_task(1, status, age=STALE + 1))
            self.assertEqual(assess.DEAD, stuck.verdict)
            self.assertIn('ended (%s)' % status, stuck.reason)

    def test_lock_of_a_missing_task(self):
        young = self.assess(make_image(1, lock=task_id(9), age=2), None)
        self.assertEqual(assess.ALIVE, young.verdict)
        old = self.assess(make_image(1, lock=task_id(9), age=STALE + 1),
                          None)
        self.assertEqual(assess.DEAD, old.verdict)
        self.assertIn('does not exist', old.reason)

    def test_lock_of_a_missing_task_before_importing(self):
        # Glance locks, then creates the task; it breaks such a lock itself.
        for status in ('uploading', 'queued'):
            a = self.assess(make_image(1, status, lock=task_id(9),
                                       age=STALE + 1), None)
            self.assertEqual(assess.NONE, a.verdict)
            self.assertIn('Glance releases the lock', a.reason)

    def test_importing_without_lock_or_task(self):
        self.assertEqual(assess.DEAD, self.assess(
            make_image(1, age=STALE + 1), None).verdict)

    def test_staged_image_without_import(self):
        a = self.assess(make_image(1, 'uploading', **{STAGE_HOST: B}), None)
        self.assertEqual(assess.NONE, a.verdict)
        self.assertEqual(B, a.data_worker)
        self.assertIsNone(a.age)

    def test_data_worker_never_from_user_properties(self):
        a = self.assess(make_image(1, 'uploading', **{STAGED_ON: A}), None)
        self.assertIsNone(a.data_worker)
        a = self.assess(
            make_image(1, lock=task_id(1), **{
                STAGED_ON: EVIL, 'import_ext_imported_on': EVIL}),
            make_task(1, worker=B, stage_host=B))
        self.assertEqual(B, a.data_worker)

    def test_data_worker_of_a_download_is_where_it_ran(self):
        a = self.assess(make_image(1, lock=task_id(1)),
                        make_task(1, method='web-download', worker=B,
                                  stage_host=None))
        self.assertEqual(B, a.data_worker)

    def test_invalid_urls_in_records_are_no_worker(self):
        a = self.assess(make_image(1, 'uploading', **{STAGE_HOST: 'ftp://x'}),
                        None)
        self.assertIsNone(a.data_worker)
        a = self.assess(make_image(1, lock=task_id(1)),
                        make_task(1, worker='x\ny', stage_host='/'))
        self.assertIsNone(a.data_worker)

    def test_facts_from_a_json_string(self):
        task = make_task(1, age=STALE + 1)
        task['result'] = json.dumps(task['result'])
        a = self.assess(make_image(1, lock=task_id(1)), task)
        self.assertTrue(a.watched)
        self.assertEqual(assess.DEAD, a.verdict)
        self.assertEqual(A, a.worker)

    def test_method_from_glance_input_first(self):
        task = make_task(1, method='web-download')
        task['input']['import_req']['method']['name'] = 'glance-direct'
        self.assertEqual('glance-direct', assess.task_method(
            task, assess.task_facts(task)))


class TestPlanRecovery(Base):

    def dead(self, n=1, method='glance-direct', task_status='processing',
             image_status='importing', worker=A, stage_host=A, **props):
        image = make_image(n, image_status, lock=task_id(n), **props)
        task = make_task(n, task_status, age=STALE + 10, method=method,
                         worker=worker, stage_host=stage_host)
        a = assess.assess(image, task, NOW, INTERVAL)
        self.assertEqual(assess.DEAD, a.verdict)
        return a

    def test_alive_is_never_planned(self):
        a = assess.assess(make_image(1, lock=task_id(1)), make_task(1), NOW,
                          INTERVAL)
        change, why = recovery.plan_recovery(a, self.here)
        self.assertIsNone(change)
        self.assertIn('alive', why)

    def test_glance_direct_with_its_data_here(self):
        a = self.dead(**{IMPORTING_TO: 'local', 'import_ext_plugins': 'x',
                         'import_ext_staged_on': A, 'hw_disk_bus': 'virtio'})
        self.staged(a.image_id)
        change, _ = recovery.plan_recovery(a, self.here)
        self.assertEqual(('importing', 'uploading'),
                         (change.from_status, change.to_status))
        self.assertEqual({STAGE_HOST: A}, change.set)
        self.assertEqual([LOCK, IMPORTING_TO, 'import_ext_plugins',
                          'import_ext_staged_on'], change.remove)
        self.assertEqual({LOCK: task_id(1), IMPORTING_TO: 'local',
                          'import_ext_plugins': 'x',
                          'import_ext_staged_on': A, STAGE_HOST: None},
                         change.expect)
        self.assertFalse(change.clear_size)
        self.assertEqual([], change.remove_files)
        self.assertEqual((task_id(1), 'processing', ago(STALE + 10)),
                         change.fail_task)
        message = change.task_message
        self.assertLess(len(message), 1000)
        self.assertIn('the glance-api worker running it (%s) stopped' % A,
                      message)
        self.assertIn('is back to uploading; import it again', message)
        described = change.describe()
        self.assertIn('status importing -> uploading', described)
        self.assertIn('os_glance_stage_host: (absent) -> %s' % A, described)
        self.assertIn('%s: %s -> (removed)' % (LOCK, task_id(1)), described)
        self.assertIn('task %s: processing -> failure' % task_id(1),
                      described)

    def test_glance_direct_whose_data_should_be_here_and_is_not(self):
        a = self.dead()
        residue = self.staged(a.image_id, a.image_id + '.qcow2')
        change, _ = recovery.plan_recovery(a, self.here)
        self.assertEqual('queued', change.to_status)
        self.assertTrue(change.clear_size)
        self.assertEqual({}, change.set)
        self.assertEqual([residue], change.remove_files)
        self.assertIn('back to queued; stage or upload', change.task_message)

    def test_glance_direct_with_data_on_another_worker(self):
        a = self.dead(worker=B, stage_host=B)
        change, _ = recovery.plan_recovery(a, self.here)
        self.assertEqual('uploading', change.to_status)
        self.assertEqual({STAGE_HOST: B}, change.set)
        [note] = change.notes
        self.assertIn('cannot see', note)
        self.assertIn('goes back to queued', note)

    def test_unrecorded_worker_means_the_one_staging_dir(self):
        a = self.dead(worker=None, stage_host=None)
        self.staged(a.image_id)
        change, _ = recovery.plan_recovery(a, recovery.Here(None,
                                                            self.staging))
        self.assertEqual('uploading', change.to_status)
        self.assertEqual({}, change.set)

    def test_no_staging_dir_here(self):
        a = self.dead()
        change, _ = recovery.plan_recovery(a, recovery.Here(A, None))
        self.assertEqual('uploading', change.to_status)

    def test_download_methods_go_back_to_queued_without_residue(self):
        for n, method in enumerate(('web-download', 'glance-download'), 1):
            a = self.dead(n, method=method, stage_host=None)
            files = [self.staged(a.image_id),
                     self.staged(a.image_id, a.image_id + '.raw')]
            change, _ = recovery.plan_recovery(a, self.here)
            self.assertEqual('queued', change.to_status)
            self.assertTrue(change.clear_size)
            self.assertEqual(sorted(files), sorted(change.remove_files))

    def test_download_residue_on_another_worker(self):
        a = self.dead(method='web-download', worker=B, stage_host=None)
        self.staged(a.image_id)  # same id here: not that import's
        change, _ = recovery.plan_recovery(a, self.here)
        self.assertEqual('queued', change.to_status)
        self.assertEqual([], change.remove_files)
        self.assertIn('may remain on %s' % B, change.notes[0])

    def test_data_in_a_store_is_left_alone(self):
        image = make_image(1, lock=task_id(1), locations=1)
        a = assess.assess(image, make_task(1, age=STALE + 1), NOW, INTERVAL)
        change, why = recovery.plan_recovery(a, self.here)
        self.assertIsNone(change)
        self.assertIn('reached a store', why)

    def test_locked_before_importing(self):
        for status in ('uploading', 'queued'):
            a = self.dead(image_status=status, **{STAGE_HOST: A})
            change, _ = recovery.plan_recovery(a, self.here)
            self.assertEqual((status, status),
                             (change.from_status, change.to_status))
            self.assertEqual([LOCK], change.remove)
            self.assertEqual({}, change.set)
            self.assertIsNotNone(change.fail_task)

    def test_active_image_is_never_changed(self):
        # copy-image: no plugin runs, the records on the image are valid.
        image = make_image(1, 'active', lock=task_id(1),
                           import_ext_plugins='staging_owner')
        a = assess.assess(image, make_task(1, age=3600, facts=False), NOW,
                          INTERVAL)
        self.assertEqual(assess.DEAD, a.verdict)
        for plan in (lambda: recovery.plan_recovery(a, self.here),
                     lambda: recovery.plan_clean(a, 'delete')):
            change, why = plan()
            self.assertIsNone(change)
            self.assertIn('active image', why)

    def test_ended_task_is_not_rewritten(self):
        a = self.dead(task_status='failure')
        change, _ = recovery.plan_recovery(a, self.here)
        self.assertIsNone(change.fail_task)
        self.assertEqual([LOCK], change.remove)


class TestPlanClean(Base):

    def test_staged_image_of_a_gone_worker(self):
        image = make_image(1, 'uploading', **{STAGE_HOST: A, 'name': 'x'})
        a = assess.assess(image, None, NOW, INTERVAL)
        change, _ = recovery.plan_clean(a, 'reset')
        self.assertEqual('queued', change.to_status)
        self.assertEqual([STAGE_HOST], change.remove)
        self.assertEqual({LOCK: None, IMPORTING_TO: None, STAGE_HOST: A},
                         change.expect)
        self.assertTrue(change.clear_size)
        self.assertIsNone(change.fail_task)

    def test_delete(self):
        a = assess.assess(make_image(1, 'uploading', **{STAGE_HOST: A}), None,
                          NOW, INTERVAL)
        change, _ = recovery.plan_clean(a, 'delete')
        self.assertTrue(change.delete)
        self.assertIn('image deleted (was uploading)', change.describe())

    def test_alive_is_refused(self):
        a = assess.assess(make_image(1, lock=task_id(1)), make_task(1), NOW,
                          INTERVAL)
        change, why = recovery.plan_clean(a, 'delete')
        self.assertIsNone(change)
        self.assertIn('import alive', why)

    def test_dead_import_is_failed_and_queued(self):
        a = assess.assess(make_image(1, lock=task_id(1)),
                          make_task(1, age=STALE + 1), NOW, INTERVAL)
        change, _ = recovery.plan_clean(a, 'reset')
        self.assertEqual('queued', change.to_status)
        self.assertIsNotNone(change.fail_task)
        self.assertIn('holding its staged data (%s) is gone' % A,
                      change.task_message)


class TestPlanResidue(Base):

    def test_old_files_of_a_queued_unlocked_image(self):
        image = make_image(1, 'queued')
        old = self.staged(image['id'])
        self.staged(image['id'], image['id'] + '.raw', age=1)
        self.assertEqual([old], recovery.plan_residue(image, self.here))

    def test_nothing_for_other_images(self):
        old = make_image(1, 'queued', lock=task_id(1))
        self.staged(old['id'])
        self.assertEqual([], recovery.plan_residue(old, self.here))
        for status in ('uploading', 'importing', 'active'):
            image = make_image(2, status)
            self.staged(image['id'])
            self.assertEqual([], recovery.plan_residue(image, self.here))


def args(**kwargs):
    kwargs.setdefault('apply', False)
    kwargs.setdefault('format', 'table')
    kwargs.setdefault('no_probe', False)
    kwargs.setdefault('image', None)
    kwargs.setdefault('images', [])
    kwargs.setdefault('action', 'reset')
    return argparse.Namespace(**kwargs)


class TestList(Base):

    def setUp(self):
        super().setUp()
        self.probed = []
        self.db.add(make_image(1, 'uploading', **{STAGE_HOST: A}))
        self.db.add(make_image(2, lock=task_id(2), **{STAGED_ON: EVIL}),
                    make_task(2, worker=B, stage_host=B))
        self.db.add(make_image(3, lock=task_id(3), **{
            STAGED_ON: 'x\n%s  importing  dead' % image_id(9)}),
            make_task(3, age=STALE + 1, worker=A, stage_host=A))
        self.db.add(make_image(4, 'uploading', **{STAGED_ON: EVIL}))
        self.db.add(make_image(5, 'active', **{STAGE_HOST: A}))
        self.db.add(make_image(6, 'queued', lock=task_id(6)),
                    make_task(6, 'failure', age=STALE + 1))
        self.db.add(make_image(7, 'queued'))

    def probe(self, url):
        self.probed.append(url)
        return url == B

    def run_list(self, **kwargs):
        self.assertEqual(0, imports.list_imports(
            self.db, args(**kwargs), self.out, self.here, NOW,
            probe=self.probe))

    def test_table(self):
        self.run_list()
        header, *rows = self.lines()
        self.assertEqual(['IMAGE', 'STATUS', 'IMPORT', 'AGE', 'ANSWERS',
                          'WORKER'], header.split())
        self.assertEqual([
            [image_id(1), 'uploading', 'none', '-', 'NO', A],
            [image_id(4), 'uploading', 'none', '-', '-', '(not',
             'recorded)'],
            [image_id(2), 'importing', 'alive', '1s', 'yes', B],
            [image_id(3), 'importing', 'dead', '%ds' % (STALE + 1), 'NO', A],
            [image_id(6), 'queued', 'dead', '%ds' % (STALE + 1), 'NO', A],
        ], [row.split() for row in rows])

    def test_user_values_are_never_probed_nor_printed(self):
        self.run_list()
        self.assertEqual([A, B], self.probed)
        text = self.out.getvalue()
        self.assertNotIn(EVIL, text)
        self.assertNotIn(image_id(9), text)

    def test_json(self):
        self.run_list(format='json')
        rows = {r['image']: r for r in json.loads(self.out.getvalue())}
        self.assertEqual({image_id(n) for n in (1, 2, 3, 4, 6)}, set(rows))
        dead = rows[image_id(3)]
        self.assertEqual('dead', dead['import'])
        self.assertEqual(task_id(3), dead['task'])
        self.assertEqual('processing', dead['task_status'])
        self.assertEqual(STALE, dead['dead_after_seconds'])
        self.assertEqual(A, dead['data_worker'])
        self.assertFalse(dead['data_worker_answers'])
        self.assertTrue(dead['watched'])
        self.assertNotIn(EVIL, self.out.getvalue())

    def test_no_probe(self):
        self.run_list(no_probe=True)
        self.assertEqual([], self.probed)


class DeadAndAliveImports(Base):
    """A dead import with its staged data here, and a live import."""

    def setUp(self):
        super().setUp()
        self.dead = self.db.add(make_image(1, lock=task_id(1)),
                                make_task(1, age=STALE + 1))
        self.staged(self.dead)
        self.alive = self.db.add(make_image(2, lock=task_id(2)),
                                 make_task(2, age=1))


class TestRecover(DeadAndAliveImports):

    def setUp(self):
        super().setUp()
        self.waiting = self.db.add(make_image(3, 'uploading',
                                              **{STAGE_HOST: A}))

    def recover(self, **kwargs):
        return imports.recover_imports(self.db, args(**kwargs), self.out,
                                       self.here, NOW)

    def test_dry_run_changes_nothing(self):
        self.assertEqual(0, self.recover())
        self.assertEqual([], self.db.applied)
        text = self.out.getvalue()
        self.assertIn('would recover image %s: status importing -> '
                      'uploading' % self.dead, text)
        self.assertIn('Not touched: image %s (importing): import alive'
                      % self.alive, text)
        self.assertNotIn(self.waiting, text)
        self.assertIn('Dry run: nothing changed. Add --apply to recover 1 '
                      'image(s).', text)

    def test_apply_recovers_the_dead_only(self):
        self.assertEqual(0, self.recover(apply=True))
        self.assertEqual([self.dead], [c.image_id for c in self.db.applied])
        self.assertIn('recovered image %s: status importing -> uploading'
                      % self.dead, self.out.getvalue())

    def test_apply_logs_the_change(self):
        logged = self.useFixture(fixtures.FakeLogger(
            name='glance_import_ext.cmd.manage'))
        self.recover(apply=True)
        self.assertIn('recovered image %s: status importing -> uploading'
                      % self.dead, logged.output)
        self.assertIn('%s: %s -> (removed)' % (LOCK, task_id(1)),
                      logged.output)

    def test_changed_meanwhile_is_refused(self):
        self.db.conflicts.add(self.dead)
        self.assertEqual(1, self.recover(apply=True))
        self.assertIn('Not touched: image %s: the image is no longer '
                      'importing' % self.dead, self.out.getvalue())

    def test_named_alive_image_is_refused(self):
        self.assertEqual(1, self.recover(apply=True, image=[self.alive]))
        self.assertEqual([], self.db.applied)

    def test_named_dead_image(self):
        self.assertEqual(0, self.recover(apply=True, image=[self.dead]))
        self.assertEqual([self.dead], [c.image_id for c in self.db.applied])

    def test_named_missing_image_is_an_error(self):
        self.assertEqual(2, self.recover(image=[image_id(99)]))
        self.assertIn('Not found: image %s' % image_id(99),
                      self.out.getvalue())

    def test_nothing_dead(self):
        del self.db.store[self.dead]
        self.assertEqual(0, self.recover(apply=True))
        self.assertIn('No dead import to recover.', self.out.getvalue())

    def test_residue_of_queued_images_here(self):
        queued = self.db.add(make_image(4, 'queued'))
        old = self.staged(queued)
        self.recover()
        self.assertIn('would remove staged residue of queued image %s: %s'
                      % (queued, old), self.out.getvalue())
        self.assertTrue(os.path.exists(old))
        self.recover(apply=True)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(os.path.join(self.staging,
                                                    self.dead)))


class TestClean(Base):

    def setUp(self):
        super().setUp()
        self.down_calls = []
        self.down_state = 'refused'
        self.gone = self.db.add(make_image(1, 'uploading', **{STAGE_HOST: A}))
        self.dead = self.db.add(make_image(2, lock=task_id(2)),
                                make_task(2, age=STALE + 1))
        # Alive on B, its owner says A.
        self.alive = self.db.add(
            make_image(3, lock=task_id(3), **{STAGED_ON: A}),
            make_task(3, worker=B, stage_host=B))
        # Waiting on B, owner says A.
        self.forged = self.db.add(make_image(4, 'uploading', **{
            STAGE_HOST: B, STAGED_ON: A}))
        # No worker recorded at all.
        self.unknown = self.db.add(make_image(5, 'uploading'))

    def down(self, url):
        self.down_calls.append(url)
        return self.down_state

    def clean(self, worker=A, **kwargs):
        return imports.clean_worker(self.db, args(worker=worker, **kwargs),
                                    self.out, self.here, NOW, down=self.down)

    def test_refuses_while_the_worker_answers(self):
        self.down_state = None
        for action in ('reset', 'delete'):
            self.assertEqual(1, self.clean(apply=True, action=action))
        self.assertEqual([], self.db.applied)
        self.assertIn('Refusing: worker %s answers' % A, self.out.getvalue())

    def test_only_images_whose_glance_records_name_the_worker(self):
        for action in ('reset', 'delete'):
            self.db.applied = []
            self.assertEqual(0, self.clean(apply=True, action=action))
            self.assertEqual([self.gone, self.dead],
                             [c.image_id for c in self.db.applied])
            self.assertTrue(all(c.delete == (action == 'delete')
                                for c in self.db.applied))
        text = self.out.getvalue()
        for untouched in (self.alive, self.forged, self.unknown):
            self.assertNotIn(untouched, text)

    def test_live_import_of_the_worker_is_refused(self):
        self.db.add(make_image(6, lock=task_id(6)),
                    make_task(6, age=2, worker=A, stage_host=A))
        self.assertEqual(1, self.clean(apply=True))
        self.assertNotIn(image_id(6), [c.image_id for c in self.db.applied])
        self.assertIn('Not touched: image %s (importing): import alive'
                      % image_id(6), self.out.getvalue())

    def test_dry_run(self):
        self.assertEqual(0, self.clean())
        self.assertEqual([], self.db.applied)
        self.assertIn('would reset image %s: status uploading -> queued'
                      % self.gone, self.out.getvalue())
        self.assertIn('Dry run: nothing changed. Add --apply to reset 2 '
                      'image(s).', self.out.getvalue())

    def test_no_image_of_that_worker(self):
        other = 'http://glance-c.example.com:9292'
        self.assertEqual(0, self.clean(worker=other, apply=True))
        self.assertEqual([
            'Worker %s does not accept connections (refused).' % other,
            'No stuck image has its data on %s.' % other], self.lines())


class TestVerifyRecords(Base):

    def setUp(self):
        super().setUp()
        self.conf.config(group=options.GROUP, record_key='k')
        props = {'import_ext_staged_on': A, 'import_ext_plugins': 'x'}
        valid = dict(props)
        valid[records.SEAL] = records.seal(image_id(1), props)
        forged = dict(valid, import_ext_staged_on=B)
        self.db.add(make_image(1, 'active', **valid))
        self.db.add(make_image(2, 'active', **forged))
        self.db.add(make_image(3, 'active', **props))
        self.db.add(make_image(4, 'active', name='plain'))
        self.db.add(make_image(5, 'queued', **props))

    def verify(self, *images, fmt='table'):
        return records_cmd.verify_records(
            self.db, args(images=list(images), format=fmt), self.out,
            self.here, NOW)

    def test_all_active_images_with_records(self):
        self.assertEqual(1, self.verify(fmt='json'))
        found = {r['image']: r['verdict']
                 for r in json.loads(self.out.getvalue())['images']}
        self.assertEqual({image_id(1): records.VALID,
                          image_id(2): records.FORGED,
                          image_id(3): records.UNSEALED}, found)

    def test_named_valid_image(self):
        self.assertEqual(0, self.verify(image_id(1)))
        [header, row] = self.lines()
        self.assertEqual([image_id(1), 'active', 'valid'], row.split()[:3])

    def test_named_missing_image(self):
        self.assertRaises(errors.CommandError, self.verify, image_id(99))

    def test_no_key_here(self):
        self.conf.config(group=options.GROUP, record_key=None)
        self.assertRaises(errors.CommandError, self.verify, image_id(1))

    def test_an_image_whose_records_were_all_removed_is_found(self):
        # Image 4 once had records the plugins anchored; its owner
        # removed them all, seal included.
        self.anchors.rows[image_id(4)] = {
            'sealed': records.fingerprint(image_id(4), {
                'import_ext_plugins': 'x'}), 'writing': None,
            'caller': None}
        self.assertEqual(1, self.verify(fmt='json'))
        found = {r['image']: r['verdict']
                 for r in json.loads(self.out.getvalue())['images']}
        self.assertEqual(records.REMOVED, found[image_id(4)])


class TestGlanceDb(Base):
    """The command's adapter over the seam's verbs."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'admin_context', return_value='admin'))
        self.recover = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'recover_image')).mock
        self.glance_db = glance_db.GlanceDb()

    def change(self):
        a = assess.assess(
            make_image(1, lock=task_id(1), **{IMPORTING_TO: 'x'}),
            make_task(1, age=STALE + 1), NOW, INTERVAL)
        change = recovery.base_change(a, 'uploading')
        change.put(STAGE_HOST, A)
        change.task_message = 'why'
        return change

    def test_a_change_is_one_conditional_recovery(self):
        change = self.change()
        self.glance_db.apply(change)
        self.recover.assert_called_once_with(
            image_id(1), 'importing', to_status='uploading', delete=False,
            clear_size=False, expect={LOCK: task_id(1), IMPORTING_TO: 'x',
                                      STAGE_HOST: None},
            remove=[LOCK, IMPORTING_TO], set_to={STAGE_HOST: A},
            fail_task=(task_id(1), 'processing', ago(STALE + 1)),
            task_message='why', drop_locations=[])

    def test_conflicts_in_the_commands_words(self):
        conflict = glance_internals.RecoveryConflict
        for exc, text in (
                (conflict('status', expected='importing'),
                 'the image is no longer importing'),
                (conflict('property', LOCK, task_id(1), 'x\ny'),
                 '%s changed from %s to x\\ny' % (LOCK, task_id(1))),
                (conflict('property', LOCK, task_id(1), None),
                 '%s changed from %s to -' % (LOCK, task_id(1))),
                (conflict('task', task_id(1), 'processing'),
                 'task %s was updated meanwhile: its import may be alive'
                 % task_id(1))):
            self.recover.side_effect = exc
            changed = self.assertRaises(errors.Changed, self.glance_db.apply,
                                        self.change())
            self.assertEqual(text, str(changed))

    def test_reads_as_admin(self):
        for name, call, args in (
                ('images_with_status', 'images', ('active',)),
                ('image_or_none', 'image', (image_id(1),)),
                ('task_or_none', 'task', (task_id(1),)),
                ('latest_import_task', 'latest_import_task',
                 (image_id(1),))):
            verb = self.useFixture(fixtures.MockPatchObject(
                glance_internals, name)).mock
            self.assertIs(verb.return_value,
                          getattr(self.glance_db, call)(*args))
            verb.assert_called_once_with('admin', *args)
        locked = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'locked_image_ids')).mock
        self.assertIs(locked.return_value,
                      self.glance_db.locked_image_ids(['queued']))
        locked.assert_called_once_with(['queued'])


class TestJsonOfChanges(DeadAndAliveImports):
    """-f json of the actions that change images: one document."""

    def document(self):
        return json.loads(self.out.getvalue())

    def test_recover_dry_run(self):
        self.assertEqual(0, imports.recover_imports(
            self.db, args(format='json'), self.out, self.here, NOW))
        doc = self.document()
        self.assertFalse(doc['apply'])
        [change] = doc['changes']
        self.assertEqual(('would recover', self.dead, 'importing',
                          'uploading', {STAGE_HOST: A}, task_id(1)),
                         (change['action'], change['image'],
                          change['from_status'], change['to_status'],
                          change['set'], change['fail_task']))
        self.assertIn(LOCK, change['remove'])
        self.assertIn('status importing -> uploading',
                      change['description'])
        [untouched] = doc['not_touched']
        self.assertEqual((self.alive, 'importing'),
                         (untouched['image'], untouched['status']))
        self.assertIn('import alive', untouched['reason'])
        self.assertEqual(['Dry run: nothing changed. Add --apply to recover '
                          '1 image(s).'], doc['messages'])
        self.assertEqual([], self.db.applied)

    def test_recover_applied(self):
        self.assertEqual(0, imports.recover_imports(
            self.db, args(format='json', apply=True), self.out, self.here,
            NOW))
        doc = self.document()
        self.assertTrue(doc['apply'])
        self.assertEqual([('recovered', self.dead)],
                         [(c['action'], c['image']) for c in doc['changes']])

    def test_clean(self):
        self.db.add(make_image(3, 'uploading', **{STAGE_HOST: A}))
        self.assertEqual(1, imports.clean_worker(
            self.db, args(worker=A, format='json', action='delete',
                          apply=True),
            self.out, self.here, NOW, down=lambda url: 'refused'))
        doc = self.document()
        # Uploading images are collected before importing ones.
        self.assertEqual([('deleted', image_id(3), 'deleted'),
                          ('deleted', image_id(1), 'deleted')],
                         [(c['action'], c['image'], c['to_status'])
                          for c in doc['changes']])
        self.assertEqual([self.alive],
                         [u['image'] for u in doc['not_touched']])
        self.assertEqual('Worker %s does not accept connections (refused).'
                         % A, doc['messages'][0])

    def test_clean_refused_is_a_document_too(self):
        self.assertEqual(1, imports.clean_worker(
            self.db, args(worker=A, format='json'), self.out, self.here, NOW,
            down=lambda url: None))
        doc = self.document()
        self.assertEqual([], doc['changes'])
        self.assertIn('Refusing: worker %s answers' % A, doc['messages'][0])


class FakeVersion:

    def __init__(self, n):
        self.image_id = image_id(n)

    def describe(self):
        return 'os_hidden: False -> True'


class FakeRotation:

    def __init__(self, n, changed, refused=()):
        self.image = FakeVersion(n)
        self.lineage = FakeLineage()
        self.changes = [FakeVersion(c) for c in changed]
        self.done = self.changes
        self.refused = [(FakeVersion(r), 'forbidden') for r in refused]


class FakeLineage:

    def describe(self):
        return 'name=cirros'


class TestRotateVersions(Base):

    def setUp(self):
        super().setUp()
        self.db.context = 'admin'
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'image_repo', return_value='repo'))
        self.stranded = self.useFixture(fixtures.MockPatchObject(
            rotation, 'stranded', return_value=[FakeVersion(3)])).mock
        self.caller = self.useFixture(fixtures.MockPatchObject(
            rotation, 'import_caller', return_value='caller')).mock
        self.rotate = self.useFixture(fixtures.MockPatchObject(
            rotation, 'rotate',
            return_value=[FakeRotation(3, [2], refused=[1])])).mock

    def run_rotate(self, **kwargs):
        return versions_cmd.rotate_versions(self.db, args(**kwargs),
                                            self.out, self.here, NOW)

    def test_dry_run_as_the_caller_of_the_import(self):
        self.assertEqual(1, self.run_rotate())
        self.rotate.assert_called_once_with(
            'caller', image_id(3), 0, 30, NOW, apply=False)
        self.assertEqual([
            'would complete the rotation of image %s (lineage name=cirros)'
            % image_id(3),
            '  not changing image %s: the caller of the import may not '
            '(forbidden)' % image_id(1),
            '  would change image %s: os_hidden: False -> True'
            % image_id(2),
            'Dry run: nothing changed. Add --apply to complete 1 '
            'rotation(s).'], self.lines())

    def test_json(self):
        self.rotate.return_value = [FakeRotation(3, [2])]
        self.assertEqual(0, self.run_rotate(format='json', apply=True))
        doc = json.loads(self.out.getvalue())
        self.assertTrue(doc['apply'])
        self.assertEqual([{
            'image': image_id(3), 'lineage': 'name=cirros',
            'action': 'completed', 'not_changed': [],
            'changes': [{'image': image_id(2),
                         'description': 'os_hidden: False -> True'}]}],
            doc['rotations'])
        self.assertEqual([], doc['messages'])

    def test_caller_not_recorded(self):
        self.caller.return_value = None
        self.assertEqual(1, self.run_rotate(format='json'))
        doc = json.loads(self.out.getvalue())
        [untouched] = doc['not_touched']
        self.assertEqual(image_id(3), untouched['image'])
        self.assertIn('is not recorded', untouched['reason'])
        self.rotate.assert_not_called()

    def test_no_lineage_lock_is_a_configuration_error(self):
        self.rotate.side_effect = lock.LockUnavailable(
            'Glance\'s database is a MariaDB Galera node')
        exc = self.assertRaises(errors.CommandError, self.run_rotate,
                                apply=True)
        self.assertIn('no lineage lock to rotate under: Glance\'s database '
                      'is a MariaDB Galera node', str(exc))

    def test_nothing_to_rotate(self):
        self.stranded.return_value = []
        self.assertEqual(0, self.run_rotate())
        self.assertEqual(['No image version waits for its rotation.'],
                         self.lines())
