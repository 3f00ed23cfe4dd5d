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

"""Answer 503 instead of Glance's 500 when the staging worker is down.

Glance proxies a glance-direct import to the worker that staged the data.
When it cannot connect to that worker, Glance 33 answers HTTP 500: it
catches requests' ConnectionError but keystoneauth raises ConnectFailure.
It has changed nothing by then (beyond dropping an expired import lock, as
any import does): the image is still ``uploading`` and the staged data is
on that worker.

Glance decides first. This filter passes ``POST /v2/images/{id}/import``
on, and changes Glance's answer in one case only: Glance answered 500 to
a glance-direct import of an image staged on another worker, the caller
may import that image (Glance's own ``modify_image`` policy, with the
caller's context), the image is still ``uploading`` and staged on that
worker, and that worker is really down (``workers.down``: every one of a
few connection attempts, a short interval apart, is refused or cannot
reach it; a worker that accepts the connection but answers slowly is
alive). Then the answer is 503 with Retry-After and a message naming the
worker. Every other answer passes through unchanged.

A 2xx answer to a proxied import carries ``X-Import-Ext-Staging-Worker``
(the worker the import ran on): Glance accepted the caller's import, so
the caller may know. No other answer carries it; a caller Glance refuses
never learns the worker's URL from this filter.

The image is read with the caller's own context: the filter learns nothing
the caller could not. It goes after ``context`` in the pipeline, with the
paste section README.rst shows (``retry_after``, ``probe_timeout``,
``probe_attempts``, ``probe_interval``).
"""

from oslo_config import cfg
from oslo_log import log as logging
import webob
import webob.dec

from glance_import_ext.common import workers
from glance_import_ext import glance_internals
from glance_import_ext import middleware

LOG = logging.getLogger(__name__)
IMPORT_PATH = middleware.IMPORT_PATH
WORKER_HEADER = 'X-Import-Ext-Staging-Worker'
MAX_URL = 200  # characters of a worker URL quoted in a message


class StageHostCheck:
    """The paste filter: 503, not 500, when the staging worker is down.

    :param app: the next WSGI application of glance-api's pipeline.
    :param retry_after: seconds a 503 asks the client to wait.
    :param probe_timeout: seconds to wait for the worker's answer.
    :param probe_attempts: tries before the worker counts as gone.
    :param probe_interval: seconds between tries.
    """

    def __init__(self, app, retry_after=30, probe_timeout=3.0,
                 probe_attempts=3, probe_interval=1.0):
        self.app = app
        self.retry_after = int(retry_after)
        self.probe_timeout = float(probe_timeout)
        self.probe_attempts = int(probe_attempts)
        self.probe_interval = float(probe_interval)
        if (self.retry_after < 0 or self.probe_timeout <= 0 or
                self.probe_attempts < 1 or self.probe_interval < 0):
            raise ValueError('stage_host_check: retry_after >= 0, '
                             'probe_timeout > 0, probe_attempts >= 1 and '
                             'probe_interval >= 0 are required')

    @webob.dec.wsgify
    def __call__(self, req):
        refused = middleware.broken_plugin_list_answer(req.environ)
        if refused is not None:
            return refused
        match = IMPORT_PATH.match(req.path_info)
        # Glance's ContextMiddleware sets req.context (a webob ad hoc attr).
        context = glance_internals.request_context(req)
        if (req.method != 'POST' or not match or context is None or
                _import_method(req) != 'glance-direct'):
            return req.get_response(self.app)  # Glance proxies no other
        image_id = match.group(1)
        # Read before Glance runs: once the import has started, the staging
        # worker removes its os_glance_stage_host from the image.
        host = self._stage_host(context, image_id)
        resp = req.get_response(self.app)
        if not host or host == workers.this_worker():
            return resp  # Glance did not proxy: nothing to add
        if resp.status_int // 100 == 2:
            resp.headers[WORKER_HEADER] = host
            return resp
        if resp.status_int != 500:
            return resp
        state = self._unreachable(context, image_id, host)
        if state is None:
            return resp
        LOG.warning('Import of image %(image)s: Glance answered 500 and its '
                    'staging worker %(host)s is down (%(state)s); answering '
                    '503', {'image': image_id, 'host': host, 'state': state})
        return self._unavailable(image_id, host)

    @staticmethod
    def _stage_host(context, image_id):
        image = glance_internals.image_or_none(context, image_id)
        if image is None:
            return None  # Glance gives the caller its own answer
        return image['properties'].get(workers.STAGE_HOST)

    def _unreachable(self, context, image_id, host):
        """Why ``host`` is down, if Glance's 500 was its proxy failing.

        None unless the caller may import the image (Glance's own policy),
        the image is still ``uploading`` and staged on ``host`` (so the
        import did not start anywhere), and ``host`` is really down.
        """
        if not self._may_import(context, image_id, host):
            return None
        return workers.down(host, attempts=self.probe_attempts,
                            interval=self.probe_interval,
                            timeout=self.probe_timeout)

    @staticmethod
    def _may_import(context, image_id, host):
        try:
            image = glance_internals.image_repo(context).get(image_id)
            if (image.status != 'uploading' or
                    image.extra_properties.get(workers.STAGE_HOST) != host):
                return False
            return glance_internals.may_modify_image(context, image)
        except Exception as exc:  # any doubt: Glance's answer stands
            LOG.debug('Import of image %s: not checking its staging '
                      'worker: %s', image_id, type(exc).__name__)
            return False

    def _unavailable(self, image_id, host):
        if len(host) > MAX_URL:
            host = host[:MAX_URL] + '...'
        message = ('Image %s was staged on glance-api worker %s, which does '
                   'not accept connections; its staged data is only there. '
                   'The import did not start: the image is still uploading '
                   'and its staged data is kept. Please retry the import '
                   'when that worker is back; if it is gone for good, ask '
                   'an operator to reset the image '
                   '(glance-import-ext-manage imports clean).' % (
                       image_id, host))
        resp = webob.Response(status=503, content_type='application/json',
                              charset='UTF-8')
        resp.json_body = {'error': {'code': 503, 'title': 'Service '
                                    'Unavailable', 'message': message}}
        resp.headers['Retry-After'] = str(self.retry_after)
        return resp


def _import_method(req):
    try:
        return req.json_body['method']['name']
    except (ValueError, KeyError, TypeError):
        return None  # Glance answers a malformed body itself


def register_identity_uri(conf=cfg.CONF):
    """Let Glance 32 and older proxy an import under keystonemiddleware 13.

    Glance up to 32 reads ``[keystone_authtoken] identity_uri`` when it
    proxies a glance-direct import to the staging worker
    (``glance.context.get_ksa_client``); keystonemiddleware 13 no longer
    registers that option, so every proxied import answers 500
    (``NoSuchOptError``). Glance uses the value only as the token
    plugin's endpoint, which the proxy does not need (it calls the worker's
    full URL). Registers the option, default None, when nothing else did;
    returns whether it did.
    """
    from importlib import metadata
    try:  # an older keystonemiddleware registers it itself
        if int(metadata.version('keystonemiddleware').split('.')[0]) < 13:
            return False
    except (metadata.PackageNotFoundError, ValueError):
        pass
    try:
        conf['keystone_authtoken']['identity_uri']
        return False
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError):
        pass
    conf.register_opt(cfg.StrOpt(
        'identity_uri',
        help='Registered by glance-import-ext for Glance 32 and older, '
             'which read it when proxying an import; keystonemiddleware 13 '
             'no longer has it.'), group='keystone_authtoken')
    LOG.info('Registered [keystone_authtoken] identity_uri, which this '
             'Glance reads when it proxies an import to the staging worker')
    return True


def filter_factory(global_conf, **local_conf):
    """The paste ``filter_factory`` of ``stage_host_check``.

    :param global_conf: paste's global configuration (unused).
    :param local_conf: the filter's options from glance-api-paste.ini
        (retry_after, probe_timeout, probe_attempts, probe_interval).
    """
    register_identity_uri()

    def make(app):
        return StageHostCheck(app, **local_conf)
    return make
