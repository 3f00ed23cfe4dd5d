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

"""A real Keystone 30 (fernet tokens) under uWSGI, with regions and users."""

import os

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests

from tests.functional.harness import glance
from tests.functional.harness import process

ADMIN_PASSWORD = 'admin-secret'
SERVICE_PASSWORD = 'glance-secret'
USER_PASSWORD = 'user-secret'
HOME_REGION = 'RegionOne'

UWSGI_INI = """[uwsgi]
http-socket = 127.0.0.1:{port}
module = keystone.wsgi.api:application
master = true
processes = 2
lazy-apps = true
need-app = true
enable-threads = true
die-on-term = true
buffer-size = 65535
add-header = Connection: close
logto = {log}
"""


class Keystone:

    def __init__(self, base_dir, db_url):
        self.dir = os.path.join(base_dir, 'keystone')
        self.conf_dir = os.path.join(self.dir, 'etc')
        os.makedirs(self.conf_dir, exist_ok=True)
        self.port = process.free_port()
        self.url = 'http://127.0.0.1:%d/v3' % self.port
        self.log_file = os.path.join(self.dir, 'keystone.log')
        self.db_url = db_url
        self.service = None
        self._admin = None
        self._ids = {}
        keys = os.path.join(self.dir, 'fernet-keys')
        glance._ini(os.path.join(self.conf_dir, 'keystone.conf'), {
            'DEFAULT': {'debug': 'true', 'log_file': self.log_file},
            'database': {'connection': db_url},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': keys},
            'fernet_receipts': {'key_repository': keys},
            'credential': {'key_repository':
                           os.path.join(self.dir, 'credential-keys')},
        })
        with open(os.path.join(self.conf_dir, 'uwsgi.ini'), 'w') as f:
            f.write(UWSGI_INI.format(
                port=self.port, log=os.path.join(self.dir, 'uwsgi.log')))

    def env(self):
        env = dict(os.environ)
        env['OS_KEYSTONE_CONFIG_DIR'] = self.conf_dir
        return env

    def _manage(self, *args):
        import grp
        import pwd
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        cmd = [os.path.join(glance.BIN_DIR, 'keystone-manage'),
               '--config-file', os.path.join(self.conf_dir, 'keystone.conf')]
        cmd += list(args)
        if args[0] in ('fernet_setup', 'credential_setup'):
            cmd += ['--keystone-user', user, '--keystone-group', group]
        process.run(cmd, env=self.env(), what='keystone-manage ' + args[0])

    def start(self):
        self._manage('db_sync')
        self._manage('fernet_setup')
        self._manage('credential_setup')
        self._manage('bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
                     '--bootstrap-admin-url', self.url,
                     '--bootstrap-public-url', self.url,
                     '--bootstrap-internal-url', self.url,
                     '--bootstrap-region-id', HOME_REGION)
        self.service = process.Service(
            'keystone', [os.path.join(glance.BIN_DIR, 'uwsgi'), '--ini',
                         os.path.join(self.conf_dir, 'uwsgi.ini')],
            os.path.join(self.dir, 'uwsgi.out'), env=self.env())
        self.service.start()
        self.service.wait_until(
            lambda: requests.get(self.url, timeout=2).ok, what='answering')
        self._admin = self.session('admin', ADMIN_PASSWORD, 'admin')
        self.create('projects', 'service')
        self.create('users', 'glance', password=SERVICE_PASSWORD)
        self.grant('glance', 'service', 'admin')
        self.create('services', 'glance', type='image')

    def stop(self):
        if self.service:
            self.service.stop()

    def logs(self):
        try:
            with open(self.log_file, errors='replace') as f:
                return '==> %s <==\n%s' % (self.log_file, f.read()[-30000:])
        except OSError:
            return ''

    # -- identity data -------------------------------------------------
    def session(self, user, password, project):
        auth = v3.Password(auth_url=self.url, username=user,
                           password=password, project_name=project,
                           user_domain_id='default',
                           project_domain_id='default')
        return ks_session.Session(auth=auth)

    def _post(self, collection, body):
        key = collection[:-1]
        resp = self._admin.post('/%s' % collection, json={key: body},
                                endpoint_filter={'service_type': 'identity',
                                                 'interface': 'public'})
        return resp.json()[key]['id']

    def create(self, collection, name, **attrs):
        body = dict(attrs)
        if collection == 'regions':
            body['id'] = name
        else:
            body['name'] = name
        if collection in ('projects', 'users'):
            body['domain_id'] = 'default'
        self._ids[(collection, name)] = self._post(collection, body)
        return self._ids[(collection, name)]

    def id_of(self, collection, name):
        if (collection, name) not in self._ids:
            resp = self._admin.get('/%s?name=%s' % (collection, name),
                                   endpoint_filter={'service_type': 'identity',
                                                    'interface': 'public'})
            self._ids[(collection, name)] = resp.json()[collection][0]['id']
        return self._ids[(collection, name)]

    def grant(self, user, project, role):
        self._admin.put('/projects/%s/users/%s/roles/%s' % (
            self.id_of('projects', project), self.id_of('users', user),
            self.id_of('roles', role)),
            endpoint_filter={'service_type': 'identity',
                             'interface': 'public'})

    def add_region(self, region):
        if region != HOME_REGION:
            self.create('regions', region)

    def add_image_endpoint(self, region, url):
        for interface in ('public', 'internal'):
            self._post('endpoints', {
                'service_id': self.id_of('services', 'glance'),
                'region_id': region, 'interface': interface, 'url': url})

    def add_user(self, name, project, roles=('member', 'reader')):
        try:
            self.id_of('projects', project)
        except (IndexError, KeyError):
            self.create('projects', project)
        self.create('users', name, password=USER_PASSWORD)
        for role in roles:
            self.grant(name, project, role)

    def glance_auth(self, region):
        """[keystone_authtoken] for a glance-api in ``region``.

        region_name names the region of Keystone's own endpoint, also on a
        second region's glance-api, or authtoken cannot find Keystone.
        """
        return {'region': region, 'authtoken': {
            'www_authenticate_uri': self.url,
            'auth_url': self.url,
            'auth_type': 'password',
            'username': 'glance', 'password': SERVICE_PASSWORD,
            'project_name': 'service',
            'user_domain_id': 'default', 'project_domain_id': 'default',
            'region_name': HOME_REGION,
            'service_token_roles_required': 'true',
        }}
