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

"""A private MariaDB server on a unix socket (Debian's mariadb-server).

One server per test process; every cloud the tests build gets databases of
its own in it. sqlite is no substitute: Glance 33's threaded import tasks
lose writes to "database is locked" under it.
"""

import os
import pwd
import shutil
import tempfile

import pymysql
import sqlalchemy.engine

from tests.functional.harness import process

PASSWORD = 'functional-tests'


def find_binary(binary):
    for d in ('/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'):
        path = os.path.join(d, binary)
        if os.access(path, os.X_OK):
            return path
    path = shutil.which(binary)
    if not path:
        raise process.ServiceFailed(
            '%s not found: install Debian\'s mariadb-server '
            '(tools/test.sh does that)' % binary)
    return path


class MariaDB(process.DirectoryServer):

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.data_dir = os.path.join(base_dir, 'data')
        # Private: concurrent bootstraps sharing /tmp collide on their
        # temporary tables ("Could not remove temporary table").
        self.tmp_dir = os.path.join(base_dir, 'tmp')
        self.socket = os.path.join(base_dir, 'mariadbd.sock')
        self.service = None
        self._count = 0

    def start(self):
        os.makedirs(self.tmp_dir, exist_ok=True)
        user = _current_user()
        process.run([find_binary('mariadb-install-db'), '--no-defaults',
                     '--datadir=' + self.data_dir, '--user=' + user,
                     '--tmpdir=' + self.tmp_dir,
                     '--auth-root-authentication-method=normal',
                     '--skip-test-db'], what='mariadb-install-db')
        cmd = [find_binary('mariadbd'), '--no-defaults',
               '--datadir=' + self.data_dir, '--socket=' + self.socket,
               '--skip-networking', '--user=' + user,
               '--tmpdir=' + self.tmp_dir,
               '--pid-file=' + os.path.join(self.base_dir, 'mariadbd.pid'),
               '--innodb-buffer-pool-size=64M',
               '--innodb-flush-log-at-trx-commit=2',
               '--max-connections=500',
               '--log-error=' + os.path.join(self.base_dir, 'error.log')]
        self.service = process.Service(
            'mariadbd', cmd, os.path.join(self.base_dir, 'mariadbd.out'))
        self.service.start()
        self.service.wait_until(lambda: self._connect('root', '').close()
                                or True, what='accepting connections')

    def _connect(self, user, password, db=None):
        return pymysql.connect(unix_socket=self.socket, user=user,
                               password=password, database=db)

    def create_database(self, prefix):
        """A fresh database and its user; returns the SQLAlchemy URL."""
        self._count += 1
        name = '%s_%d_%d' % (prefix, os.getpid(), self._count)
        conn = self._connect('root', '')
        try:
            with conn.cursor() as cur:
                cur.execute('CREATE DATABASE %s CHARACTER SET utf8' % name)
                cur.execute("CREATE USER IF NOT EXISTS 'openstack'@'localhost'"
                            " IDENTIFIED BY %s", (PASSWORD,))
                cur.execute("GRANT ALL ON *.* TO 'openstack'@'localhost'")
        finally:
            conn.close()
        return ('mysql+pymysql://openstack:%s@localhost/%s'
                '?unix_socket=%s&charset=utf8' % (PASSWORD, name, self.socket))

    def query(self, db_url, sql, args=()):
        """Rows (dicts) of ``sql`` in the database of ``db_url``.

        For what no API shows, such as Glance's location rows.
        """
        name = sqlalchemy.engine.make_url(db_url).database
        return dict_rows(self._connect('root', '', name), sql, args)

    def log_tail(self):
        path = os.path.join(self.base_dir, 'error.log')
        try:
            with open(path, errors='replace') as f:
                return f.read()[-5000:]
        except OSError:
            return ''


def dict_rows(conn, sql, args=()):
    """Rows (dicts) of ``sql`` on the pymysql connection ``conn``.

    The connection is closed after. Galera's nodes are queried so too.
    """
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def _current_user():
    return pwd.getpwuid(os.getuid()).pw_name


def server(base_dir):
    """The test process's one MariaDB server, started on first use."""
    return process.server_of_process('mariadb', lambda: MariaDB(
        tempfile.mkdtemp(prefix='mariadb-', dir=base_dir)))
