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

"""The CLI reference of glance-import-ext-manage, as reStructuredText.

Generated from the argparse parser (parser.build_parser), so the docs say
what ``--help`` says; the docs' ``manage-reference`` directive
(doc/source/_exts/manage_reference.py) parses these lines into the page.
"""

import argparse
import re

from glance_import_ext.cmd.manage import parser as manage_parser

# Lines of usage are wrapped as a terminal this wide would.
WIDTH = 78
_RST_SPECIAL = re.compile(r'([\\`*_|])')


def _text(text):
    """``text`` as one paragraph of plain reStructuredText."""
    return _RST_SPECIAL.sub(r'\\\1', ' '.join((text or '').split()))


def _title(text, underline):
    return [text, underline * len(text), '']


def _literal(text):
    return ['::', ''] + ['   ' + line if line else ''
                         for line in text.rstrip('\n').splitlines()] + ['']


def _usage(parser):
    formatter = argparse.HelpFormatter(prog=parser.prog, width=WIDTH)
    formatter.add_usage(parser.usage, parser._actions,
                        parser._mutually_exclusive_groups)
    return formatter.format_help()


def _options(parser):
    """A definition list of the options and arguments of ``parser``."""
    formatter = argparse.HelpFormatter(prog=parser.prog, width=WIDTH)
    lines = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction,
                               argparse._SubParsersAction)):
            continue
        lines += ['``%s``' % formatter._format_action_invocation(action),
                  '   ' + _text(action.help), '']
    return lines


def action_lines(words, parser):
    """The section of one action: usage, description, options.

    :param words: (category, action).
    :param parser: the action's parser.
    """
    return (_title(' '.join(words), '-') + _literal(_usage(parser)) +
            [_text(parser.description), ''] + _options(parser))


def lines(parser=None):
    """The whole reference: global options, exit codes, every action.

    :param parser: the parser to describe (default: build_parser()).
    :returns: a list of lines of reStructuredText, sections titled with
        ``=`` (the command, the categories) and ``-`` (the actions).
    """
    parser = parser or manage_parser.build_parser()
    out = _title(parser.prog, '=') + _literal(_usage(parser))
    out += [_text(parser.description), ''] + _options(parser)
    out += _literal(parser.epilog)
    for category, category_parser in manage_parser.subparsers(
            parser).items():
        out += _title(category, '=') + [_text(category_parser.description),
                                        '']
        for action, action_parser in manage_parser.subparsers(
                category_parser).items():
            out += action_lines((category, action), action_parser)
    return out
