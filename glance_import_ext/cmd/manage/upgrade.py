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

"""``upgrade check``: the pre-flight of glance-import-ext-status.

The same checks and exit codes (oslo.upgradecheck's): the arguments are
handed to cmd/status.py as its command line.
"""

from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd import status


def status_argv(args):
    """The glance-import-ext-status command line that does the same.

    :param args: the parsed arguments (config_file, config_dir, json).
    """
    argv = []
    for path in args.config_file or []:
        argv += ['--config-file', path]
    for directory in args.config_dir or []:
        argv += ['--config-dir', directory]
    return argv + ['upgrade', 'check'] + (['--json'] if args.json else [])


def check(args):
    """Run the pre-flight checks; the exit code of the worst result.

    :param args: the parsed arguments (config_file, config_dir, json).
    """
    return status.main(status_argv(args), prog=errors.PROG)
