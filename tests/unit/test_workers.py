"""workers: which worker this is, and whether another one answers."""

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import requests
from requests_mock.contrib import fixture as requests_fixture
import testtools

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
