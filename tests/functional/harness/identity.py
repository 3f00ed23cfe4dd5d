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

"""Test-only identity for glance-api without Keystone.

A paste filter that turns a token of the form
``noauth:<user>:<project>:<role,role>`` into the headers keystonemiddleware
would set. Identity stays inside the token because a worker that proxies an
import to the staging worker forwards only X-Auth-Token.
Never deploy this: it trusts whatever the caller writes.
"""

from oslo_config import cfg
import webob.dec
import webob.exc

# Glance reads [keystone_authtoken] auth_url (or www_authenticate_uri) when
# it builds the client that proxies an import to another worker; without
# keystonemiddleware loaded the options would not exist. The client calls
# the worker's full URL, so the value itself is never contacted.
cfg.CONF.register_opts([cfg.StrOpt('auth_url'),
                        cfg.StrOpt('www_authenticate_uri')],
                       group='keystone_authtoken')


def token(user, project, roles=('member', 'reader')):
    return 'noauth:%s:%s:%s' % (user, project, ','.join(roles))


class NoAuthIdentity:

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        for name in ('X-Identity-Status', 'X-User-Id', 'X-Project-Id',
                     'X-Roles', 'X-Tenant-Id'):
            req.headers.pop(name, None)
        parts = req.headers.get('X-Auth-Token', '').split(':')
        if len(parts) != 4 or parts[0] != 'noauth':
            return webob.exc.HTTPUnauthorized(
                explanation='test identity: expected a token '
                            'noauth:<user>:<project>:<roles>')
        _, user, project, roles = parts
        req.headers['X-Identity-Status'] = 'Confirmed'
        req.headers['X-User-Id'] = user
        req.headers['X-Project-Id'] = project
        req.headers['X-Roles'] = roles
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return NoAuthIdentity
