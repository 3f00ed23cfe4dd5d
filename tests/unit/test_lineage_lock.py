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

"""The lineage lock: tooz when configured, else the database's own."""

import contextlib
import subprocess
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.common import errors
from glance_import_ext import glance_internals
from glance_import_ext.plugins import image_versions
from glance_import_ext.plugins.image_versions import lock

HOLD = '''
import sys, time
from tooz import coordination
c = coordination.get_coordinator(sys.argv[1], b'holder')
c.start()
held = c.get_lock(sys.argv[2].encode())
held.acquire()
print('held', flush=True)
sys.stdin.readline()
held.release()
c.stop()
'''


class LockTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.kind = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'database_lock_kind',
            return_value='mysql')).mock
        self.named = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'named_lock',
            side_effect=lambda name, timeout: contextlib.nullcontext())).mock


class TestProblem(LockTestCase):

    def test_databases_with_a_shared_lock(self):
        for kind in ('mysql', 'postgresql'):
            self.kind.return_value = kind
            self.assertIsNone(lock.problem())

    def test_galera_and_sqlite_are_refused_with_what_to_set(self):
        for kind, says in (('galera', 'holds on that node only'),
                           ('sqlite', '(sqlite) has no lock')):
            self.kind.return_value = kind
            why = lock.problem()
            self.assertIn(says, why)
            self.assertIn('set [image_versions] coordination_url', why)

    def test_coordination_url_needs_no_database_lock(self):
        self.kind.return_value = 'galera'
        self.conf.config(group='image_versions', coordination_url='file:///x')
        self.assertIsNone(lock.problem())
        self.kind.assert_not_called()

    def test_coordination_url_without_tooz(self):
        self.conf.config(group='image_versions',
                         coordination_url='file:///never-started')
        without_tooz = mock.patch.dict(
            sys.modules, {'tooz': None, 'tooz.coordination': None})
        without_tooz.start()
        self.addCleanup(without_tooz.stop)
        self.assertIn('tooz is not installed', lock.problem())
        self.assertRaisesRegex(lock.LockUnavailable, 'tooz is not installed',
                               self.enter_lock)

    def enter_lock(self):
        with lock.lineage_lock('x', 1):
            pass

    def test_a_database_that_cannot_say(self):
        self.kind.side_effect = RuntimeError('gone')
        self.assertIn('could not say which lock it gives (RuntimeError: '
                      'gone)', lock.problem())

    def test_the_plugin_refuses_imports_on_galera(self):
        self.kind.return_value = 'galera'
        exc = self.assertRaises(errors.ConfigError,
                                image_versions.check_lineage_lock,
                                cfg.CONF.image_versions)
        self.assertIn('image_versions refuses to run: Glance\'s database is '
                      'a MariaDB Galera node', str(exc))


class TestLineageLock(LockTestCase):

    def test_database_lock_without_coordination_url(self):
        with lock.lineage_lock('lineage-a', 7):
            pass
        self.named.assert_called_once_with('lineage-a', 7)

    def test_no_weaker_lock_in_silence(self):
        self.kind.return_value = 'galera'
        exc = self.assertRaises(lock.LockUnavailable, self.enter,
                                'lineage-a')
        self.assertIn('that node only', str(exc))
        self.named.assert_not_called()

    def enter(self, name, timeout=1):
        with lock.lineage_lock(name, timeout):
            return True

    def test_tooz_lock_held_by_another_process(self):
        url = 'file://' + self.useFixture(fixtures.TempDir()).path
        self.conf.config(group='image_versions', coordination_url=url)
        holder = subprocess.Popen(
            [sys.executable, '-c', HOLD, url, 'lineage-b'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.stdin.close)
        self.assertEqual('held\n', holder.stdout.readline())
        exc = self.assertRaises(glance_internals.LockTimeout, self.enter,
                                'lineage-b', 0.3)
        self.assertIn('lineage-b not obtained within 0.3s', str(exc))
        # Another lineage's lock is free; this one once the holder ends.
        self.assertTrue(self.enter('lineage-c'))
        holder.stdin.write('\n')
        holder.stdin.flush()
        self.assertTrue(self.enter('lineage-b', 10))
        self.named.assert_not_called()

    def test_backend_failure_never_shows_the_password(self):
        self.conf.config(group='image_versions',
                         coordination_url='file://u:s3cret@host/x')
        self.useFixture(fixtures.MockPatchObject(
            lock, 'coordinator',
            side_effect=RuntimeError('cannot reach file://u:s3cret@host/x')))
        exc = self.assertRaises(lock.LockUnavailable, self.enter, 'x')
        self.assertIn('RuntimeError: cannot reach file://u:***@host/x',
                      str(exc))
        self.assertNotIn('s3cret', lock.probe('nosuchdriver://u:s3cret@h'))

    def test_backend_failure_is_unavailable_not_a_traceback(self):
        self.conf.config(group='image_versions',
                         coordination_url='nosuchdriver://h')
        exc = self.assertRaises(lock.LockUnavailable, self.enter, 'x')
        self.assertIn('the coordination backend failed', str(exc))


class TestDatabaseLockKindAt(testtools.TestCase):

    def test_the_dialect_says_it_without_a_connection(self):
        self.assertEqual('sqlite',
                         glance_internals.database_lock_kind_at('sqlite://'))
        self.assertEqual('postgresql', glance_internals.database_lock_kind_at(
            'postgresql+psycopg2://u:p@db.invalid/glance'))

    def test_named_lock_refuses_a_database_without_one(self):
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'database_lock_kind', return_value='sqlite'))

        def enter():
            with glance_internals.named_lock('x', 1):
                pass
        exc = self.assertRaises(glance_internals.LockUnavailable, enter)
        self.assertEqual('sqlite', exc.kind)
