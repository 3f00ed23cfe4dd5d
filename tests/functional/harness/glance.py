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

"""One glance-api worker under uWSGI, configured like a real deployment."""

import collections
import configparser
import importlib.util
import os
import re
import sys

import requests

from tests.functional.harness import process

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
BIN_DIR = os.path.dirname(sys.executable)
# The library's paste filter, as an operator adds it (see README.rst).
STAGE_HOST_CHECK = ('stage_host_check', {
    'paste.filter_factory':
        'glance_import_ext.middleware.stage_host_check:filter_factory',
    'retry_after': '15', 'probe_timeout': '2'})
STAGE_DIGESTS = ('stage_digests', {
    'paste.filter_factory':
        'glance_import_ext.middleware.stage_digests:filter_factory'})
IMPORT_METHODS = '[glance-direct,web-download,copy-image,glance-download]'
# The start of an oslo.log line: date, time, the writing process's pid.
LOG_LINE = re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (\d+) ')

UWSGI_INI = """[uwsgi]
http-socket = 127.0.0.1:{port}
{wsgi_app}
pythonpath = {repo_root}
pythonpath = {extra_path}
master = true
processes = {processes}
lazy-apps = true
need-app = true
enable-threads = true
die-on-term = true
exit-on-reload = true
buffer-size = 65535
http-chunked-input = true
http-auto-chunked = true
http-raw-body = true
chunked-input-limit = 1073741824
socket-timeout = 60
add-header = Connection: close
logto = {uwsgi_log}
"""


def wsgi_app():
    """The uWSGI line that loads glance-api's WSGI application.

    Glance 30 and later have ``glance.wsgi.api:application``; Glance 28 and
    29 ship pbr's ``glance-wsgi-api`` script instead (which Glance 32 and
    later no longer ship).
    """
    try:
        found = importlib.util.find_spec('glance.wsgi.api') is not None
    except ImportError:  # no glance.wsgi package at all
        found = False
    if found:
        return 'module = glance.wsgi.api:application'
    script = os.path.join(BIN_DIR, 'glance-wsgi-api')
    if os.path.exists(script):
        return 'wsgi-file = %s' % script
    raise process.ServiceFailed(
        'this Glance has neither glance.wsgi.api nor %s' % script)


def _ini(path, sections):
    """Write an ini file; a list value repeats its key (MultiStrOpt)."""
    with open(path, 'w') as f:
        for section, values in sections.items():
            f.write('[%s]\n' % section)
            for key, value in values.items():
                items = value if isinstance(value, (list, tuple)) else [value]
                for item in items:
                    f.write('%s = %s\n' % (key, item))
            f.write('\n')


class GlanceAPI:
    """A glance-api worker with its own staging dir.

    ``region`` groups workers: those of one region share a database and an
    image store, as replicas of one deployment do; each keeps its own
    staging dir and announces its own ``worker_self_reference_url``.
    """

    def __init__(self, name, base_dir, db_url, store_dir, plugins=(),
                 auth=None, conf=None, import_conf=None, paste_filters=(),
                 processes=1, port=None, allowed_ports=(),
                 test_plugins=None, stores=('local',),
                 max_parallel_stores=None):
        self.name = name
        self.dir = os.path.join(base_dir, name)
        self.conf_dir = os.path.join(self.dir, 'etc')
        self.staging_dir = os.path.join(self.dir, 'staging')
        self.store_dir = store_dir
        # name -> datadir of each file store, the first the default. One
        # store keeps the datadir itself, as before stores existed.
        self.stores = {name: (store_dir if len(stores) == 1 else
                              os.path.join(store_dir, name))
                       for name in stores}
        self.max_parallel_stores = max_parallel_stores
        self.db_url = db_url
        self.plugins = list(plugins)
        self.auth = auth  # None: test identity filter; else keystone settings
        self.conf = conf or {}
        self.import_conf = import_conf or {}
        self.paste_filters = list(paste_filters)
        self.processes = processes
        self.port = port or process.free_port()
        self.allowed_ports = sorted({80, 443, self.port, *allowed_ports})
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log_file = os.path.join(self.dir, 'glance-api.log')
        self.uwsgi_log = os.path.join(self.dir, 'uwsgi.log')
        self.service = None
        # {name: 'module:get_flow'}: test-only import plugins, registered
        # as entry points of a dist-info only this worker's path sees.
        self.test_plugins = dict(test_plugins or {})
        self.extra_path = os.path.join(self.dir, 'test-plugins')
        for d in (self.conf_dir, self.staging_dir, self.store_dir,
                  *self.stores.values(), os.path.join(self.dir, 'tasks')):
            os.makedirs(d, exist_ok=True)
        self.write_config()

    # -- configuration -------------------------------------------------
    def write_config(self):
        api = {
            'DEFAULT': {
                'debug': 'true',
                'log_file': self.log_file,
                'enabled_backends': ','.join(
                    '%s:file' % name for name in self.stores),
                'enabled_import_methods': IMPORT_METHODS,
                'worker_self_reference_url': self.url,
                'public_endpoint': self.url,
                'image_size_cap': 8 * 1024 ** 3,
            },
            'database': {'connection': self.db_url},
            'glance_store': {'default_backend': next(iter(self.stores))},
            'os_glance_staging_store': {
                'filesystem_store_datadir': self.staging_dir},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': os.path.join(self.dir, 'tasks')},
            'import_filtering_opts': {
                'allowed_hosts': '[127.0.0.1,localhost]',
                'allowed_ports': '[%s]' % ','.join(
                    str(p) for p in self.allowed_ports)},
            'paste_deploy': {
                'flavor': 'functional',
                'config_file': os.path.join(self.conf_dir,
                                            'glance-api-paste.ini')},
            'oslo_policy': {'enforce_new_defaults': 'true',
                            'enforce_scope': 'true'},
        }
        for name, datadir in self.stores.items():
            api[name] = {'filesystem_store_datadir': datadir}
        if self.auth:
            api['keystone_authtoken'] = dict(self.auth['authtoken'])
            api['DEFAULT']['region_name'] = self.auth.get('region', '')
        else:
            api['keystone_authtoken'] = {'auth_url': self.url}
        for section, values in self.conf.items():
            api.setdefault(section, {}).update(values)
        _ini(os.path.join(self.conf_dir, 'glance-api.conf'), api)

        imp = {'image_import_opts': {
            'image_import_plugins': '[%s]' % ','.join(self.plugins)}}
        if self.max_parallel_stores is not None:
            # Glance reads [image_import_opts] from glance-image-import.conf
            # and glance-api.conf alike (wsgi_app._get_config_files).
            imp['image_import_opts']['max_parallel_stores'] = str(
                self.max_parallel_stores)
        for section, values in self.import_conf.items():
            imp.setdefault(section, {}).update(values)
        _ini(os.path.join(self.conf_dir, 'glance-image-import.conf'), imp)
        self._write_paste()
        self._write_test_plugins()
        with open(os.path.join(self.conf_dir, 'uwsgi.ini'), 'w') as f:
            f.write(UWSGI_INI.format(port=self.port, wsgi_app=wsgi_app(),
                                     repo_root=REPO_ROOT,
                                     extra_path=self.extra_path,
                                     processes=self.processes,
                                     uwsgi_log=self.uwsgi_log))

    def _write_paste(self):
        # Start from the paste file the installed Glance ships, so the
        # pipeline is Glance's own with only the identity step chosen here.
        shipped = os.path.join(sys.prefix, 'etc', 'glance',
                               'glance-api-paste.ini')
        paste = configparser.ConfigParser(interpolation=None)
        paste.optionxform = str
        paste.read(shipped)
        if not paste.has_section('composite:api'):
            raise process.ServiceFailed('no Glance paste file at ' + shipped)
        identity = 'authtoken' if self.auth else 'testidentity'
        # Filters of this library read Glance's request context: after it.
        filters = ' '.join([
            'cors', 'http_proxy_to_wsgi', 'versionnegotiation', 'osprofiler',
            identity, 'context'] + [name for name, _ in self.paste_filters] +
            ['rootapp'])
        paste['composite:api']['functional'] = filters
        paste['composite:glance-api-functional'] = dict(
            paste['composite:glance-api'])
        paste['filter:testidentity'] = {
            'paste.filter_factory':
                'tests.functional.harness.identity:filter_factory'}
        for name, section in self.paste_filters:
            paste['filter:' + name] = section
        paste['app:healthcheck']['disable_by_file_path'] = os.path.join(
            self.dir, 'healthcheck_disable')
        with open(os.path.join(self.conf_dir, 'glance-api-paste.ini'),
                  'w') as f:
            paste.write(f)

    def _write_test_plugins(self):
        if not self.test_plugins:
            return
        info = os.path.join(self.extra_path,
                            'gie_functional_plugins-0.0.0.dist-info')
        os.makedirs(info, exist_ok=True)
        with open(os.path.join(info, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: gie-functional-plugins\n'
                    'Version: 0.0.0\n')
        with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
            f.write('[glance.image_import.plugins]\n')
            for name, target in self.test_plugins.items():
                f.write('%s = %s\n' % (name, target))

    def env(self):
        env = dict(os.environ)
        env['OS_GLANCE_CONFIG_DIR'] = self.conf_dir
        env['PYTHONPATH'] = os.pathsep.join(
            [REPO_ROOT, self.extra_path, env.get('PYTHONPATH', '')])
        return env

    def db_sync(self):
        process.run([os.path.join(BIN_DIR, 'glance-manage'), '--config-file',
                     os.path.join(self.conf_dir, 'glance-api.conf'),
                     'db_sync'], env=self.env(), what='glance-manage db_sync')

    # -- lifecycle -----------------------------------------------------
    def start(self):
        self.service = process.Service(
            'glance-api %s' % self.name,
            [os.path.join(BIN_DIR, 'uwsgi'), '--ini',
             os.path.join(self.conf_dir, 'uwsgi.ini')],
            os.path.join(self.dir, 'uwsgi.out'), env=self.env())
        self.service.start()
        self.service.wait_until(self._healthy, what='healthy')

    def _healthy(self):
        return requests.get(self.url + '/healthcheck', timeout=2).ok

    def stop(self):
        if self.service:
            self.service.stop()

    def run_command(self, *args):
        """Run one of this library's console scripts with this config."""
        import subprocess
        return subprocess.run(
            [os.path.join(BIN_DIR, args[0]), '--config-file',
             os.path.join(self.conf_dir, 'glance-api.conf')] + list(args[1:]),
            env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=120)

    def command(self, *args, config_files=None, timeout=120, env=None):
        """Run a console script of this library; stdout and stderr apart.

        ``config_files``: the --config-file arguments (default: this
        worker's glance-api.conf; ``[]`` for none).
        """
        import subprocess
        if config_files is None:
            config_files = [os.path.join(self.conf_dir, 'glance-api.conf')]
        cmd = [os.path.join(BIN_DIR, args[0])]
        for path in config_files:
            cmd += ['--config-file', path]
        return subprocess.run(
            cmd + list(args[1:]), env=env or self.env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=timeout)

    def worker_pids(self):
        """PIDs of this glance-api's uWSGI worker processes (not master)."""
        import subprocess
        if not self.running:
            return []
        found = subprocess.run(['pgrep', '-P', str(self.service.proc.pid)],
                               stdout=subprocess.PIPE, text=True)
        return sorted(int(pid) for pid in found.stdout.split())

    def kill_worker(self, pid, timeout=30):
        """SIGKILL one uWSGI worker process of this glance-api.

        What a crash or an escalated SIGTERM does: the process and every
        thread in it (import tasks, the library's keepalive) die at once;
        uWSGI's master starts a new worker. Returns once ``pid`` is gone
        and the service answers again.
        """
        import signal
        import time
        if pid not in self.worker_pids():
            raise ValueError('%s is not a worker process of glance-api %s '
                             '(workers: %s)' % (pid, self.name,
                                                self.worker_pids()))
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while pid in self.worker_pids():
            if time.monotonic() > deadline:
                raise process.ServiceFailed('worker %d of %s did not die' % (
                    pid, self.name))
            time.sleep(0.1)
        self.service.wait_until(self._healthy, timeout=timeout,
                                what='healthy after a worker was killed')

    def log_pids(self, *texts):
        """{pid: lines} of glance-api's log lines holding all ``texts``.

        oslo.log's lines start with the date, the time and the pid of the
        process that wrote them; lines that do not (a traceback's
        continuation) are left out.
        """
        found = collections.Counter()
        try:
            with open(self.log_file, errors='replace') as f:
                for line in f:
                    match = LOG_LINE.match(line)
                    if match and all(text in line for text in texts):
                        found[int(match.group(1))] += 1
        except FileNotFoundError:
            pass
        return dict(found)

    @property
    def running(self):
        return self.service is not None and self.service.running

    def logs(self):
        out = []
        for path in (self.log_file, self.uwsgi_log):
            try:
                with open(path, errors='replace') as f:
                    out.append('==> %s <==\n%s' % (path, f.read()))
            except OSError:
                pass
        return '\n'.join(out)
