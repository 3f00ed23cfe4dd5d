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

"""glance-import-ext-manage: the admin command of glance-import-ext.

Run it where glance-api's configuration is: it reads glance-api.conf and,
from the same directory, glance-image-import.conf (as glance-api does), and
works on Glance's database::

    glance-import-ext-manage imports list [-f json]
    glance-import-ext-manage imports recover [--image ID] [--apply]
    glance-import-ext-manage imports clean --worker URL \
        [--action delete] [--apply]
    glance-import-ext-manage versions rotate [IMAGE ...] [--apply]
    glance-import-ext-manage records verify [IMAGE ...] [-f json]
    glance-import-ext-manage upgrade check [--json]

Nothing here ever changes an image whose import is alive (assess.py), and
every change is conditional on what was read (recovery.py). Worker URLs
are validated (http or https, with a host) before they are compared or
probed; values are escaped when printed (values.py).

Exit codes: 0 done, or nothing to do; 1 refused (a live import or a worker
that answers would be touched, something changed meanwhile; for records
verify: forged, rolled-back, removed or unsealed records found); 2 error
(arguments, configuration, database). upgrade check: oslo.upgradecheck's.
"""

import logging as std_logging
import sys
import warnings

from oslo_log import log as logging

from glance_import_ext.cmd.manage import config
from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import glance_db
from glance_import_ext.cmd.manage import imports
from glance_import_ext.cmd.manage import parser
from glance_import_ext.cmd.manage import records
from glance_import_ext.cmd.manage import upgrade
from glance_import_ext.cmd.manage import values
from glance_import_ext.cmd.manage import versions
from glance_import_ext.common import keepalive

LOG = logging.getLogger(__name__)

PROG = errors.PROG

# What runs each action on Glance's database: (db, args, out, here, now).
COMMANDS = {
    ('imports', 'list'): imports.list_imports,
    ('imports', 'recover'): imports.recover_imports,
    ('imports', 'clean'): imports.clean_worker,
    ('versions', 'rotate'): versions.rotate_versions,
    ('records', 'verify'): records.verify_records,
}


def main(argv=None, out=None, err=None):
    """Run one action of glance-import-ext-manage; its exit code.

    :param argv: the arguments (default: sys.argv[1:]).
    :param out: where results go (default: stdout).
    :param err: where errors go (default: stderr).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    # Nothing but the command's own lines: no library's deprecation
    # warnings, no log records before (or without) a log destination.
    warnings.simplefilter('ignore')
    std_logging.getLogger().addHandler(std_logging.NullHandler())
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.build_parser().parse_args(argv)
    if args.category == 'upgrade':
        return upgrade.check(args)
    return run_on_database(args, argv, out, err)


def run_on_database(args, argv, out, err):
    """Run an action on Glance's database; one line on ``err`` if it fails.

    :param args: the parsed arguments.
    :param argv: the arguments as given (logged).
    :param out: where results go.
    :param err: where errors go.
    """
    files = []
    try:
        parser.check_args(args)
        files = config.load_config(args)
        config.setup_logging(args)
        here = config.here_of()
        db = glance_db.GlanceDb()
        LOG.info('%s %s: %s', PROG, config.version(),
                 ' '.join(values.show(a, 200) for a in argv))
        command = COMMANDS[(args.category, args.category_action)]
        return command(db, args, out, here, keepalive.utcnow())
    except errors.CommandError as exc:
        err.write('%s: error: %s\n' % (PROG, exc))
        return errors.EXIT_ERROR
    except Exception as exc:
        error = glance_db.database_error(exc, files)
        if error is None:
            LOG.exception('%s failed', PROG)
            error = errors.CommandError('unexpected %s: %s' % (
                type(exc).__name__, errors.reason(exc)),
                'details in the log (--log-file)')
        err.write('%s: error: %s\n' % (PROG, error))
        return errors.EXIT_ERROR
