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

"""A private MariaDB Galera cluster: three mariadbd nodes on 127.0.0.1.

Debian's mariadb-server with galera-4, as kolla-ansible and
openstack-ansible deploy it. One cluster per test process; every cloud
gets databases of its own in it, reachable through each node, so that
replicas of one region can write through different nodes.

Node 1 bootstraps the cluster (--wsrep-new-cluster); nodes 2 and 3 join
it one after the other and get its state by rsync SST, which needs no
account or extra package. As root, the nodes run as the unprivileged
``mysql`` user the package creates: the rsync daemon of an SST started by
root drops to ``nobody``, who cannot write the joiner's datadir.
"""

import os
import pwd
import shutil
import tempfile

import pymysql
import sqlalchemy.engine

from tests.functional.harness import mariadb
from tests.functional.harness import process

NODES = 3
PROVIDERS = ('/usr/lib/galera/libgalera_smm.so',
             '/usr/lib/libgalera_smm.so',
             '/usr/lib64/galera-4/libgalera_smm.so',
             '/usr/lib64/galera/libgalera_smm.so')

NODE_CONF = """[mariadbd]
datadir = {data_dir}
socket = {socket}
port = {port}
bind-address = 127.0.0.1
tmpdir = {tmp_dir}
pid-file = {base_dir}/mariadbd.pid
user = {user}
innodb-buffer-pool-size = 64M
innodb-flush-log-at-trx-commit = 2
max-connections = 500
# What Galera requires of every node.
binlog_format = ROW
innodb_autoinc_lock_mode = 2
default_storage_engine = InnoDB
wsrep_on = ON
wsrep_provider = {provider}
wsrep_cluster_name = {cluster}
wsrep_cluster_address = gcomm://{members}
wsrep_node_name = node{number}
wsrep_node_address = 127.0.0.1:{gcomm_port}
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:{sst_port}
# Three nodes on one address: each its own group, IST and SST ports. A
# small gcache: the tests' databases are small.
wsrep_provider_options = gmcast.listen_addr=tcp://127.0.0.1:{gcomm_port};\
ist.recv_addr=127.0.0.1:{ist_port};gcache.size=32M
"""


def provider():
    """The path of galera-4's wsrep provider library."""
    for path in PROVIDERS:
        if os.path.exists(path):
            return path
    raise process.ServiceFailed(
        'libgalera_smm.so not found in %s: install Debian\'s galera-4 '
        '(tools/bootstrap.sh does that)' % ', '.join(PROVIDERS))


def _server_user():
    """The user the nodes run as: root's stand-in is ``mysql``."""
    if os.getuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name
    try:
        return pwd.getpwnam('mysql').pw_name
    except KeyError:
        raise process.ServiceFailed(
            'no mysql user to run Galera nodes as (root is refused by '
            'rsync SST): install Debian\'s mariadb-server')


def _chown_tree(path, user):
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.lchown(name, entry.pw_uid, entry.pw_gid)


class Node:
    """One mariadbd of the cluster: its files, ports and process."""

    def __init__(self, cluster, number):
        self.number = number
        self.base_dir = os.path.join(cluster.base_dir, 'node%d' % number)
        self.data_dir = os.path.join(self.base_dir, 'data')
        self.tmp_dir = os.path.join(self.base_dir, 'tmp')
        self.socket = os.path.join(self.base_dir, 'mariadbd.sock')
        self.conf = os.path.join(self.base_dir, 'my.cnf')
        self.log = os.path.join(self.base_dir, 'mariadbd.log')
        self.port = process.free_port()
        self.gcomm_port = process.free_port()
        self.ist_port = process.free_port()
        self.sst_port = process.free_port()
        self.service = None

    def write_conf(self, cluster):
        os.makedirs(self.tmp_dir, exist_ok=True)
        with open(self.conf, 'w') as f:
            f.write(NODE_CONF.format(
                data_dir=self.data_dir, socket=self.socket, port=self.port,
                tmp_dir=self.tmp_dir, base_dir=self.base_dir,
                user=cluster.user, provider=cluster.provider,
                cluster=os.path.basename(cluster.base_dir),
                members=','.join('127.0.0.1:%d' % n.gcomm_port
                                 for n in cluster.nodes),
                number=self.number, gcomm_port=self.gcomm_port,
                ist_port=self.ist_port, sst_port=self.sst_port))

    def start(self, bootstrap=False):
        # No log-error: mariadbd and its SST scripts write to stderr, the
        # service's log, which a start that fails quotes.
        cmd = [mariadb.find_binary('mariadbd'), '--defaults-file=' + self.conf]
        if bootstrap:
            cmd.append('--wsrep-new-cluster')
        self.service = process.Service('galera node%d' % self.number, cmd,
                                       self.log)
        self.service.start()

    def connect(self, db=None):
        return pymysql.connect(unix_socket=self.socket, user='root',
                               password='', database=db)

    def status(self):
        """The node's wsrep_* status variables, name -> value."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
                return dict(cur.fetchall())
        finally:
            conn.close()

    def synced(self, size):
        status = self.status()
        return (status.get('wsrep_ready') == 'ON' and
                status.get('wsrep_local_state_comment') == 'Synced' and
                status.get('wsrep_cluster_size') == str(size))

    def wait_synced(self, size, timeout=120):
        self.service.wait_until(lambda: self.synced(size), timeout=timeout,
                                what='synced in a cluster of %d' % size)

    def stop(self):
        if self.service:
            self.service.stop(timeout=30)
            self.service = None

    def log_tail(self, max_bytes=4000):
        if self.service:
            return self.service.log_tail(max_bytes)
        return ''


class GaleraCluster:

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.user = None
        self.provider = None
        self.nodes = [Node(self, n) for n in range(1, NODES + 1)]
        self._count = 0

    def start(self):
        self.user = _server_user()
        self.provider = provider()
        for node in self.nodes:
            node.write_conf(self)
        first = self.nodes[0]
        _chown_tree(self.base_dir, self.user)
        process.run([mariadb.find_binary('mariadb-install-db'),
                     '--no-defaults', '--datadir=' + first.data_dir,
                     '--user=' + self.user, '--tmpdir=' + first.tmp_dir,
                     '--auth-root-authentication-method=normal',
                     '--skip-test-db'], what='mariadb-install-db')
        # The joiners' system tables are replaced by the SST; mariadbd only
        # needs a datadir to start from.
        for node in self.nodes[1:]:
            shutil.copytree(first.data_dir, node.data_dir, symlinks=True)
        _chown_tree(self.base_dir, self.user)
        try:
            first.start(bootstrap=True)
            first.wait_synced(1)
            # One joiner at a time: each needs a donor for its SST.
            for size, node in enumerate(self.nodes[1:], start=2):
                node.start()
                node.wait_synced(size)
            for node in self.nodes:
                node.wait_synced(NODES)
        except process.ServiceFailed as exc:
            raise process.ServiceFailed('Galera cluster did not form: %s\n%s'
                                        % (exc, self.log_tail()))

    def create_database(self, prefix):
        """A fresh database and its user, created through node 1.

        Galera replicates the DDL and the grants to every node. Returns
        the SQLAlchemy URLs of the database, one per node (TCP), in node
        order.
        """
        self._count += 1
        name = '%s_%d_%d' % (prefix, os.getpid(), self._count)
        conn = self.nodes[0].connect()
        try:
            with conn.cursor() as cur:
                cur.execute('CREATE DATABASE %s CHARACTER SET utf8' % name)
                for host in ('%', 'localhost'):
                    cur.execute("CREATE USER IF NOT EXISTS 'openstack'@%s "
                                "IDENTIFIED BY %s", (host, mariadb.PASSWORD))
                    cur.execute("GRANT ALL ON *.* TO 'openstack'@%s", (host,))
        finally:
            conn.close()
        return ['mysql+pymysql://openstack:%s@127.0.0.1:%d/%s?charset=utf8'
                % (mariadb.PASSWORD, node.port, name) for node in self.nodes]

    def query(self, db_url, sql, args=()):
        """Rows (dicts) of ``sql`` in the database of ``db_url``.

        Read on the node ``db_url`` connects to (its port): the node a
        worker of that URL wrote through, which applied its writes (the
        others apply them asynchronously).
        """
        url = sqlalchemy.engine.make_url(db_url)
        [node] = [n for n in self.nodes if n.port == url.port]
        return mariadb.dict_rows(node.connect(url.database), sql, args)

    def stop(self):
        for node in reversed(self.nodes):
            node.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def log_tail(self):
        return '\n'.join('==> galera node%d <==\n%s' % (n.number, n.log_tail())
                         for n in self.nodes)


def server(base_dir):
    """The test process's one Galera cluster, started on first use."""
    return process.server_of_process('galera', lambda: GaleraCluster(
        tempfile.mkdtemp(prefix='galera-', dir=base_dir)))
