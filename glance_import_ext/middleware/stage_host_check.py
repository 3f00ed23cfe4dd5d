"""Answer 503 instead of 500 when the worker holding staged data is down.

Glance proxies a glance-direct import to the worker that staged the data.
When that worker does not answer, Glance 33 answers HTTP 500: it catches
requests' ConnectionError but keystoneauth raises ConnectFailure. This
filter looks first: for ``POST /v2/images/{id}/import`` of an image staged
on another worker that does not answer, it answers 503 with Retry-After
and leaves image and staged data untouched, so the same import succeeds
once the worker is back. Otherwise the request goes on to Glance, and a
response to a proxied import says where it went
(``X-Import-Ext-Staging-Worker``).

The image is read with the caller's own context: the filter learns nothing
the caller could not. It goes after ``context`` in the pipeline, with
the paste section README.rst shows (``retry_after``, ``probe_timeout``).
"""

import re

from oslo_log import log as logging
import webob
import webob.dec

from glance_import_ext.common import workers

LOG = logging.getLogger(__name__)
IMPORT_PATH = re.compile(r'^/v2/images/([0-9a-fA-F-]{36})/import/?$')
WORKER_HEADER = 'X-Import-Ext-Staging-Worker'


class StageHostCheck:

    def __init__(self, app, retry_after=30, probe_timeout=3.0):
        self.app = app
        self.retry_after = int(retry_after)
        self.probe_timeout = float(probe_timeout)

    @webob.dec.wsgify
    def __call__(self, req):
        match = IMPORT_PATH.match(req.path_info)
        # Glance's ContextMiddleware sets req.context (a webob ad hoc attr).
        context = getattr(req, 'context', None)
        if (req.method != 'POST' or not match or context is None or
                _import_method(req) != 'glance-direct'):
            return req.get_response(self.app)  # Glance proxies no other
        image_id = match.group(1)
        host = self._stage_host(context, image_id)
        if not host or host == workers.this_worker():
            return req.get_response(self.app)
        if not workers.answers(host, self.probe_timeout):
            LOG.warning('Import of image %s refused for now: its staging '
                        'worker %s does not answer', image_id, host)
            return self._unavailable(image_id, host)
        resp = req.get_response(self.app)
        if resp.status_int // 100 == 2:
            resp.headers[WORKER_HEADER] = host
        return resp

    @staticmethod
    def _stage_host(context, image_id):
        from glance.common import exception
        import glance.db
        try:
            image = glance.db.get_api().image_get(context, image_id)
        except (exception.NotFound, exception.Forbidden):
            return None  # Glance gives the caller its own answer
        for prop in image.get('properties', ()):
            if prop['name'] == workers.STAGE_HOST and not prop['deleted']:
                return prop['value']
        return None

    def _unavailable(self, image_id, host):
        message = ('Image %s was staged on glance-api worker %s, which does '
                   'not answer; its staged data is only there. The image and '
                   'its staged data are unchanged: retry the import when '
                   'that worker is back.' % (image_id, host))
        resp = webob.Response(status=503, content_type='application/json',
                              charset='UTF-8')
        resp.json_body = {'error': {'code': 503, 'title': 'Service '
                                    'Unavailable', 'message': message}}
        resp.headers['Retry-After'] = str(self.retry_after)
        resp.headers[WORKER_HEADER] = host
        return resp


def _import_method(req):
    try:
        return req.json_body['method']['name']
    except (ValueError, KeyError, TypeError):
        return None  # Glance answers a malformed body itself


def filter_factory(global_conf, **local_conf):
    def make(app):
        return StageHostCheck(app, **local_conf)
    return make
