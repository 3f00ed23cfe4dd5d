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

"""Heartbeat: keeps the import task fresh, stops when it is not ours."""

from glance.common import exception
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.common import heartbeat
from glance_import_ext.common import options
from tests.unit import fakes


class TestHeartbeat(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = fakes.FakeClock()
        self.task_repo = fakes.FakeTaskRepo()
        self.beat = heartbeat.Heartbeat(self.task_repo, fakes.TASK_ID,
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
        beat = heartbeat.Heartbeat(self.task_repo, fakes.TASK_ID,
                                   clock=self.clock)
        self.assertEqual(42, beat.interval)
