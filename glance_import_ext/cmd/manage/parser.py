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

"""The command line of glance-import-ext-manage: ``<category> <action>``.

As glance-manage and nova-manage: global options, then a category
(``imports``, ``versions``, ``records``, ``upgrade``), then its action and
the action's options. The CLI reference of the docs is generated from
this parser (reference.py).
"""

import argparse

from glance_import_ext.cmd.manage import config
from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import output
from glance_import_ext.cmd.manage import values
from glance_import_ext.common import keepalive

EPILOG = """\
exit codes:
  0  done, or nothing to do (dry runs included)
  1  refused: an image whose import is alive, or a worker that answers,
     would have been touched; something changed meanwhile; records verify
     found forged, rolled-back, removed or unsealed records; upgrade check:
     warnings only
  2  error: arguments, configuration, database; upgrade check: a failure

Liveness: an import running through a plugin of glance-import-ext is
updated every [glance_import_ext] heartbeat_interval seconds by its
glance-api process; it is dead once not updated for %(missed)d intervals
+ %(margin)d s (%(default)d s with the default interval of 60 s).
Other imports are dead only after Glance's lock expiry (60 minutes).
Which worker holds data comes from Glance's records only
(os_glance_stage_host, the import task), never from image properties the
owner can edit. Clocks of glance-api hosts and of this host must agree.
"""

DESCRIPTION = (
    'Find imports that cannot finish (their glance-api worker died, or the '
    'worker\nholding their staged data is gone) and make the images usable '
    'again; complete\nimage-version rotations; check the records the '
    "library's plugins write; run\nthe pre-flight checks. Works on Glance's "
    "database with glance-api's\nconfiguration.")


class ManageParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 2 with a hint."""

    def error(self, message):
        """Exit 2 with one line: the error and where help is.

        :param message: argparse's message.
        """
        self.exit(errors.EXIT_ERROR, '%s: error: %s. Hint: %s --help\n' % (
            self.prog, message, self.prog))


def build_parser():
    """The parser of every category and action of the command."""
    parser = ManageParser(
        prog=errors.PROG, description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG % {
            'missed': keepalive.MISSED_UPDATES,
            'margin': (keepalive.stale_after(60) -
                       keepalive.MISSED_UPDATES * 60),
            'default': keepalive.stale_after(60)})
    _add_global_options(parser)
    categories = parser.add_subparsers(dest='category', metavar='CATEGORY',
                                       parser_class=ManageParser)
    categories.required = True
    _add_imports(categories)
    _add_versions(categories)
    _add_records(categories)
    _add_upgrade(categories)
    return parser


def _add_global_options(parser):
    parser.add_argument('--version', action='version',
                        version=config.version(),
                        help="print this library's version and exit")
    parser.add_argument(
        '--config-file', action='append', metavar='PATH',
        help='glance-api.conf to read (repeatable; default: '
             '$OS_GLANCE_CONFIG_DIR/glance-api.conf, else the places '
             'glance-api looks). glance-image-import.conf from the same '
             'directory is read too when it exists.')
    parser.add_argument('--config-dir', action='append', metavar='DIR',
                        help='a directory of *.conf files read after them')
    parser.add_argument('--log-file', metavar='PATH',
                        help='log every change here (default: the log '
                             'destination of the configuration; none: '
                             'stdout only)')


def _category(categories, name, summary):
    """The subparsers of the actions of category ``name``."""
    category = categories.add_parser(name, help=summary,
                                     description=summary[0].upper() +
                                     summary[1:] + '.')
    # Not 'action': imports clean has an --action.
    actions = category.add_subparsers(dest='category_action',
                                      metavar='ACTION',
                                      parser_class=ManageParser)
    actions.required = True
    return actions


def _add_format(action, what):
    action.add_argument('-f', '--format', choices=output.FORMATS,
                        default=output.TABLE,
                        help='output format (default: table; json: %s)'
                             % what)


def _add_change_options(action, what, planned):
    """--apply, and -f json of what is planned or applied."""
    action.add_argument('--apply', action='store_true',
                        help='%s (default: dry run)' % what)
    _add_format(action, 'the planned or applied %s' % planned)


def _add_imports(categories):
    actions = _category(categories, 'imports', 'imports that cannot end, '
                        'and their images')
    listing = actions.add_parser(
        'list', help='show images held by an import, or staged and waiting',
        description='Show every image that is uploading, importing, or '
                    'queued but still locked by an import: whether its '
                    'import is alive or dead (IMPORT), seconds since its '
                    'task was updated (AGE), the worker holding its data '
                    '(WORKER, from Glance\'s records) and whether that '
                    'worker accepts connections (ANSWERS). Changes nothing.')
    _add_format(listing, 'a list of the images, with the reason of each '
                         'verdict')
    listing.add_argument('--no-probe', action='store_true',
                         help='do not connect to workers to see if they '
                              'answer')
    _add_recover(actions)
    _add_clean(actions)


def _add_recover(actions):
    recover = actions.add_parser(
        'recover', help='make images of dead imports retryable (dry run '
                        'unless --apply)',
        description='For every image whose import is dead (its task no '
                    'longer updated: its glance-api worker died): mark the '
                    'task failed with a message saying so, drop the import '
                    'lock and the dead import\'s bookkeeping and records, '
                    'and put the image back where a new import can start: '
                    'glance-direct: uploading with its staged data (queued '
                    'if this worker should hold the data and does not); '
                    'web-download, glance-download: queued, with the staged '
                    'residue in this worker\'s staging dir removed. Also '
                    'removes staged residue here of queued images no import '
                    'holds. Live imports are never touched.')
    recover.add_argument('--image', action='append', metavar='ID',
                         help='only this image (repeatable)')
    _add_change_options(recover, 'change the images', 'changes')


def _add_clean(actions):
    clean = actions.add_parser(
        'clean', help='reset or delete images whose data was on a worker '
                      'that is gone (dry run unless --apply)',
        description='For images whose staged data (per Glance\'s records) '
                    'was on WORKER, which is gone for good: reset them to '
                    'queued (their owner stages or uploads again) or delete '
                    'them. Refuses while WORKER accepts connections; never '
                    'touches an image whose import is alive.')
    clean.add_argument('--worker', required=True, metavar='URL',
                       help="the gone worker's worker_self_reference_url "
                            '(http or https, with a host)')
    clean.add_argument('--action', choices=('reset', 'delete'),
                       default='reset', help='default: reset')
    _add_change_options(clean, 'change the images', 'changes')


def _add_versions(categories):
    actions = _category(categories, 'versions', 'image-version rotations')
    rotate = actions.add_parser(
        'rotate', help='complete image-version rotations a dead worker '
                       'left undone',
        description='Find active images whose image_versions rotation is '
                    'pending although their import ended (the worker died '
                    'between activation and rotation) and show the changes '
                    'that complete it: other versions hidden and linked, '
                    'old ones deactivated per [image_versions] '
                    'keep_versions. With --apply, make them, with admin '
                    'rights, under the lineage lock imports use.')
    rotate.add_argument('image', nargs='*', metavar='IMAGE',
                        help='only these image ids (default: all)')
    _add_change_options(rotate, 'make the changes', 'rotations')


def _add_records(categories):
    actions = _category(categories, 'records', "the library's records on "
                        'images')
    verify = actions.add_parser(
        'verify', help="tell whether the library's records on images are "
                       'as its plugins wrote them',
        description='For each image (default: every active image with '
                    'import_ext_* records, and every image the plugins '
                    'ever wrote records on), check its records against '
                    'their seal and their anchor (the library\'s table in '
                    'Glance\'s database, out of users\' reach): valid (as '
                    'the plugins last wrote them), forged (changed since, '
                    'or the seal removed), rolled-back (an earlier sealed '
                    'state put back), removed (every record removed), '
                    'unsealed (written without [glance_import_ext] '
                    'record_key), none, no-key (no key configured here to '
                    'check). Exit 1 if any is forged, rolled-back, removed '
                    'or unsealed.')
    verify.add_argument('images', nargs='*', metavar='IMAGE',
                        help='image ids (default: every image with records '
                             'or an anchor)')
    _add_format(verify, 'the verdict of each image, and the ids not found')


def _add_upgrade(categories):
    actions = _category(categories, 'upgrade', 'checks before glance-api '
                        'is (re)started')
    check = actions.add_parser(
        'check', help='run the pre-flight checks (as glance-import-ext-'
                      'status upgrade check)',
        description='The pre-flight checks of glance-import-ext-status '
                    'upgrade check (oslo.upgradecheck), on this '
                    'configuration: one result per check, with what to do; '
                    'exit 0 when every check passed, 1 when the worst is a '
                    'warning, 2 when one failed. Changes nothing and does '
                    'not connect to the database.')
    check.add_argument('--json', action='store_true',
                       help='print the results as JSON (oslo.upgradecheck '
                            'format)')


def actions_of(parser):
    """The (category, action) pairs of ``parser`` and their parsers.

    :param parser: the parser build_parser() returns.
    :returns: a list of ((category, action), parser), in help order.
    """
    found = []
    for category, category_parser in subparsers(parser).items():
        for action, action_parser in subparsers(category_parser).items():
            found.append(((category, action), action_parser))
    return found


def subparsers(parser):
    """The parsers of the categories (or actions) of ``parser``, by name.

    :param parser: the command's parser, or a category's.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def check_args(args):
    """Refuse malformed worker URLs and image ids (one-line errors).

    :param args: the parsed arguments; ``worker`` becomes its canonical
        form.
    :raises errors.CommandError: saying which value and what to give.
    """
    if getattr(args, 'worker', None) is not None:
        try:
            args.worker = values.parse_worker(args.worker)
        except ValueError as exc:
            raise errors.CommandError(
                '--worker %s is not a worker URL: %s' % (
                    values.show(args.worker or "''", 200), exc),
                'give the gone worker\'s worker_self_reference_url, e.g. '
                'http://glance-1.example.com:9292')
    for image_id in (getattr(args, 'image', None) or []) + (
            getattr(args, 'images', None) or []):
        if not values.is_image_id(image_id):
            raise errors.CommandError('%s is not an image id' %
                                      values.show(image_id),
                                      'image ids are UUIDs')
