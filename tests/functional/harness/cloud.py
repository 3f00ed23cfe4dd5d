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

"""Clouds the functional tests and the demo run: real services, wired up.

``Cloud`` is a context manager; leaving it stops every process it started,
also when a test fails half-way.

The database server (one per test process) is MariaDB unless the cloud
or the environment variable GIE_TEST_DATABASE names another of DATABASES.
"""

import os
import shutil
import tempfile

from tests.functional.harness import client
from tests.functional.harness import galera
from tests.functional.harness import glance
from tests.functional.harness import identity
from tests.functional.harness import keystone as keystone_mod
from tests.functional.harness import mariadb
from tests.functional.harness import postgresql
from tests.functional.harness import process

# name -> the function giving the test process's server of that kind.
DATABASES = {'mariadb': mariadb.server, 'galera': galera.server,
             'postgresql': postgresql.server}
DATABASE_VARIABLE = 'GIE_TEST_DATABASE'


def default_database():
    """The database GIE_TEST_DATABASE names, or mariadb."""
    return os.environ.get(DATABASE_VARIABLE) or 'mariadb'


class Cloud:

    def __init__(self, keep_dir=False, base_dir=None, database=None):
        self.database = database or default_database()
        if self.database not in DATABASES:
            raise ValueError('unknown database %r (%s): one of %s' % (
                self.database, DATABASE_VARIABLE, ', '.join(DATABASES)))
        self.base_dir = base_dir or tempfile.mkdtemp(prefix='gie-cloud-')
        self.keep_dir = keep_dir
        self.workers = {}   # name -> GlanceAPI
        self.keystone = None
        self.db = DATABASES[self.database](tempfile.gettempdir())
        self._region_db = {}   # region -> its database's URL on each node
        # Glance 33 filters glance-download and web-download URLs by port:
        # every worker allows the ports of the whole cloud, known up front.
        self.ports = [process.free_port() for _ in range(8)]
        self._free_ports = list(self.ports)

    def reserve_port(self):
        """A port every glance-api of this cloud accepts in import URLs."""
        return self._free_ports.pop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        for worker in self.workers.values():
            worker.stop()
        if self.keystone:
            self.keystone.stop()
        if not self.keep_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _database(self, prefix):
        """A new database's URLs, one per node (Galera has several)."""
        urls = self.db.create_database(prefix)
        return [urls] if isinstance(urls, str) else list(urls)

    def with_keystone(self):
        self.keystone = keystone_mod.Keystone(
            self.base_dir, self._database('keystone')[0])
        self.keystone.start()
        return self

    def add_glance(self, name, region='RegionOne', plugins=(), start=True,
                   catalog_url=None, db_node=1, **kwargs):
        """A glance-api worker; workers of one region are its replicas.

        ``catalog_url``: what the catalog lists as the region's image
        endpoint, when not the worker itself (a proxy in front of it).
        ``db_node``: the node (from 1) of a Galera cluster the worker
        connects to; other servers have node 1 only.
        """
        first = region not in self._region_db
        if first:
            self._region_db[region] = self._database('glance')
        urls = self._region_db[region]
        if not 1 <= db_node <= len(urls):
            raise ValueError('db_node %r: the %s server has nodes 1 to %d'
                             % (db_node, self.database, len(urls)))
        if self.database == 'galera':
            kwargs['import_conf'] = self._with_lineage_lock(
                kwargs.get('import_conf'))
        auth = self.keystone.glance_auth(region) if self.keystone else None
        worker = glance.GlanceAPI(
            name, self.base_dir, urls[db_node - 1],
            os.path.join(self.base_dir, 'store-' + region), plugins=plugins,
            auth=auth, port=self.reserve_port(), allowed_ports=self.ports,
            **kwargs)
        self.workers[name] = worker
        if first:
            worker.db_sync()
            if self.keystone:
                self.keystone.add_region(region)
                self.keystone.add_image_endpoint(region,
                                                 catalog_url or worker.url)
        if start:
            worker.start()
        return worker

    def _with_lineage_lock(self, import_conf):
        """``import_conf`` with a tooz lock for image_versions, if unset.

        A Galera node's GET_LOCK holds on that node only: image_versions
        refuses to run there without [image_versions] coordination_url, a
        lock every replica shares. Deployments point it at etcd, redis or
        zookeeper; on one machine tooz's file driver is such a lock.
        """
        import_conf = dict(import_conf or {})
        versions = dict(import_conf.get('image_versions', {}))
        versions.setdefault('coordination_url', 'file://' + os.path.join(
            self.base_dir, 'lineage-locks'))
        import_conf['image_versions'] = versions
        return import_conf

    def client(self, worker, user='alice', project='demo',
               roles=('member', 'reader')):
        """An Image API client acting as ``user`` on ``worker``."""
        url = self.workers[worker].url
        if self.keystone:
            password = (keystone_mod.ADMIN_PASSWORD if user == 'admin'
                        else keystone_mod.USER_PASSWORD)
            sess = self.keystone.session(user, password, project)
            return client.ImageClient(url, sess.get_token())
        return client.ImageClient(url, identity.token(user, project, roles))

    def add_user(self, user, project, roles=('member', 'reader')):
        if self.keystone:
            self.keystone.add_user(user, project, roles)

    def logs(self):
        parts = [w.logs() for w in self.workers.values()]
        if self.keystone:
            parts.append(self.keystone.logs())
        parts.append('==> %s server log <==\n%s' % (
            self.database, self.db.log_tail()))
        return '\n'.join(parts)
