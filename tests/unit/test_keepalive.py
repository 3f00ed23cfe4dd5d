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

"""Liveness: the heartbeat of long work, waits for a task's end."""

from unittest import mock

import fixtures
from glance.common import exception
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.common import keepalive
from glance_import_ext.common import options
from glance_import_ext import glance_internals
from tests.unit import fakes


class TestHeartbeat(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = fakes.FakeClock()
        self.task_repo = fakes.FakeTaskRepo()
        self.beat = keepalive.Heartbeat(self.task_repo, fakes.TASK_ID,
                                        interval=10, clock=self.clock)

    def test_no_beat_before_interval(self):
        self.clock.advance(9.9)
        self.assertFalse(self.beat.beat('early'))
        self.assertEqual([], self.task_repo.saved_messages)

    def test_beats_once_interval_has_passed(self):
        self.clock.advance(10)
        self.assertTrue(self.beat.beat('hashed 1 MiB'))
        self.assertEqual(['hashed 1 MiB'], self.task_repo.saved_messages)
        self.assertEqual('hashed 1 MiB', self.task_repo.task.message)

    def test_at_most_once_per_interval(self):
        for _ in range(30):
            self.clock.advance(1)
            self.beat.beat('at %d' % self.clock.now)
        self.assertEqual(['at 1010', 'at 1020', 'at 1030'],
                         self.task_repo.saved_messages)

    def test_aborts_when_task_is_no_longer_processing(self):
        self.task_repo.task.status = 'failure'
        self.clock.advance(10)
        self.assertRaises(exception.TaskAbortedError, self.beat.beat, 'x')
        self.assertEqual([], self.task_repo.saved_messages)

    def test_no_check_between_beats(self):
        self.task_repo.task.status = 'failure'
        self.clock.advance(5)
        self.assertFalse(self.beat.beat('x'))

    def test_touch_saves_now(self):
        self.beat.touch('started')
        self.assertEqual(['started'], self.task_repo.saved_messages)

    def test_interval_defaults_to_option(self):
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(group=options.GROUP, heartbeat_interval=42)
        beat = keepalive.Heartbeat(self.task_repo, fakes.TASK_ID,
                                   clock=self.clock)
        self.assertEqual(42, beat.interval)


class TestWhenDone(testtools.TestCase):

    class Thread:
        """Runs only the after-import callbacks, at once."""

        def __init__(self, target=None, args=(), **kwargs):
            self.target, self.args = target, args

        def start(self):
            if getattr(self.target, '__name__', None) == '_run_after':
                self.target(*self.args)

        def is_alive(self):
            return False

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.keepalive.threading.Thread',
            new=self.Thread))
        self.clock = fakes.FakeClock()
        self.useFixture(fixtures.MockPatchObject(
            keepalive, 'time', mock.Mock(monotonic=self.clock)))
        self.status = 'processing'
        self.db = mock.Mock()
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'db_api', return_value=self.db))
        self.statuses = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'task_statuses',
            side_effect=self.task_statuses)).mock
        self.touched = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'touch_tasks')).mock
        self.keepalive = keepalive.TaskKeepalive(interval=5)

    def task_statuses(self, task_ids):
        if self.status is None:
            return {}  # gone
        return {task_id: self.status for task_id in task_ids}

    def test_when_done_needs_a_watched_task(self):
        self.assertRaises(KeyError, self.keepalive.when_done, 't1', print)

    def test_callbacks_get_the_final_status_once(self):
        self.keepalive.watch('ctx', 't1')
        calls = []
        self.keepalive.when_done('t1', calls.append, poll=0.5)
        self.keepalive.when_done('t1', lambda s: calls.append(('2', s)))
        self.assertEqual(0.5, self.keepalive._period())
        self.assertTrue(self.keepalive.tick())
        self.assertEqual([], calls)
        self.status = 'failure'
        self.assertFalse(self.keepalive.tick())
        self.assertFalse(self.keepalive.tick())
        self.assertEqual(['failure', ('2', 'failure')], calls)
        self.assertEqual(5, self.keepalive._period())

    def test_gone_task_calls_back_with_none_and_errors_are_logged(self):
        self.keepalive.watch('ctx', 't1')
        calls = []
        self.keepalive.when_done('t1', mock.Mock(side_effect=RuntimeError))
        self.keepalive.when_done('t1', calls.append)
        self.status = None
        self.assertFalse(self.keepalive.tick())
        self.assertEqual([None], calls)

    def test_updated_at_touched_once_per_interval(self):
        self.keepalive.watch('ctx', 't1')
        self.keepalive.when_done('t1', print, poll=1)
        for _ in range(11):  # polls every second for 10 seconds
            self.assertTrue(self.keepalive.tick())
            self.clock.advance(1)
        self.assertEqual(11, self.statuses.call_count)
        self.assertEqual([mock.call(['t1'])] * 3,
                         self.touched.call_args_list)

    def test_one_read_and_one_write_for_every_task(self):
        for task_id in ('t1', 't2', 't3'):
            self.keepalive.watch('ctx', task_id)
        self.assertTrue(self.keepalive.tick())
        self.statuses.assert_called_once_with(['t1', 't2', 't3'])
        self.touched.assert_called_once_with(['t1', 't2', 't3'])

    def test_work_after_imports_runs_in_a_bounded_number_of_threads(self):
        started = []
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.keepalive.threading.Thread',
            side_effect=lambda **kw: started.append(kw) or mock.Mock()))
        calls = []
        for n in range(5):
            self.keepalive.watch('ctx', 't%d' % n)
            self.keepalive.when_done('t%d' % n, calls.append)
        self.status = 'success'
        self.assertFalse(self.keepalive.tick())
        started = [kw for kw in started
                   if kw.get('name') == 'import-ext-after-import']
        self.assertEqual(keepalive.AFTER_IMPORT_THREADS, len(started))
        # Each thread runs what is queued until nothing is left.
        started[0]['target']()
        self.assertEqual(['success'] * 5, calls)
        started[1]['target']()
        self.assertEqual(0, self.keepalive._after_threads)

    def test_a_database_hiccup_keeps_every_task(self):
        self.keepalive.watch('ctx', 't1')
        calls = []
        self.keepalive.when_done('t1', calls.append)
        self.statuses.side_effect = RuntimeError('db')
        self.assertTrue(self.keepalive.tick())
        self.touched.assert_not_called()
        self.statuses.side_effect = self.task_statuses
        self.touched.side_effect = RuntimeError('db')
        self.status = 'failure'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual(['failure'], calls)

    def test_a_waiter_past_its_timeout_is_dropped(self):
        self.keepalive.watch('ctx', 't1')
        calls = []
        self.keepalive.when_done('t1', calls.append, poll=0.5, timeout=10)
        self.clock.advance(10)
        self.assertTrue(self.keepalive.tick())
        self.assertEqual(5, self.keepalive._period())
        self.status = 'failure'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual([], calls)

    def test_wait_for_end_of_a_watched_task(self):
        self.keepalive.watch('ctx', 't1')
        calls = []
        self.keepalive.wait_for_end('ctx', 't1', calls.append, timeout=10,
                                    poll=0.5)
        self.assertEqual(0.5, self.keepalive._period())
        self.status = 'failure'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual(['failure'], calls)

    def test_wait_for_end_of_an_unwatched_task_only_looks_at_it(self):
        calls = []
        self.keepalive.wait_for_end('ctx', 't1', calls.append, timeout=10,
                                    poll=0.5)
        self.assertEqual(['t1'], self.keepalive.watching())
        for _ in range(20):
            self.assertTrue(self.keepalive.tick())
            self.clock.advance(0.4)
        self.touched.assert_not_called()
        self.status = 'failure'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual(['failure'], calls)

    def test_wait_for_end_of_an_unwatched_task_is_bounded(self):
        calls = []
        self.keepalive.wait_for_end('ctx', 't1', calls.append, timeout=10)
        self.clock.advance(10)
        self.assertFalse(self.keepalive.tick())
        self.assertEqual([], self.keepalive.watching())
        self.statuses.assert_not_called()
        self.status = 'failure'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual([], calls)

    def test_watching_a_task_waited_on_keeps_it_fresh(self):
        calls = []
        self.keepalive.wait_for_end('ctx', 't1', calls.append, timeout=10)
        self.keepalive.watch('ctx', 't1', facts={'worker': 'w'})
        self.clock.advance(10)
        self.assertTrue(self.keepalive.tick())
        self.assertEqual([mock.call('ctx', 't1', {'result': {
            keepalive.RESULT_KEY: {'worker': 'w'}}})],
            self.db.task_update.call_args_list)
        self.touched.assert_called_once_with(['t1'])
        self.status = 'success'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual([], calls)
