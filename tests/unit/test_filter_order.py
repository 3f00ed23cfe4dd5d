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

"""``stage_host_check`` and ``stage_digests`` answer alike in either order.

doc/source/install/index.rst ("The paste filters and their order"): each
filter acts on requests the other passes on. ``stage_digests`` hands
Glance a body stream that cannot be rewound, and ``stage_host_check``, a
webob filter, rewinds the body of a request it passes on once an earlier
filter has read it (``webob.is_body_seekable``): ``stage_digests`` drops
that mark for its stream. Both orders here, around one fake Glance: a
stage, a proxied import Glance accepts, one Glance answers 500 while the
staging worker is down, an import while the plugin list is broken, a
delete.
"""

import io
import json
import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools
import webob
import webob.dec

from glance_import_ext.common import plugin_list
from glance_import_ext.common import stage_record
from glance_import_ext.common import workers
from glance_import_ext import glance_internals
from glance_import_ext.middleware import stage_digests
from glance_import_ext.middleware import stage_host_check

IMAGE_ID = '1b2c3d4e-0000-4000-8000-00000000abcd'
HERE = 'http://glance-b.example.com:9292'
THERE = 'http://glance-a.example.com:9292'
DATA = bytes(range(256)) * 64


class FakeImage:

    status = 'uploading'
    extra_properties = {workers.STAGE_HOST: THERE}


class FakeRepo:

    def get(self, image_id):
        return FakeImage()


class Stream:
    """A request body as a server hands it over: read only, no seek."""

    def __init__(self, data):
        self._raw = io.BytesIO(data)

    def read(self, size=-1):
        return self._raw.read(size)


class Glance:
    """Stage writes the staged file; import answers ``import_status``."""

    def __init__(self, staging):
        self.staging = staging
        self.import_status = 202

    @webob.dec.wsgify
    def __call__(self, req):
        if req.method == 'PUT':
            with open(os.path.join(self.staging, IMAGE_ID), 'wb') as f:
                f.write(req.body_file.read())
            return webob.Response(status=204)
        if req.method == 'POST':
            return webob.Response(status=self.import_status,
                                  body=b'from glance')
        return webob.Response(status=204)


class TestEitherOrder(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.dir = self.useFixture(fixtures.TempDir()).path
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(record_key='k', group='glance_import_ext')
        self.useFixture(fixtures.MockPatchObject(
            stage_record, 'boot_id', return_value='boot-1'))
        patches = {
            'staging_dir': self.dir,
            'request_context': 'context',
            'image_or_none': {'properties': {workers.STAGE_HOST: THERE}},
            'image_repo': FakeRepo(),
            'may_modify_image': True,
        }
        for name, value in patches.items():
            self.useFixture(fixtures.MockPatchObject(
                glance_internals, name, return_value=value))
        self.useFixture(fixtures.MockPatchObject(
            workers, 'this_worker', return_value=HERE))
        self.useFixture(fixtures.MockPatchObject(
            workers, 'down', return_value=workers.REFUSED))
        self.refusal = None
        self.useFixture(fixtures.MockPatchObject(
            plugin_list, 'import_refusal', side_effect=lambda: self.refusal))

    def answers(self, host_check_first, seekable=False):
        """What each request gets through one order of the filters."""
        for name in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, name))
        glance = Glance(self.dir)

        def host_check(app):
            return stage_host_check.StageHostCheck(
                app, retry_after=7, probe_attempts=1, probe_interval=0)

        if host_check_first:
            pipeline = host_check(stage_digests.StageDigests(glance))
        else:
            pipeline = stage_digests.StageDigests(host_check(glance))
        staged = os.path.join(self.dir, IMAGE_ID)
        found = []

        def send(method, path, body=b''):
            req = webob.Request.blank(path, method=method)
            req.environ.update({'wsgi.input': Stream(body),
                                'CONTENT_LENGTH': str(len(body))})
            if method == 'POST':
                req.content_type = 'application/json'
            if seekable:  # as after a filter that read the body
                req.make_body_seekable()
            resp = req.get_response(pipeline)
            found.append((method, resp.status_int, resp.body,
                          resp.headers.get('Retry-After'),
                          resp.headers.get(stage_host_check.WORKER_HEADER)))

        image = '/v2/images/%s' % IMAGE_ID
        glance_direct = json.dumps(
            {'method': {'name': 'glance-direct'}}).encode()
        send('PUT', image + '/stage', DATA)
        found.append(('record', stage_record.read(staged, IMAGE_ID)))
        send('POST', image + '/import', glance_direct)
        glance.import_status = 500
        send('POST', image + '/import', glance_direct)
        self.refusal = 'the configured plugin list does not run as written'
        send('POST', image + '/import', glance_direct)
        self.refusal = None
        send('DELETE', image)
        found.append(('record left', os.path.exists(
            stage_record.path_of(staged))))
        return found

    def test_stage_host_check_first(self):
        for seekable in (False, True):
            found = self.answers(True, seekable)
            statuses = [entry[1] for entry in found if len(entry) == 5]
            self.assertEqual([204, 202, 503, 500, 204], statuses)
            self.assertEqual(THERE, found[2][4])      # accepted, proxied
            self.assertEqual('7', found[3][3])        # worker down: 503
            self.assertIn(b'does not run as written', found[4][2])
            self.assertEqual(('record left', False), found[-1])

    def test_same_answers_when_no_filter_before_read_the_body(self):
        self.assertEqual(self.answers(True), self.answers(False))

    def test_either_order_once_an_earlier_filter_read_the_body(self):
        # stage_digests' tee cannot be rewound: it tells webob so.
        self.assertEqual(self.answers(True, seekable=True),
                         self.answers(False, seekable=True))
