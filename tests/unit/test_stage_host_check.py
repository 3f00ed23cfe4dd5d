"""stage_host_check: 503 + Retry-After while the staging worker is down."""

import json
from unittest import mock

import fixtures
from glance.common import exception
import testtools
import webob
import webob.dec

from glance_import_ext.common import workers
from glance_import_ext.middleware import stage_host_check
from tests.unit import fakes

IMAGE_ID = fakes.IMAGE_ID
IMPORT_PATH = '/v2/images/%s/import' % IMAGE_ID
HERE = 'http://glance-b.example.com:9292'
THERE = 'http://glance-a.example.com:9292'
HEADER = 'X-Import-Ext-Staging-Worker'


class RecordingApp:
    """The inner application: records each request, answers ``status``."""

    def __init__(self, status=202):
        self.status = status
        self.calls = []

    @webob.dec.wsgify
    def __call__(self, req):
        self.calls.append((req.method, req.path_info))
        return webob.Response(status=self.status, body=b'from glance')


class FakeDbApi:
    """glance.db.get_api(): image_get(context, id) and what it was asked."""

    def __init__(self, properties=(), error=None):
        self.properties = list(properties)
        self.error = error
        self.calls = []

    def image_get(self, context, image_id):
        self.calls.append((context, image_id))
        if self.error:
            raise self.error
        return {'id': image_id, 'status': 'uploading',
                'properties': self.properties}


def prop(name, value, deleted=False):
    return {'name': name, 'value': value, 'deleted': deleted}


def stage_host(url, deleted=False):
    return prop(workers.STAGE_HOST, url, deleted)


class StageHostCheckTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.app = RecordingApp()
        self.context = object()
        self.db = FakeDbApi([prop('name', 'cirros'), stage_host(THERE)])
        self.useFixture(fixtures.MockPatch('glance.db.get_api',
                                           return_value=self.db))
        self.answers = self.useFixture(fixtures.MockPatchObject(
            workers, 'answers', return_value=False)).mock
        self.useFixture(fixtures.MockPatchObject(
            workers, 'this_worker', return_value=HERE))
        self.filter = stage_host_check.StageHostCheck(
            self.app, retry_after=42, probe_timeout=2.5)

    def request(self, path=IMPORT_PATH, method='POST', context=True,
                wsgi_app=None):
        req = webob.Request.blank(path, method=method)
        if method == 'POST':
            req.content_type = 'application/json'
            req.body = json.dumps(
                {'method': {'name': 'glance-direct'}}).encode()
        if context:
            # As Glance's ContextMiddleware sets req.context.
            req.environ['webob.adhoc_attrs'] = {'context': self.context}
        return req.get_response(wsgi_app or self.filter)

    def assertPassedThrough(self, resp, method='POST', path=IMPORT_PATH,
                            status=202):
        self.assertEqual([(method, path)], self.app.calls)
        self.assertEqual(status, resp.status_int)
        self.assertEqual(b'from glance', resp.body)

    def assertRefused(self, resp, retry_after='42'):
        self.assertEqual([], self.app.calls)
        self.assertEqual(503, resp.status_int)
        self.assertEqual(retry_after, resp.headers['Retry-After'])
        self.assertEqual('application/json', resp.content_type)
        return resp.json_body['error']['message']


class TestPassesThrough(StageHostCheckTestBase):

    def test_other_paths(self):
        for path in ('/v2/images', '/v2/images/%s' % IMAGE_ID,
                     '/v2/images/%s/stage' % IMAGE_ID,
                     '/v2/images/%s/file' % IMAGE_ID,
                     '/v2/images/not-an-image-id/import',
                     '/v2/images/%s/import/more' % IMAGE_ID,
                     '/v1/images/%s/import' % IMAGE_ID):
            self.app.calls = []
            resp = self.request(path)
            self.assertPassedThrough(resp, path=path)
            self.assertNotIn(HEADER, resp.headers)
        self.assertEqual([], self.db.calls)
        self.answers.assert_not_called()

    def test_other_methods_on_the_import_path(self):
        for method in ('GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'):
            self.app.calls = []
            resp = self.request(method=method)
            self.assertEqual([(method, IMPORT_PATH)], self.app.calls)
            self.assertNotEqual(503, resp.status_int)
        self.assertEqual([], self.db.calls)
        self.answers.assert_not_called()

    def test_without_context(self):
        resp = self.request(context=False)
        self.assertPassedThrough(resp)
        self.assertEqual([], self.db.calls)
        self.answers.assert_not_called()

    def test_context_none(self):
        req = webob.Request.blank(IMPORT_PATH, method='POST')
        req.environ['webob.adhoc_attrs'] = {'context': None}
        self.assertPassedThrough(req.get_response(self.filter))
        self.assertEqual([], self.db.calls)

    def test_image_not_found(self):
        self.db.error = exception.ImageNotFound()
        self.assertPassedThrough(self.request())
        self.answers.assert_not_called()

    def test_plain_not_found(self):
        self.db.error = exception.NotFound()
        self.assertPassedThrough(self.request())
        self.answers.assert_not_called()

    def test_forbidden(self):
        self.db.error = exception.Forbidden()
        self.assertPassedThrough(self.request())
        self.answers.assert_not_called()

    def test_image_without_stage_host(self):
        self.db.properties = [prop('name', 'cirros')]
        resp = self.request()
        self.assertPassedThrough(resp)
        self.assertNotIn(HEADER, resp.headers)
        self.answers.assert_not_called()

    def test_deleted_stage_host_is_ignored(self):
        self.db.properties = [stage_host(THERE, deleted=True)]
        resp = self.request()
        self.assertPassedThrough(resp)
        self.assertNotIn(HEADER, resp.headers)
        self.answers.assert_not_called()

    def test_live_stage_host_after_a_deleted_one_counts(self):
        self.db.properties = [stage_host(HERE, deleted=True),
                              stage_host(THERE)]
        self.assertRefused(self.request())

    def test_staged_on_this_worker_is_not_probed(self):
        self.db.properties = [stage_host(HERE)]
        resp = self.request()
        self.assertPassedThrough(resp)
        self.assertNotIn(HEADER, resp.headers)
        self.answers.assert_not_called()

    def test_image_read_with_the_callers_context(self):
        self.request()
        self.assertEqual([(self.context, IMAGE_ID)], self.db.calls)

    def test_trailing_slash_and_upper_case_id_are_checked(self):
        path = '/v2/images/%s/import/' % IMAGE_ID.upper()
        self.assertRefused(self.request(path))
        self.assertEqual([(self.context, IMAGE_ID.upper())], self.db.calls)


class TestStagingWorkerDown(StageHostCheckTestBase):

    def test_503_with_retry_after_and_message(self):
        message = self.assertRefused(self.request())
        self.assertIn(IMAGE_ID, message)
        self.assertIn(THERE, message)
        self.assertIn('retry the import', message)

    def test_body_is_a_glance_style_error(self):
        resp = self.request()
        error = resp.json_body['error']
        self.assertEqual(503, error['code'])
        self.assertEqual('Service Unavailable', error['title'])
        self.assertEqual(THERE, resp.headers[HEADER])

    def test_probes_the_stage_host_with_the_timeout(self):
        self.request()
        self.answers.assert_called_once_with(THERE, 2.5)

    def test_defaults(self):
        resp = self.request(
            wsgi_app=stage_host_check.StageHostCheck(self.app))
        self.assertRefused(resp, retry_after='30')
        self.answers.assert_called_once_with(THERE, 3.0)


class TestStagingWorkerAnswers(StageHostCheckTestBase):

    def setUp(self):
        super().setUp()
        self.answers.return_value = True

    def test_passes_through_and_names_the_worker(self):
        resp = self.request()
        self.assertPassedThrough(resp)
        self.assertEqual(THERE, resp.headers[HEADER])
        self.answers.assert_called_once_with(THERE, 2.5)

    def test_every_2xx_names_the_worker(self):
        for status in (200, 202, 204):
            self.app.status = status
            self.app.calls = []
            resp = self.request()
            self.assertEqual(status, resp.status_int)
            self.assertEqual(THERE, resp.headers[HEADER])

    def test_error_response_does_not_name_the_worker(self):
        for status in (409, 403, 500, 504):
            self.app.status = status
            self.app.calls = []
            resp = self.request()
            self.assertPassedThrough(resp, status=status)
            self.assertNotIn(HEADER, resp.headers)

    def test_no_retry_after(self):
        self.assertNotIn('Retry-After', self.request().headers)


class TestFilterFactory(StageHostCheckTestBase):

    def test_builds_a_working_filter_from_paste_strings(self):
        make = stage_host_check.filter_factory({}, retry_after='7',
                                               probe_timeout='1')
        check = make(self.app)
        self.assertIsInstance(check, stage_host_check.StageHostCheck)
        self.assertIs(self.app, check.app)
        self.assertEqual(7, check.retry_after)
        self.assertEqual(1.0, check.probe_timeout)
        resp = self.request(wsgi_app=check)
        self.assertRefused(resp, retry_after='7')
        self.answers.assert_called_once_with(THERE, 1.0)

    def test_without_options(self):
        check = stage_host_check.filter_factory({'here': '/etc'})(self.app)
        self.assertEqual(30, check.retry_after)
        self.assertEqual(3.0, check.probe_timeout)

    def test_bad_value_fails_at_build_time(self):
        make = stage_host_check.filter_factory({}, retry_after='soon')
        self.assertRaises(ValueError, make, self.app)

    def test_works_as_a_plain_wsgi_callable(self):
        check = stage_host_check.filter_factory({}, retry_after='7')(
            self.app)
        environ = webob.Request.blank(
            IMPORT_PATH, method='POST',
            POST=json.dumps({'method': {'name': 'glance-direct'}})).environ
        environ['webob.adhoc_attrs'] = {'context': self.context}
        start_response = mock.Mock()
        body = b''.join(check(environ, start_response))
        status, headers = start_response.call_args[0][:2]
        self.assertEqual('503 Service Unavailable', status)
        self.assertIn(('Retry-After', '7'), headers)
        self.assertIn(IMAGE_ID, json.loads(body)['error']['message'])
