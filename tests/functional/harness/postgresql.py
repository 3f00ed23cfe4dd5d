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

"""A private PostgreSQL server on 127.0.0.1 (Debian's postgresql).

One server per test process, started with the version's own initdb and
postgres (not Debian's cluster wrappers, which manage system clusters);
every cloud gets databases of its own in it, each reached over TCP with a
password, as a deployment's services reach theirs.

PostgreSQL refuses to run as root. As root, the server runs as the
unprivileged ``postgres`` user the package creates (setpriv, which execs
the server itself, so stopping the service stops the server), in a
directory that user owns; otherwise as the current user.
"""

import glob
import os
import pwd
import shutil
import tempfile

import sqlalchemy.engine

from tests.functional.harness import process

PASSWORD = 'functional-tests'
SUPERUSER = 'postgres'


def bin_dir():
    """The newest installed PostgreSQL's bin directory."""
    found = glob.glob('/usr/lib/postgresql/*/bin/postgres')
    if found:
        found.sort(key=lambda p: int(p.split('/')[-3].split('.')[0]))
        return os.path.dirname(found[-1])
    path = shutil.which('postgres')
    if not path:
        raise process.ServiceFailed(
            "PostgreSQL's postgres not found: install Debian's postgresql "
            '(tools/bootstrap.sh does that)')
    return os.path.dirname(path)


def _as_server_user():
    """(user, command prefix) the server's commands run with."""
    if os.getuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name, []
    try:
        user = pwd.getpwnam('postgres').pw_name
    except KeyError:
        raise process.ServiceFailed(
            "no postgres user to run PostgreSQL as (it refuses root): "
            "install Debian's postgresql")
    return user, [shutil.which('setpriv') or 'setpriv', '--reuid=' + user,
                  '--regid=' + user, '--clear-groups']


class PostgreSQL(process.DirectoryServer):

    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.data_dir = os.path.join(base_dir, 'data')
        self.port = process.free_port()
        self.log = os.path.join(base_dir, 'postgres.log')
        self.service = None
        self._count = 0

    def start(self):
        user, as_user = _as_server_user()
        entry = pwd.getpwnam(user)
        os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)
        binaries = bin_dir()
        # The superuser connects through the socket without a password;
        # the services' user over TCP with its password.
        process.run(as_user + [
            os.path.join(binaries, 'initdb'), '--pgdata=' + self.data_dir,
            '--username=' + SUPERUSER, '--encoding=UTF8', '--locale=C',
            '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync'],
            what='initdb')
        self.service = process.Service('postgres', as_user + [
            os.path.join(binaries, 'postgres'), '-D', self.data_dir,
            '-h', '127.0.0.1', '-p', str(self.port), '-k', self.base_dir,
            '-c', 'max_connections=300', '-c', 'shared_buffers=64MB',
            # Durability is not under test; speed is.
            '-c', 'fsync=off', '-c', 'synchronous_commit=off',
            '-c', 'full_page_writes=off'], self.log)
        self.service.start()
        self.service.wait_until(lambda: self._connect().close() or True,
                                what='accepting connections')

    def _connect(self, dbname='postgres'):
        import psycopg2
        conn = psycopg2.connect(host=self.base_dir, port=self.port,
                                user=SUPERUSER, dbname=dbname)
        conn.autocommit = True  # CREATE DATABASE refuses a transaction
        return conn

    def create_database(self, prefix):
        """A fresh database the services' user owns; its SQLAlchemy URL."""
        self._count += 1
        name = '%s_%d_%d' % (prefix, os.getpid(), self._count)
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = "
                            "'openstack'")
                if not cur.fetchone():
                    cur.execute('CREATE ROLE openstack LOGIN PASSWORD %s',
                                (PASSWORD,))
                cur.execute("CREATE DATABASE %s OWNER openstack "
                            "ENCODING 'UTF8'" % name)
        finally:
            conn.close()
        return 'postgresql+psycopg2://openstack:%s@127.0.0.1:%d/%s' % (
            PASSWORD, self.port, name)

    def query(self, db_url, sql, args=()):
        """Rows (dicts) of ``sql`` in the database of ``db_url``.

        For what no API shows, such as Glance's location rows; as the
        superuser, through the socket.
        """
        import psycopg2.extras
        conn = self._connect(sqlalchemy.engine.make_url(db_url).database)
        try:
            with conn.cursor(
                    cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(sql, args)
                return [dict(row) for row in cur.fetchall()]
        finally:
            conn.close()

    def log_tail(self):
        return self.service.log_tail(5000) if self.service else ''


def server(base_dir):
    """The test process's one PostgreSQL server, started on first use."""
    return process.server_of_process('postgresql', lambda: PostgreSQL(
        tempfile.mkdtemp(prefix='postgresql-', dir=base_dir)))
