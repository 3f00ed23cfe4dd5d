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

"""Configuration and logging of the admin commands, as glance-api reads it.

glance-api.conf, and glance-image-import.conf from the same directory (as
glance-api does); shared with the pre-flight (cmd/status.py).
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import recovery
from glance_import_ext.cmd.manage import values
from glance_import_ext.common import options
from glance_import_ext.common import workers
from glance_import_ext import glance_internals

# Glance database settings for this command: fail in seconds, not after
# oslo.db's default 10 retries 10 s apart.
DB_MAX_RETRIES = 0
DB_RETRY_INTERVAL = 1
DB_CONNECT_TIMEOUT = 5


def version():
    """This library's version, or ``unknown`` when it is not installed."""
    import pbr.version
    try:
        return pbr.version.VersionInfo('glance-import-ext').version_string()
    except Exception:  # not installed: running from a source tree
        return 'unknown'


def config_files(args, environ=os.environ):
    """[glance-image-import.conf if there] + the glance-api.conf files.

    :param args: the parsed arguments (config_file: paths, or None).
    :param environ: the environment (OS_GLANCE_CONFIG_DIR).
    :raises errors.CommandError: no glance-api.conf, or one not readable.
    """
    api_files = list(args.config_file or []) or _default_api_files(environ)
    for path in api_files:
        if not os.path.isfile(path):
            raise errors.CommandError(
                'config file %s not found' % values.show(path, 300),
                'pass the glance-api.conf of the glance-api whose database '
                'to use')
        if not os.access(path, os.R_OK):
            raise errors.CommandError(
                'config file %s is not readable' % values.show(path, 300),
                'run as a user who can read it (e.g. glance)')
    extra = os.path.join(os.path.dirname(os.path.abspath(api_files[0])),
                         'glance-image-import.conf')
    if os.path.isfile(extra) and extra not in map(os.path.abspath,
                                                  api_files):
        return [extra] + api_files
    return api_files


def _default_api_files(environ):
    """glance-api.conf where glance-api looks for it."""
    conf_dir = environ.get('OS_GLANCE_CONFIG_DIR', '').strip()
    if conf_dir:
        candidate = os.path.join(conf_dir, 'glance-api.conf')
        api_files = [candidate] if os.path.isfile(candidate) else []
    else:
        api_files = cfg.find_config_files(project='glance',
                                          prog='glance-api')
    if not api_files:
        raise errors.CommandError(
            'no glance-api.conf found (%s)' % (
                'in $OS_GLANCE_CONFIG_DIR' if conf_dir else
                'in ~/.glance, ~/, /etc/glance, /etc'),
            'run where glance-api is configured, or pass '
            '--config-file /etc/glance/glance-api.conf')
    return api_files


def load_config(args, conf=cfg.CONF):
    """Parse glance-api's configuration; the files read.

    :param args: the parsed arguments (config_file, config_dir).
    :param conf: the ConfigOpts to parse into.
    :raises errors.CommandError: saying what to fix.
    """
    files = config_files(args)
    register_glance_options(conf)
    try:
        conf(args=[], project='glance', prog='glance-api',
             default_config_files=files,
             default_config_dirs=args.config_dir, version=version())
    except cfg.Error as exc:
        raise errors.CommandError(
            'cannot read the configuration: %s' % errors.reason(exc),
            'fix the file named, or pass another with --config-file')
    try:
        # As glance-api does: the staging store's options exist only with
        # multiple backends enabled.
        glance_internals.register_staging_store_options(conf)
    except (cfg.Error, ValueError) as exc:
        raise errors.CommandError(
            'invalid store configuration: %s' % errors.reason(exc),
            'fix [DEFAULT] enabled_backends')
    _db_overrides(conf)
    return files


def register_glance_options(conf):
    """Glance's options, its database's and logging's (also the status).

    :param conf: the ConfigOpts to register them on.
    """
    glance_internals.register_glance_options(conf)
    glance_internals.register_database_options(conf)
    logging.register_options(conf)


def _db_overrides(conf):
    conf.set_override('max_retries', DB_MAX_RETRIES, group='database')
    conf.set_override('retry_interval', DB_RETRY_INTERVAL, group='database')
    try:
        connection = conf.database.connection
        params = conf.database.connection_parameters
    except (cfg.Error, ValueError) as exc:
        raise errors.CommandError(
            'invalid [database] option: %s' % errors.reason(exc),
            'fix it in glance-api.conf')
    if not connection:
        raise errors.CommandError(
            "[database] connection is not set in the configuration read "
            '(%s)' % ', '.join(values.show(f, 200) for f in conf.config_file),
            'pass the glance-api.conf that has it with --config-file')
    scheme = connection.split(':', 1)[0]
    if (not params and (scheme.startswith('mysql') or
                        scheme.startswith('postgresql'))):
        conf.set_override('connection_parameters',
                          'connect_timeout=%d' % DB_CONNECT_TIMEOUT,
                          group='database')


def here_of(conf=cfg.CONF):
    """This configuration's worker: URL, staging dir, heartbeat interval.

    :param conf: the parsed ConfigOpts.
    :returns: a recovery.Here.
    """
    try:
        interval = conf[options.GROUP].heartbeat_interval
        conf[options.GROUP].record_key
        worker = workers.this_worker()
        staging = glance_internals.staging_dir(conf)
    except (cfg.Error, ValueError) as exc:
        raise errors.CommandError('invalid option: %s' % errors.reason(exc),
                                  'fix it in glance-api.conf or '
                                  'glance-image-import.conf')
    return recovery.Here(worker, staging or None, interval)


def setup_logging(args, conf=cfg.CONF):
    """Log where the configuration (or --log-file) says; else nowhere.

    :param args: the parsed arguments (log_file).
    :param conf: the parsed ConfigOpts.
    """
    if args.log_file:
        conf.set_override('log_file', args.log_file)
    try:
        destination = (conf.log_file or conf.use_journal or conf.use_syslog
                       or conf.use_stderr)
    except cfg.Error:
        destination = None
    if not destination:
        # oslo.log would log to stdout, into the command's own output.
        return
    try:
        logging.setup(conf, 'glance-import-ext')
    except (OSError, cfg.Error, ValueError) as exc:
        raise errors.CommandError('cannot log: %s' % errors.reason(exc),
                                  'pass a writable --log-file')
