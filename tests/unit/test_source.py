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

"""Reading source images: catalog lookup, remote reads, local reads."""

import datetime

import fixtures
from glance.common import exception
from glance import domain
from keystoneauth1.access import service_catalog
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import requests
from requests_mock.contrib import fixture as requests_mock_fixture
import testtools

from glance_import_ext.common import options
from glance_import_ext.common import source

SOURCE_ID = '99999999-8888-7777-6666-555555555555'
TOKEN = 'gAAAAAB-the-callers-secret-token'
PUBLIC = 'https://image.two.example.com:9292'
INTERNAL = 'http://glance.two.internal:9292'
IMAGE_URL = PUBLIC + '/v2/images/' + SOURCE_ID

V2_CATALOG = [
    {'type': 'identity', 'name': 'keystone',
     'endpoints': [{'region': 'RegionTwo',
                    'publicURL': 'https://id.example.com/v3'}]},
    {'type': 'image', 'name': 'glance',
     'endpoints': [
         {'region': 'RegionOne',
          'publicURL': 'https://image.one.example.com:9292',
          'internalURL': 'http://glance.one.internal:9292'},
         {'region': 'RegionTwo',
          'publicURL': PUBLIC + '/',
          'internalURL': INTERNAL}]},
]

V3_CATALOG = [
    {'type': 'image', 'name': 'glance', 'id': 'abc',
     'endpoints': [
         {'interface': 'public', 'region_id': 'RegionOne',
          'url': 'https://image.one.example.com:9292', 'id': '1'},
         {'interface': 'public', 'region_id': 'RegionTwo',
          'region': 'RegionTwo', 'url': PUBLIC + '/', 'id': '2'},
         {'interface': 'internal', 'region_id': 'RegionTwo',
          'url': INTERNAL, 'id': '3'}]},
]

# What GET /v2/images/<id> answers, core fields and extra properties.
IMAGE_BODY = {
    'id': SOURCE_ID, 'name': 'ubuntu', 'status': 'active',
    'visibility': 'shared', 'protected': False, 'os_hidden': False,
    'owner': 'p1', 'size': 1024, 'virtual_size': 4096,
    'checksum': 'c' * 32, 'os_hash_algo': 'sha512',
    'os_hash_value': 'f' * 128, 'disk_format': 'qcow2',
    'container_format': 'bare', 'min_ram': 0, 'min_disk': 1,
    'tags': ['gold', 'ubuntu'], 'created_at': '2024-01-01T00:00:00Z',
    'updated_at': '2024-01-02T00:00:00Z',
    'self': '/v2/images/' + SOURCE_ID,
    'file': '/v2/images/%s/file' % SOURCE_ID,
    'schema': '/v2/schemas/image', 'stores': 'ceph',
    'hw_disk_bus': 'virtio', 'trait:CUSTOM_X': 'required',
    'os_distro': 'ubuntu', 'description': 'an extra property',
}
EXTRA_PROPERTIES = {'hw_disk_bus': 'virtio', 'trait:CUSTOM_X': 'required',
                    'os_distro': 'ubuntu', 'description': 'an extra property'}


class FakeContext:

    def __init__(self, service_catalog=V2_CATALOG, auth_token=TOKEN):
        self.service_catalog = service_catalog
        self.auth_token = auth_token


class TestImageEndpoint(testtools.TestCase):

    def test_v2_catalog_public(self):
        self.assertEqual(PUBLIC,
                         source.image_endpoint(V2_CATALOG, 'RegionTwo'))

    def test_v2_catalog_internal(self):
        self.assertEqual(INTERNAL, source.image_endpoint(
            V2_CATALOG, 'RegionTwo', 'internal'))

    def test_v2_catalog_other_region(self):
        self.assertEqual('https://image.one.example.com:9292',
                         source.image_endpoint(V2_CATALOG, 'RegionOne'))

    def test_v3_catalog_public(self):
        self.assertEqual(PUBLIC,
                         source.image_endpoint(V3_CATALOG, 'RegionTwo'))

    def test_v3_catalog_internal(self):
        self.assertEqual(INTERNAL, source.image_endpoint(
            V3_CATALOG, 'RegionTwo', 'internal'))

    def test_v3_catalog_region_id_only(self):
        self.assertEqual('https://image.one.example.com:9292',
                         source.image_endpoint(V3_CATALOG, 'RegionOne'))

    def test_region_match_is_case_insensitive(self):
        self.assertEqual(PUBLIC,
                         source.image_endpoint(V2_CATALOG, 'regiontwo'))
        self.assertEqual(PUBLIC,
                         source.image_endpoint(V3_CATALOG, 'REGIONTWO'))

    def test_trailing_slash_is_stripped(self):
        catalog = [{'type': 'image', 'endpoints': [
            {'region': 'R', 'publicURL': 'http://g.example.com/image/'}]}]
        self.assertEqual('http://g.example.com/image',
                         source.image_endpoint(catalog, 'R'))

    def test_other_service_types_are_ignored(self):
        catalog = [{'type': 'compute', 'endpoints': [
            {'region': 'RegionTwo', 'publicURL': 'http://nova'}]}]
        self.assertRaises(source.SourceError, source.image_endpoint,
                          catalog, 'RegionTwo')

    def assertNoEndpoint(self, catalog, region, interface='public'):
        exc = self.assertRaises(source.SourceError, source.image_endpoint,
                                catalog, region, interface)
        self.assertIn('region %s has no %s image endpoint' % (
            region, interface), str(exc))
        return exc

    def test_missing_region_v2(self):
        self.assertNoEndpoint(V2_CATALOG, 'RegionThree')

    def test_missing_region_v3(self):
        self.assertNoEndpoint(V3_CATALOG, 'RegionThree')

    def test_missing_interface_v2(self):
        self.assertNoEndpoint(V2_CATALOG, 'RegionTwo', 'admin')

    def test_missing_interface_v3(self):
        self.assertNoEndpoint(V3_CATALOG, 'RegionOne', 'internal')

    def test_no_catalog(self):
        self.assertNoEndpoint(None, 'RegionTwo')
        self.assertNoEndpoint([], 'RegionTwo')

    def test_region_that_is_not_text(self):
        self.assertNoEndpoint(V2_CATALOG, None)
        self.assertNoEndpoint(V2_CATALOG, '')
        self.assertNoEndpoint(V2_CATALOG, ['RegionTwo'])

    def test_interface_that_is_not_text(self):
        # keystoneauth would take a list as interfaces by preference; the
        # import request names one.
        self.assertNoEndpoint(V2_CATALOG, 'RegionTwo', ['admin', 'public'])
        self.assertNoEndpoint(V2_CATALOG, 'RegionTwo', '')

    def test_interface_in_the_other_catalogs_spelling(self):
        self.assertEqual(INTERNAL, source.image_endpoint(
            V2_CATALOG, 'RegionTwo', 'internalURL'))
        self.assertEqual(INTERNAL, source.image_endpoint(
            V3_CATALOG, 'RegionTwo', 'internalURL'))

    def test_unreadable_catalog_entry(self):
        catalog = [{'type': 'image', 'endpoints': [
            {'interface': 'public', 'region_id': 'RegionTwo'}]}]
        self.assertNoEndpoint(catalog, 'RegionTwo')

    def test_message_shows_long_values_cut(self):
        exc = self.assertRaises(source.SourceError, source.image_endpoint,
                                V2_CATALOG, 'R' * 500)
        self.assertIn('(500 characters)', str(exc))
        self.assertLess(len(str(exc)), 300)

    def test_looked_up_by_keystoneauth(self):
        for catalog, kind in ((V2_CATALOG, service_catalog.ServiceCatalogV2),
                              (V3_CATALOG, service_catalog.ServiceCatalogV3)):
            url_for = self.useFixture(fixtures.MockPatchObject(
                kind, 'url_for', return_value=PUBLIC + '/')).mock
            self.assertEqual(PUBLIC, source.image_endpoint(
                catalog, 'regiontwo', 'internal'))
            # The region as the catalog spells it: keystoneauth compares
            # exactly, Glance's glance-download whatever the case.
            url_for.assert_called_once_with(service_type='image',
                                            interface='internal',
                                            region_name='RegionTwo')


class TestReadRemoteImage(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.conf.config(group=options.GROUP, source_retries=2)
        # keystoneauth waits 0.5s, 1s, ... between retries.
        self.sleep = self.useFixture(fixtures.MockPatch('time.sleep')).mock
        self.requests = self.useFixture(requests_mock_fixture.Fixture())

    def read(self, context=None, region='RegionTwo', interface='public'):
        return source.read_remote_image(context or FakeContext(), region,
                                        SOURCE_ID, interface)

    def assertSourceError(self, fragment, **kwargs):
        exc = self.assertRaises(source.SourceError, self.read, **kwargs)
        self.assertIn(fragment, str(exc))
        self.assertNotIn(TOKEN, str(exc))
        return exc

    def test_reads_the_image_record(self):
        self.requests.get(IMAGE_URL, json=IMAGE_BODY)
        image = self.read()
        self.assertIsInstance(image, source.SourceImage)
        self.assertEqual(SOURCE_ID, image.id)
        self.assertEqual('active', image.status)
        self.assertEqual(EXTRA_PROPERTIES, image.properties)
        self.assertEqual({'gold', 'ubuntu'}, image.tags)
        self.assertEqual('qcow2', image.disk_format)
        self.assertEqual('bare', image.container_format)
        self.assertEqual(1024, image.size)
        self.assertEqual('c' * 32, image.checksum)
        self.assertEqual('sha512', image.os_hash_algo)
        self.assertEqual('f' * 128, image.os_hash_value)
        self.assertEqual('RegionTwo', image.region)
        self.assertEqual('image %s in region RegionTwo' % SOURCE_ID,
                         str(image))
        image.require_active()

    def test_core_fields_are_not_properties(self):
        self.requests.get(IMAGE_URL, json=IMAGE_BODY)
        image = self.read()
        self.assertEqual(set(), set(image.properties) & source.CORE_FIELDS)

    def test_sends_the_callers_token(self):
        self.requests.get(IMAGE_URL, json=IMAGE_BODY)
        self.read()
        [request] = self.requests.request_history
        self.assertEqual('GET', request.method)
        self.assertEqual(TOKEN, request.headers['X-Auth-Token'])

    def test_uses_the_configured_timeouts(self):
        self.conf.config(group=options.GROUP, source_connect_timeout=2.5,
                         source_read_timeout=12.0)
        self.requests.get(IMAGE_URL, json=IMAGE_BODY)
        self.read()
        self.assertEqual((2.5, 12.0),
                         self.requests.request_history[0].timeout)

    def test_uses_the_requested_interface(self):
        url = INTERNAL + '/v2/images/' + SOURCE_ID
        self.requests.get(url, json=IMAGE_BODY)
        self.assertEqual(SOURCE_ID, self.read(interface='internal').id)
        self.assertEqual(url, self.requests.request_history[0].url)

    def test_v3_catalog(self):
        self.requests.get(IMAGE_URL, json=IMAGE_BODY)
        image = self.read(FakeContext(service_catalog=V3_CATALOG))
        self.assertEqual(SOURCE_ID, image.id)

    def test_region_not_in_catalog(self):
        self.assertSourceError('region RegionThree has no public image '
                               'endpoint', region='RegionThree')
        self.assertEqual([], self.requests.request_history)

    def test_not_found(self):
        self.requests.get(IMAGE_URL, status_code=404)
        exc = self.assertSourceError('not found, or not visible to you')
        self.assertIn('image %s in region RegionTwo' % SOURCE_ID, str(exc))

    def test_forbidden_reads_as_not_found(self):
        self.requests.get(IMAGE_URL, status_code=403)
        self.assertSourceError('not found, or not visible to you')

    def test_token_not_accepted(self):
        self.requests.get(IMAGE_URL, status_code=401)
        self.assertSourceError('region RegionTwo did not accept your token')
        self.assertEqual(1, len(self.requests.request_history))

    def test_server_error_then_success_is_retried(self):
        self.requests.get(IMAGE_URL, [{'status_code': 500},
                                      {'status_code': 200,
                                       'json': IMAGE_BODY}])
        self.assertEqual(SOURCE_ID, self.read().id)
        self.assertEqual(2, len(self.requests.request_history))
        self.assertEqual(1, self.sleep.call_count)

    def test_persistent_unavailable_fails_after_retries(self):
        self.requests.get(IMAGE_URL, status_code=503)
        exc = self.assertSourceError('HTTP 503')
        self.assertIn('region RegionTwo answered HTTP 503 for source image '
                      '%s' % SOURCE_ID, str(exc))
        self.assertEqual(3, len(self.requests.request_history))

    def test_no_retries_when_configured_so(self):
        self.conf.config(group=options.GROUP, source_retries=0)
        self.requests.get(IMAGE_URL, status_code=502)
        self.assertSourceError('HTTP 502')
        self.assertEqual(1, len(self.requests.request_history))
        self.sleep.assert_not_called()

    def test_other_client_error(self):
        self.requests.get(IMAGE_URL, status_code=400)
        self.assertSourceError('HTTP 400')
        self.assertEqual(1, len(self.requests.request_history))

    def test_connection_error(self):
        self.requests.get(IMAGE_URL, exc=requests.exceptions.ConnectionError)
        exc = self.assertSourceError('cannot reach region RegionTwo')
        self.assertIn('after 2 retries', str(exc))
        self.assertEqual(3, len(self.requests.request_history))

    def test_connect_timeout(self):
        self.requests.get(IMAGE_URL, exc=requests.exceptions.ConnectTimeout)
        self.assertSourceError('cannot reach region RegionTwo')

    def test_connection_error_then_success(self):
        self.requests.get(IMAGE_URL, [
            {'exc': requests.exceptions.ConnectionError},
            {'json': IMAGE_BODY}])
        self.assertEqual(SOURCE_ID, self.read().id)

    def test_body_that_is_not_json(self):
        self.requests.get(IMAGE_URL, text='<html>proxy error</html>')
        self.assertSourceError('with something that is not an image record')

    def test_json_that_is_not_an_image(self):
        for body in ('[{"id": "x"}]', '{"images": []}', 'null', '"image"',
                     '42'):
            self.requests.get(IMAGE_URL, text=body)
            self.assertSourceError('not an image record')

    def test_token_never_in_error_messages(self):
        # assertSourceError checks every message; here the answer itself
        # echoes the token, as a misconfigured proxy might.
        self.requests.get(IMAGE_URL, status_code=500,
                          text='X-Auth-Token: ' + TOKEN)
        self.assertSourceError('HTTP 500')


def domain_image(image_id=SOURCE_ID, status='active', **kwargs):
    now = datetime.datetime(2024, 1, 1)
    return domain.Image(image_id, status, now, now, **kwargs)


class FakeUserRepo:

    def __init__(self, image=None, error=None):
        self.image = image
        self.error = error
        self.asked = []

    def get(self, image_id):
        self.asked.append(image_id)
        if self.error:
            raise self.error
        return self.image


class TestReadLocalImage(testtools.TestCase):

    def test_not_found(self):
        exc = self.assertRaises(
            source.SourceError, source.read_local_image,
            FakeUserRepo(error=exception.ImageNotFound()), SOURCE_ID)
        self.assertEqual('source image %s not found, or not visible to '
                         'you' % SOURCE_ID, str(exc))

    def test_plain_not_found(self):
        self.assertRaises(source.SourceError, source.read_local_image,
                          FakeUserRepo(error=exception.NotFound()), SOURCE_ID)

    def test_forbidden_reads_as_not_found(self):
        exc = self.assertRaises(
            source.SourceError, source.read_local_image,
            FakeUserRepo(error=exception.Forbidden()), SOURCE_ID)
        self.assertIn('not found, or not visible to you', str(exc))

    def test_other_errors_pass_through(self):
        self.assertRaises(RuntimeError, source.read_local_image,
                          FakeUserRepo(error=RuntimeError('db')), SOURCE_ID)

    def test_domain_image(self):
        repo = FakeUserRepo(domain_image(
            extra_properties={'hw_disk_bus': 'virtio', 'os_distro': 'x'},
            tags={'gold'}, disk_format='qcow2', container_format='bare',
            size=1024, checksum='c' * 32, os_hash_algo='sha512',
            os_hash_value='f' * 128))
        image = source.read_local_image(repo, SOURCE_ID)
        self.assertEqual([SOURCE_ID], repo.asked)
        self.assertEqual(SOURCE_ID, image.id)
        self.assertEqual('active', image.status)
        self.assertEqual({'hw_disk_bus': 'virtio', 'os_distro': 'x'},
                         image.properties)
        self.assertIsInstance(image.properties, dict)
        self.assertEqual({'gold'}, image.tags)
        self.assertEqual('qcow2', image.disk_format)
        self.assertEqual('bare', image.container_format)
        self.assertEqual(1024, image.size)
        self.assertEqual('c' * 32, image.checksum)
        self.assertEqual('sha512', image.os_hash_algo)
        self.assertEqual('f' * 128, image.os_hash_value)
        self.assertIsNone(image.region)
        self.assertEqual('image %s' % SOURCE_ID, str(image))

    def test_properties_are_a_copy(self):
        image = domain_image(extra_properties={'a': '1'})
        read = source.read_local_image(FakeUserRepo(image), SOURCE_ID)
        read.properties['a'] = '2'
        self.assertEqual('1', image.extra_properties['a'])


class TestSourceImage(testtools.TestCase):

    def test_active_is_required(self):
        source.SourceImage(SOURCE_ID, 'active', {}).require_active()

    def test_non_active_raises(self):
        for status in ('queued', 'saving', 'importing', 'deactivated',
                       'killed', None):
            exc = self.assertRaises(
                source.SourceError,
                source.SourceImage(SOURCE_ID, status, {}).require_active)
            self.assertEqual(
                'source image %s is %s, not active; import again once it '
                'is active' % (SOURCE_ID, status), str(exc))
            # The remedy apart: a check in warn mode goes on without it.
            self.assertEqual(('source image %s is %s, not active' % (
                SOURCE_ID, status), 'import again once it is active'),
                (exc.problem, exc.remedy))

    def test_non_active_names_the_region(self):
        exc = self.assertRaises(
            source.SourceError,
            source.SourceImage(SOURCE_ID, 'queued', {},
                               region='RegionTwo').require_active)
        self.assertIn('image %s in region RegionTwo is queued' % SOURCE_ID,
                      str(exc))

    def test_from_api_without_tags(self):
        image = source.SourceImage.from_api({'id': SOURCE_ID})
        self.assertEqual(set(), image.tags)
        self.assertEqual({}, image.properties)
        self.assertIsNone(image.region)


class TestRetryDelay(testtools.TestCase):

    def resp(self, retry_after=None):
        resp = requests.Response()
        if retry_after is not None:
            resp.headers['Retry-After'] = retry_after
        return resp

    def test_backoff_grows(self):
        self.assertEqual([0.5, 1.0, 2.0], [
            source.retry_delay(self.resp(), n) for n in range(3)])

    def test_retry_after_is_followed_up_to_the_cap(self):
        self.assertEqual(3.0, source.retry_delay(self.resp('3'), 0))
        self.assertEqual(source.MAX_RETRY_DELAY,
                         source.retry_delay(self.resp('3600'), 0))

    def test_retry_after_as_a_date_falls_back_to_backoff(self):
        self.assertEqual(1.0, source.retry_delay(
            self.resp('Wed, 21 Oct 2015 07:28:00 GMT'), 1))
