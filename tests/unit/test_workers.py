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

"""workers: which worker this is, and whether another one answers."""

import socket
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import requests
from requests_mock.contrib import fixture as requests_fixture
import testtools
from urllib3 import exceptions as urllib3_exceptions

from glance_import_ext.common import workers

WORKER = 'http://glance-a.example.com:9292'
HEALTHCHECK = WORKER + '/healthcheck'


class TestAnswers(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.requests = self.useFixture(requests_fixture.Fixture())

    def test_ok_status_answers(self):
        self.requests.get(HEALTHCHECK, status_code=200, text='OK')
        self.assertTrue(workers.answers(WORKER))

    def test_error_status_still_answers(self):
        for status in (503, 500, 404, 401):
            self.requests.get(HEALTHCHECK, status_code=status)
            self.assertTrue(workers.answers(WORKER), status)

    def test_connection_error_does_not_answer(self):
        self.requests.get(HEALTHCHECK,
                          exc=requests.exceptions.ConnectionError)
        self.assertFalse(workers.answers(WORKER))

    def test_connect_timeout_does_not_answer(self):
        self.requests.get(HEALTHCHECK,
                          exc=requests.exceptions.ConnectTimeout)
        self.assertFalse(workers.answers(WORKER))

    def test_read_timeout_does_not_answer(self):
        self.requests.get(HEALTHCHECK, exc=requests.exceptions.ReadTimeout)
        self.assertFalse(workers.answers(WORKER))

    def test_asks_the_healthcheck_once_without_token(self):
        self.requests.get(HEALTHCHECK, status_code=200)
        workers.answers(WORKER)
        self.assertEqual(1, self.requests.call_count)
        request = self.requests.last_request
        self.assertEqual('GET', request.method)
        self.assertEqual(HEALTHCHECK, request.url)
        self.assertNotIn('X-Auth-Token', request.headers)

    def test_trailing_slash_is_not_doubled(self):
        self.requests.get(HEALTHCHECK, status_code=200)
        self.assertTrue(workers.answers(WORKER + '/'))
        self.assertEqual(HEALTHCHECK, self.requests.last_request.url)

    def test_path_of_the_worker_url_is_kept(self):
        url = 'https://lb.example.com/image'
        self.requests.get(url + '/healthcheck', status_code=200)
        self.assertTrue(workers.answers(url + '/'))
        self.assertEqual(url + '/healthcheck',
                         self.requests.last_request.url)

    def test_timeout_is_passed_on(self):
        self.requests.get(HEALTHCHECK, status_code=200)
        workers.answers(WORKER, timeout=1.5)
        self.assertEqual(1.5, self.requests.last_request.timeout)

    def test_error_status_is_not_retried(self):
        self.requests.get(HEALTHCHECK, status_code=503)
        workers.answers(WORKER)
        self.assertEqual(1, self.requests.call_count)


def new_connection_error(cause):
    """requests' ConnectionError as its HTTPAdapter raises it (retries 0)."""
    try:
        try:
            raise cause
        except OSError as exc:
            raise urllib3_exceptions.NewConnectionError(
                None, 'Failed to establish a new connection: %s' % exc)
    except urllib3_exceptions.NewConnectionError as reason:
        error = urllib3_exceptions.MaxRetryError(None, HEALTHCHECK, reason)
    return requests.exceptions.ConnectionError(error)


class TestConnectionState(testtools.TestCase):
    """Refused or unreachable is down; connected (even slow) is not."""

    def setUp(self):
        super().setUp()
        self.requests = self.useFixture(requests_fixture.Fixture())

    def state(self, **kwargs):
        return workers.connection_state(WORKER, **kwargs)

    def test_any_answer_is_connected(self):
        for status in (200, 500, 503, 404):
            self.requests.get(HEALTHCHECK, status_code=status)
            self.assertEqual(workers.CONNECTED, self.state(), status)

    def test_refused(self):
        self.requests.get(HEALTHCHECK, exc=new_connection_error(
            ConnectionRefusedError(111, 'Connection refused')))
        self.assertEqual(workers.REFUSED, self.state())

    def test_no_route_is_unreachable(self):
        for cause in (OSError(113, 'No route to host'),
                      OSError(101, 'Network is unreachable'),
                      socket.gaierror(-2, 'Name or service not known')):
            self.requests.get(HEALTHCHECK, exc=new_connection_error(cause))
            self.assertEqual(workers.UNREACHABLE, self.state(), cause)

    def test_connect_timeout_is_unreachable(self):
        self.requests.get(HEALTHCHECK,
                          exc=requests.exceptions.ConnectTimeout)
        self.assertEqual(workers.UNREACHABLE, self.state())

    def test_read_timeout_is_connected(self):
        # It accepted the connection and is slow to answer: alive.
        self.requests.get(HEALTHCHECK, exc=requests.exceptions.ReadTimeout)
        self.assertEqual(workers.CONNECTED, self.state())

    def test_reset_after_connecting_is_connected(self):
        self.requests.get(HEALTHCHECK, exc=requests.exceptions.ConnectionError(
            urllib3_exceptions.ProtocolError(
                'Connection aborted.', ConnectionResetError(104, 'reset'))))
        self.assertEqual(workers.CONNECTED, self.state())

    def test_bare_connection_error_is_connected(self):
        # Nothing says the connection was not made: not down.
        self.requests.get(HEALTHCHECK,
                          exc=requests.exceptions.ConnectionError)
        self.assertEqual(workers.CONNECTED, self.state())

    def test_tls_and_proxy_errors_are_connected(self):
        for exc in (requests.exceptions.SSLError,
                    requests.exceptions.ProxyError):
            self.requests.get(HEALTHCHECK, exc=exc)
            self.assertEqual(workers.CONNECTED, self.state(), exc)

    def test_connect_and_read_timeouts_are_passed_on(self):
        self.requests.get(HEALTHCHECK, status_code=200)
        self.state(timeout=2.5, read_timeout=0.5)
        self.assertEqual((2.5, 0.5), self.requests.last_request.timeout)

    def test_one_request_without_token(self):
        self.requests.get(HEALTHCHECK, exc=requests.exceptions.ConnectTimeout)
        self.state()
        self.assertEqual(1, self.requests.call_count)
        self.assertNotIn('X-Auth-Token', self.requests.last_request.headers)

    def test_against_real_sockets(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            url = 'http://127.0.0.1:%d' % sock.getsockname()[1]
            self.useFixture(fixtures.MockPatch(
                'requests.Session.get_adapter',
                new=requests.Session().get_adapter))
            self.requests.stop()
            self.assertEqual(workers.REFUSED,
                             workers.connection_state(url, timeout=5))
            sock.listen(1)  # accepts, never answers: slow but alive
            self.assertEqual(workers.CONNECTED, workers.connection_state(
                url, timeout=5, read_timeout=0.2))


class TestDown(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.states = []
        self.state = self.useFixture(fixtures.MockPatchObject(
            workers, 'connection_state',
            side_effect=lambda *a: self.states.pop(0))).mock
        self.sleep = self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.workers.time.sleep')).mock

    def test_down_when_every_attempt_fails_to_connect(self):
        self.states = [workers.REFUSED, workers.UNREACHABLE, workers.REFUSED]
        self.assertEqual(workers.REFUSED, workers.down(
            WORKER, attempts=3, interval=0.5, timeout=2, read_timeout=0.3))
        self.assertEqual([mock.call(WORKER, 2, 0.3)] * 3,
                         self.state.call_args_list)
        self.assertEqual([mock.call(0.5)] * 2, self.sleep.call_args_list)

    def test_a_connection_ends_the_check(self):
        self.states = [workers.REFUSED, workers.CONNECTED, workers.REFUSED]
        self.assertIsNone(workers.down(WORKER, attempts=3))
        self.assertEqual(2, self.state.call_count)

    def test_connected_at_once_is_not_down(self):
        self.states = [workers.CONNECTED]
        self.assertIsNone(workers.down(WORKER))
        self.sleep.assert_not_called()

    def test_at_least_one_attempt(self):
        self.states = [workers.UNREACHABLE]
        self.assertEqual(workers.UNREACHABLE, workers.down(WORKER,
                                                           attempts=0))
        self.assertEqual(1, self.state.call_count)

    def test_defaults(self):
        self.states = [workers.REFUSED] * 3
        workers.down(WORKER)
        self.assertEqual([mock.call(WORKER, 3.0, 1.0)] * 3,
                         self.state.call_args_list)
        self.assertEqual([mock.call(1.0)] * 2, self.sleep.call_args_list)


class TestThisWorker(testtools.TestCase):
    """Options registered as Glance registers them, on a fresh CONF."""

    SELF_REF = cfg.StrOpt('worker_self_reference_url')
    PUBLIC = cfg.StrOpt('public_endpoint')

    def setUp(self):
        super().setUp()
        # A fresh ConfigOpts as cfg.CONF: whether Glance's own modules are
        # imported (and registered their options) depends on test order.
        conf = cfg.ConfigOpts()
        conf([], project='glance')
        self.useFixture(fixtures.MockPatchObject(cfg, 'CONF', conf))
        self.conf = self.useFixture(config_fixture.Config(conf))

    def test_self_reference_url_is_preferred(self):
        self.conf.register_opts([self.SELF_REF, self.PUBLIC])
        self.conf.config(worker_self_reference_url=WORKER,
                         public_endpoint='http://lb.example.com:9292')
        self.assertEqual(WORKER, workers.this_worker())

    def test_public_endpoint_when_self_reference_unset(self):
        self.conf.register_opts([self.SELF_REF, self.PUBLIC])
        self.conf.config(public_endpoint='http://lb.example.com:9292')
        self.assertEqual('http://lb.example.com:9292', workers.this_worker())

    def test_public_endpoint_when_self_reference_empty(self):
        self.conf.register_opts([self.SELF_REF, self.PUBLIC])
        self.conf.config(worker_self_reference_url='',
                         public_endpoint='http://lb.example.com:9292')
        self.assertEqual('http://lb.example.com:9292', workers.this_worker())

    def test_public_endpoint_when_self_reference_not_registered(self):
        self.conf.register_opt(self.PUBLIC)
        self.conf.config(public_endpoint='http://lb.example.com:9292')
        self.assertEqual('http://lb.example.com:9292', workers.this_worker())

    def test_self_reference_when_public_endpoint_not_registered(self):
        self.conf.register_opt(self.SELF_REF)
        self.conf.config(worker_self_reference_url=WORKER)
        self.assertEqual(WORKER, workers.this_worker())

    def test_none_when_neither_is_set(self):
        self.conf.register_opts([self.SELF_REF, self.PUBLIC])
        self.assertIsNone(workers.this_worker())

    def test_none_when_neither_is_registered(self):
        self.assertIsNone(workers.this_worker())
