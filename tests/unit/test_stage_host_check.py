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

"""stage_host_check: Glance decides; its 500 becomes 503 only when due."""

import json
from unittest import mock

import fixtures
from glance.common import exception
from oslo_config import cfg
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
GLANCE_500 = b'500 Internal Server Error\n\nThe server has either erred'


class RecordingApp:
    """The inner application (Glance): records each request, answers."""

    def __init__(self, events, status=202):
        self.events = events
        self.status = status
        self.calls = []

    @webob.dec.wsgify
    def __call__(self, req):
        self.calls.append((req.method, req.path_info))
        self.events.append('glance')
        body = GLANCE_500 if self.status == 500 else b'from glance'
        return webob.Response(status=self.status, body=body,
                              headers={'X-Glance': 'yes'})


class FakeDbApi:
    """glance.db.get_api(): image_get(context, id) and what it was asked."""

    def __init__(self, events, properties=(), error=None):
        self.events = events
        self.properties = list(properties)
        self.error = error
        self.calls = []

    def image_get(self, context, image_id):
        self.calls.append((context, image_id))
        self.events.append('read')
        if self.error:
            raise self.error
        return {'id': image_id, 'status': 'uploading',
                'properties': self.properties}


class FakeImageRepo:
    """glance.db.ImageRepo(context, db_api): the re-read after a 500."""

    def __init__(self, test):
        self.test = test
        self.contexts = []

    def __call__(self, context, db_api):
        self.contexts.append(context)
        return self

    def get(self, image_id):
        self.test.events.append('reread')
        if self.test.reread_error:
            raise self.test.reread_error
        return self.test.reread


def prop(name, value, deleted=False):
    return {'name': name, 'value': value, 'deleted': deleted}


def stage_host(url, deleted=False):
    return prop(workers.STAGE_HOST, url, deleted)


class StageHostCheckTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.events = []
        self.app = RecordingApp(self.events)
        self.context = mock.Mock(name='context', spec=['policy_enforcer'])
        self.db = FakeDbApi(self.events,
                            [prop('name', 'cirros'), stage_host(THERE)])
        self.useFixture(fixtures.MockPatch('glance.db.get_api',
                                           return_value=self.db))
        # What Glance's image repo gives when the filter reads again.
        self.reread = fakes.make_image(
            status='uploading', lock=None,
            properties={workers.STAGE_HOST: THERE}, owner='demo')
        self.reread_error = None
        self.repo = FakeImageRepo(self)
        self.useFixture(fixtures.MockPatch('glance.db.ImageRepo',
                                           new=self.repo))
        self.policy = self.useFixture(fixtures.MockPatch(
            'glance.api.v2.policy.ImageAPIPolicy')).mock
        self.policy.return_value.check.side_effect = self._policy_check
        self.may_import = True
        self.down = self.useFixture(fixtures.MockPatchObject(
            workers, 'down', side_effect=self._down)).mock
        self.down_state = workers.REFUSED
        self.useFixture(fixtures.MockPatchObject(
            workers, 'this_worker', return_value=HERE))
        self.filter = stage_host_check.StageHostCheck(
            self.app, retry_after=42, probe_timeout=2.5, probe_attempts=4,
            probe_interval=0.5)

    def _policy_check(self, name):
        self.events.append('policy:' + name)
        return self.may_import

    def _down(self, url, **kwargs):
        self.events.append('probe')
        return self.down_state

    def request(self, path=IMPORT_PATH, method='POST', context=True,
                wsgi_app=None, import_method='glance-direct'):
        req = webob.Request.blank(path, method=method)
        if method == 'POST':
            req.content_type = 'application/json'
            req.body = json.dumps(
                {'method': {'name': import_method}}).encode()
        if context:
            # As Glance's ContextMiddleware sets req.context.
            req.environ['webob.adhoc_attrs'] = {'context': self.context}
        return req.get_response(wsgi_app or self.filter)

    def assertPassedThrough(self, resp, method='POST', path=IMPORT_PATH,
                            status=202):
        self.assertEqual([(method, path)], self.app.calls)
        self.assertEqual(status, resp.status_int)
        self.assertEqual(GLANCE_500 if status == 500 else b'from glance',
                         resp.body)
        self.assertEqual('yes', resp.headers['X-Glance'])
        self.assertNotIn('Retry-After', resp.headers)

    def assertNothingReveals(self, resp):
        self.assertNotIn(HEADER, resp.headers)
        for name, value in resp.headers.items():
            self.assertNotIn('glance-a', value, name)
        self.assertNotIn(b'glance-a', resp.body)

    def assertRefused(self, resp, retry_after='42', path=IMPORT_PATH):
        self.assertEqual([('POST', path)], self.app.calls)
        self.assertEqual(503, resp.status_int)
        self.assertEqual(retry_after, resp.headers['Retry-After'])
        self.assertEqual('application/json', resp.content_type)
        self.assertNotIn(HEADER, resp.headers)
        return resp.json_body['error']['message']


class TestNotAProxiedGlanceDirectImport(StageHostCheckTestBase):
    """Requests Glance does not proxy pass untouched, nothing read."""

    def setUp(self):
        super().setUp()
        self.app.status = 500  # even Glance's 500 stays as it is

    def assertUntouched(self, resp, **kwargs):
        self.assertPassedThrough(resp, status=500, **kwargs)
        self.assertNothingReveals(resp)
        self.down.assert_not_called()
        self.assertEqual([], self.repo.contexts)

    def test_other_paths(self):
        for path in ('/v2/images', '/v2/images/%s' % IMAGE_ID,
                     '/v2/images/%s/stage' % IMAGE_ID,
                     '/v2/images/%s/file' % IMAGE_ID,
                     '/v2/images/not-an-image-id/import',
                     '/v2/images/%s/import/more' % IMAGE_ID,
                     '/v1/images/%s/import' % IMAGE_ID):
            self.app.calls = []
            self.assertUntouched(self.request(path), path=path)
        self.assertEqual([], self.db.calls)

    def test_other_methods_on_the_import_path(self):
        for method in ('GET', 'PUT', 'DELETE', 'PATCH'):
            self.app.calls = []
            self.assertUntouched(self.request(method=method), method=method)
        self.assertEqual([], self.db.calls)

    def test_other_import_methods(self):
        for name in ('web-download', 'copy-image', 'glance-download', None):
            self.app.calls = []
            self.assertUntouched(self.request(import_method=name))
        self.assertEqual([], self.db.calls)

    def test_malformed_body(self):
        req = webob.Request.blank(IMPORT_PATH, method='POST', body=b'{')
        req.environ['webob.adhoc_attrs'] = {'context': self.context}
        self.assertUntouched(req.get_response(self.filter))
        self.assertEqual([], self.db.calls)

    def test_without_context(self):
        self.assertUntouched(self.request(context=False))
        self.assertEqual([], self.db.calls)

    def test_context_none(self):
        req = webob.Request.blank(IMPORT_PATH, method='POST')
        req.environ['webob.adhoc_attrs'] = {'context': None}
        self.assertUntouched(req.get_response(self.filter))
        self.assertEqual([], self.db.calls)

    def test_image_the_caller_cannot_see(self):
        for error in (exception.ImageNotFound(), exception.NotFound(),
                      exception.Forbidden()):
            self.app.calls = []
            self.db.error = error
            self.assertUntouched(self.request())

    def test_image_without_stage_host(self):
        self.db.properties = [prop('name', 'cirros')]
        self.assertUntouched(self.request())

    def test_deleted_stage_host_is_ignored(self):
        self.db.properties = [stage_host(THERE, deleted=True)]
        self.assertUntouched(self.request())

    def test_staged_on_this_worker(self):
        self.db.properties = [stage_host(HERE)]
        self.reread.extra_properties[workers.STAGE_HOST] = HERE
        self.assertUntouched(self.request())


class TestGlanceDecidesFirst(StageHostCheckTestBase):

    def test_image_read_with_the_callers_context_before_glance(self):
        self.request()
        self.assertEqual([(self.context, IMAGE_ID)], self.db.calls)
        self.assertEqual(['read', 'glance'], self.events)

    def test_nothing_probed_before_glance_answers(self):
        self.app.status = 500
        self.request()
        self.assertEqual(['read', 'glance', 'reread', 'policy:modify_image',
                          'probe'], self.events)

    def test_trailing_slash_and_upper_case_id(self):
        self.app.status = 500
        path = '/v2/images/%s/import/' % IMAGE_ID.upper()
        self.assertRefused(self.request(path), path=path)
        self.assertEqual([(self.context, IMAGE_ID.upper())], self.db.calls)

    def test_live_stage_host_after_a_deleted_one_counts(self):
        self.db.properties = [stage_host(HERE, deleted=True),
                              stage_host(THERE)]
        self.assertEqual(THERE, self.request().headers[HEADER])


class TestSuccessNamesTheWorker(StageHostCheckTestBase):

    def test_every_2xx_of_a_proxied_import_names_the_worker(self):
        for status in (200, 202, 204):
            self.app.status = status
            self.app.calls = []
            resp = self.request()
            self.assertEqual(status, resp.status_int)
            self.assertEqual(THERE, resp.headers[HEADER])
            self.assertNotIn('Retry-After', resp.headers)
        self.down.assert_not_called()
        self.assertEqual([], self.repo.contexts)

    def test_body_untouched(self):
        self.assertPassedThrough(self.request())


class TestOtherAnswersPassThrough(StageHostCheckTestBase):
    """Glance's own answer, as it is: no worker URL, no probe."""

    def test_non_500_errors(self):
        for status in (400, 401, 403, 404, 409, 410, 413, 502, 503, 504):
            self.app.status = status
            self.app.calls = []
            resp = self.request()
            self.assertPassedThrough(resp, status=status)
            self.assertNothingReveals(resp)
        self.down.assert_not_called()
        self.assertEqual([], self.repo.contexts)


class TestGlance500(StageHostCheckTestBase):

    def setUp(self):
        super().setUp()
        self.app.status = 500

    def test_worker_down_503_with_retry_after_and_message(self):
        message = self.assertRefused(self.request())
        self.assertIn(IMAGE_ID, message)
        self.assertIn('staged on glance-api worker %s' % THERE, message)
        self.assertIn('retry the import when that worker is back', message)
        self.assertIn('image is still uploading', message)

    def test_body_is_a_glance_style_error(self):
        error = self.request().json_body['error']
        self.assertEqual(503, error['code'])
        self.assertEqual('Service Unavailable', error['title'])

    def test_unreachable_counts_as_down(self):
        self.down_state = workers.UNREACHABLE
        self.assertRefused(self.request())

    def test_probe_uses_the_paste_options(self):
        self.request()
        self.down.assert_called_once_with(THERE, attempts=4, interval=0.5,
                                          timeout=2.5)

    def test_defaults(self):
        resp = self.request(
            wsgi_app=stage_host_check.StageHostCheck(self.app))
        self.assertRefused(resp, retry_after='30')
        self.down.assert_called_once_with(THERE, attempts=3, interval=1.0,
                                          timeout=3.0)

    def test_worker_that_connects_is_not_down(self):
        self.down_state = None  # accepted a connection: slow, not down
        resp = self.request()
        self.assertPassedThrough(resp, status=500)
        self.assertNothingReveals(resp)

    def test_reread_and_policy_with_the_callers_context(self):
        self.context.policy_enforcer = 'enforcer'
        self.request()
        self.assertEqual([self.context], self.repo.contexts)
        self.policy.assert_called_once_with(self.context, self.reread,
                                            enforcer='enforcer')
        self.policy.return_value.check.assert_called_once_with(
            'modify_image')

    def test_caller_who_may_not_import_gets_glances_500(self):
        self.may_import = False
        resp = self.request()
        self.assertPassedThrough(resp, status=500)
        self.assertNothingReveals(resp)
        self.down.assert_not_called()

    def test_policy_error_leaves_glances_answer(self):
        self.policy.side_effect = exception.Forbidden()
        resp = self.request()
        self.assertPassedThrough(resp, status=500)
        self.assertNothingReveals(resp)
        self.down.assert_not_called()

    def test_image_gone_on_reread(self):
        for error in (exception.ImageNotFound(), exception.Forbidden(),
                      RuntimeError('database')):
            self.app.calls = []
            self.reread_error = error
            resp = self.request()
            self.assertPassedThrough(resp, status=500)
            self.assertNothingReveals(resp)
        self.down.assert_not_called()

    def test_image_no_longer_uploading(self):
        # The staging worker got the import after all (e.g. slow beyond
        # Glance's proxy timeout): not "unchanged", not a 503.
        for status in ('importing', 'active', 'queued'):
            self.app.calls = []
            self.reread = fakes.make_image(
                status=status, lock=None,
                properties={workers.STAGE_HOST: THERE}, owner='demo')
            resp = self.request()
            self.assertPassedThrough(resp, status=500)
            self.assertNothingReveals(resp)
        self.down.assert_not_called()

    def test_stage_host_changed_or_gone(self):
        for value in (HERE, 'http://glance-c.example.com:9292', None):
            self.app.calls = []
            self.reread.extra_properties.pop(workers.STAGE_HOST, None)
            if value:
                self.reread.extra_properties[workers.STAGE_HOST] = value
            resp = self.request()
            self.assertPassedThrough(resp, status=500)
            self.assertNotIn(HEADER, resp.headers)
        self.down.assert_not_called()

    def test_long_worker_url_is_cut_in_the_message(self):
        long_url = 'http://' + 'a' * 5000 + '.example.com:9292'
        self.db.properties = [stage_host(long_url)]
        self.reread.extra_properties[workers.STAGE_HOST] = long_url
        message = self.assertRefused(self.request())
        self.assertLess(len(message), 1000)
        self.assertIn(long_url[:stage_host_check.MAX_URL] + '...', message)


class TestFilterFactory(StageHostCheckTestBase):

    def test_builds_a_working_filter_from_paste_strings(self):
        make = stage_host_check.filter_factory(
            {}, retry_after='7', probe_timeout='1', probe_attempts='2',
            probe_interval='0.25')
        check = make(self.app)
        self.assertIsInstance(check, stage_host_check.StageHostCheck)
        self.assertIs(self.app, check.app)
        self.app.status = 500
        resp = self.request(wsgi_app=check)
        self.assertRefused(resp, retry_after='7')
        self.down.assert_called_once_with(THERE, attempts=2, interval=0.25,
                                          timeout=1.0)

    def test_without_options(self):
        check = stage_host_check.filter_factory({'here': '/etc'})(self.app)
        self.assertEqual(30, check.retry_after)
        self.assertEqual(3.0, check.probe_timeout)
        self.assertEqual(3, check.probe_attempts)
        self.assertEqual(1.0, check.probe_interval)

    def test_bad_values_fail_at_build_time(self):
        for options in ({'retry_after': 'soon'}, {'probe_timeout': '0'},
                        {'probe_attempts': '0'}, {'probe_interval': '-1'},
                        {'retry_after': '-5'}):
            make = stage_host_check.filter_factory({}, **options)
            self.assertRaises(ValueError, make, self.app)

    def test_works_as_a_plain_wsgi_callable(self):
        self.app.status = 500
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


class TestRegisterIdentityUri(testtools.TestCase):
    """The workaround for Glance <= 32 under keystonemiddleware >= 13."""

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        self.conf([], project='test')

    def version(self, value):
        return mock.patch('importlib.metadata.version', return_value=value)

    def test_registers_once_when_nothing_else_did(self):
        with self.version('13.0.0'):
            self.assertTrue(stage_host_check.register_identity_uri(self.conf))
            self.assertFalse(
                stage_host_check.register_identity_uri(self.conf))
        self.assertIsNone(self.conf.keystone_authtoken.identity_uri)

    def test_leaves_an_existing_option_alone(self):
        self.conf.register_opt(cfg.StrOpt('identity_uri', default='x'),
                               group='keystone_authtoken')
        with self.version('13.0.0'):
            self.assertFalse(
                stage_host_check.register_identity_uri(self.conf))
        self.assertEqual('x', self.conf.keystone_authtoken.identity_uri)

    def test_older_keystonemiddleware_registers_it_itself(self):
        with self.version('10.2.0'):
            self.assertFalse(
                stage_host_check.register_identity_uri(self.conf))
        self.assertNotIn('keystone_authtoken', self.conf)
