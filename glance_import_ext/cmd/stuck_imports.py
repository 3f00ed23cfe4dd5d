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

"""glance-import-ext-stuck-imports: the deprecated name of the admin command.

Runs glance-import-ext-manage with the old subcommand names mapped to the
new ones, after a line on stderr naming the command to use instead::

    glance-import-ext-stuck-imports list            imports list
    glance-import-ext-stuck-imports recover         imports recover
    glance-import-ext-stuck-imports clean           imports clean
    glance-import-ext-stuck-imports verify-records  records verify
    glance-import-ext-stuck-imports versions        versions rotate
"""

import sys

from glance_import_ext.cmd import manage

PROG = 'glance-import-ext-stuck-imports'

OLD_COMMANDS = {
    'list': ('imports', 'list'),
    'recover': ('imports', 'recover'),
    'clean': ('imports', 'clean'),
    'verify-records': ('records', 'verify'),
    'versions': ('versions', 'rotate'),
}
# Global options that take a value (the next argument, unless given with
# '='), and unambiguous abbreviations of them, as argparse accepts.
GLOBAL_OPTIONS_WITH_VALUE = ('--config-file', '--config-dir', '--log-file')


def _takes_value(arg):
    return (arg.startswith('--') and len(arg) > 2 and '=' not in arg and
            any(option.startswith(arg)
                for option in GLOBAL_OPTIONS_WITH_VALUE))


def translate(argv):
    """(the manage arguments, the new words of the old subcommand).

    :param argv: the arguments given to the old command.
    :returns: the words are () when no old subcommand was given.
    """
    argv = list(argv)
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == '--':
            break
        if not arg.startswith('-'):
            words = OLD_COMMANDS.get(arg)
            if words is None:
                return argv, ()
            return argv[:index] + list(words) + argv[index + 1:], words
        index += 2 if _takes_value(arg) else 1
    return argv, ()


def main(argv=None, out=None, err=None):
    """Say the command is deprecated, then run glance-import-ext-manage.

    :param argv: the arguments (default: sys.argv[1:]).
    :param out: where results go (default: stdout).
    :param err: where the deprecation and errors go (default: stderr).
    """
    err = err or sys.stderr
    argv, words = translate(sys.argv[1:] if argv is None else argv)
    err.write('%s is deprecated: use %s\n' % (
        PROG, ' '.join((manage.PROG,) + tuple(words))))
    return manage.main(argv, out, err)


if __name__ == '__main__':
    sys.exit(main())
