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

"""glance-import-ext-manage's command line: parser, main, alias, docs."""

import argparse
import ast
import io
import os

import fixtures
import testtools

from glance_import_ext.cmd import manage
from glance_import_ext.cmd.manage import config
from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import parser as manage_parser
from glance_import_ext.cmd.manage import reference
from glance_import_ext.cmd.manage import upgrade
from glance_import_ext.cmd import status
from glance_import_ext.cmd import stuck_imports

CMD_DIR = os.path.dirname(os.path.abspath(status.__file__))


class TestMain(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def main(self, *argv):
        return manage.main(list(argv), self.out, self.err)

    def test_malformed_worker(self):
        for value in ('', '/', 'not-a-url', 'http://', 'ftp://h/'):
            self.err.truncate(0)
            self.err.seek(0)
            self.assertEqual(2, self.main('imports', 'clean', '--worker',
                                          value))
            [line] = self.err.getvalue().splitlines()
            self.assertIn('error: --worker', line)
            self.assertIn('Hint:', line)

    def test_malformed_image_id(self):
        self.assertEqual(2, self.main('imports', 'recover', '--image',
                                      '../x'))
        self.assertIn('not an image id', self.err.getvalue())

    def test_missing_config_file(self):
        missing = os.path.join(self.dir, 'glance-api.conf')
        self.assertEqual(2, self.main('--config-file', missing, 'imports',
                                      'list'))
        [line] = self.err.getvalue().splitlines()
        self.assertIn('config file %s not found' % missing, line)

    def test_version(self):
        stdout = self.useFixture(fixtures.StringStream('stdout'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', stdout.stream))
        exc = self.assertRaises(SystemExit, self.main, '--version')
        self.assertEqual(0, exc.code)
        stdout.stream.seek(0)
        self.assertEqual(config.version(), stdout.stream.read().strip())

    def test_usage_error_exits_2(self):
        stderr = self.useFixture(fixtures.StringStream('stderr'))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr.stream))
        exc = self.assertRaises(SystemExit, self.main, 'imports', 'clean')
        self.assertEqual(2, exc.code)


class TestConfigFiles(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.api = os.path.join(self.dir, 'glance-api.conf')
        open(self.api, 'w').close()

    def files(self, config_file=None, environ=None):
        return config.config_files(argparse.Namespace(config_file=config_file),
                                   environ or {})

    def test_import_conf_beside_it_comes_first(self):
        self.assertEqual([self.api], self.files([self.api]))
        extra = os.path.join(self.dir, 'glance-image-import.conf')
        open(extra, 'w').close()
        self.assertEqual([extra, self.api], self.files([self.api]))

    def test_glance_config_dir(self):
        self.assertEqual([self.api], self.files(
            environ={'OS_GLANCE_CONFIG_DIR': self.dir}))

    def test_nothing_found(self):
        self.assertRaises(errors.CommandError, self.files, environ={
            'OS_GLANCE_CONFIG_DIR': os.path.join(self.dir, 'none')})


ACTIONS = {('imports', 'list'), ('imports', 'recover'), ('imports', 'clean'),
           ('versions', 'rotate'), ('records', 'verify'), ('upgrade', 'check')}
IMAGE = '00000001-0000-4000-8000-000000000000'


def parse(*argv):
    return manage_parser.build_parser().parse_args(list(argv))


class TestParser(testtools.TestCase):

    def test_every_category_and_action(self):
        found = dict(manage_parser.actions_of(manage_parser.build_parser()))
        self.assertEqual(ACTIONS, set(found))
        self.assertEqual(ACTIONS - {('upgrade', 'check')},
                         set(manage.COMMANDS))

    def test_options_of_each_action(self):
        args = parse('imports', 'list', '-f', 'json', '--no-probe')
        self.assertEqual(('json', True), (args.format, args.no_probe))
        args = parse('imports', 'list')
        self.assertEqual(('table', False), (args.format, args.no_probe))
        args = parse('imports', 'recover', '--image', IMAGE, '--apply',
                     '--format', 'json')
        self.assertEqual(([IMAGE], True, 'json'),
                         (args.image, args.apply, args.format))
        args = parse('imports', 'clean', '--worker', 'http://h',
                     '--action', 'delete', '--apply', '-f', 'json')
        self.assertEqual(('http://h', 'delete', True, 'json'),
                         (args.worker, args.action, args.apply, args.format))
        self.assertEqual('reset', parse('imports', 'clean', '--worker',
                                        'http://h').action)
        args = parse('versions', 'rotate', IMAGE, '--apply', '-f', 'json')
        self.assertEqual(([IMAGE], True, 'json'),
                         (args.image, args.apply, args.format))
        args = parse('records', 'verify', IMAGE, '-f', 'json')
        self.assertEqual(([IMAGE], 'json'), (args.images, args.format))
        self.assertTrue(parse('upgrade', 'check', '--json').json)

    def test_dry_run_unless_apply(self):
        for argv in (('imports', 'recover'),
                     ('imports', 'clean', '--worker', 'http://h'),
                     ('versions', 'rotate')):
            self.assertFalse(parse(*argv).apply, argv)

    def test_usage_errors_exit_2_with_a_hint(self):
        stderr = self.useFixture(fixtures.StringStream('stderr'))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr.stream))
        for argv in (('frobnicate',), ('imports',), ('imports', 'frob'),
                     ('records', 'verify', '-f', 'xml')):
            exc = self.assertRaises(SystemExit, parse, *argv)
            self.assertEqual(2, exc.code, argv)
        stderr.stream.seek(0)
        self.assertIn('Hint: glance-import-ext-manage imports --help',
                      stderr.stream.read())


class TestReference(testtools.TestCase):
    """The CLI reference page of the docs, generated from the parser."""

    def test_every_action_and_its_options(self):
        text = '\n'.join(reference.lines())
        for words, action_parser in manage_parser.actions_of(
                manage_parser.build_parser()):
            title = ' '.join(words)
            self.assertIn('\n%s\n%s\n' % (title, '-' * len(title)), text)
            self.assertIn('usage: glance-import-ext-manage %s' % title,
                          text)
            for action in action_parser._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                for option in action.option_strings:
                    self.assertIn(option, text)
        for option in ('--config-file', '--config-dir', '--log-file'):
            self.assertIn('``%s' % option, text)
        self.assertIn('exit codes:', text)

    def test_rst_specials_are_escaped(self):
        text = '\n'.join(reference.lines())
        self.assertIn(r'import\_ext\_\* records', text)


class TestUpgradeCheck(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.status = self.useFixture(fixtures.MockPatchObject(
            status, 'main', return_value=1)).mock

    def test_runs_the_preflight_of_glance_import_ext_status(self):
        self.assertEqual(1, manage.main([
            '--config-file', 'a.conf', '--config-dir', 'd', 'upgrade',
            'check', '--json']))
        self.status.assert_called_once_with(
            ['--config-file', 'a.conf', '--config-dir', 'd', 'upgrade',
             'check', '--json'], prog=errors.PROG)

    def test_table(self):
        self.assertEqual(['upgrade', 'check'], upgrade.status_argv(
            argparse.Namespace(config_file=None, config_dir=None,
                               json=False)))


class TestDeprecatedAlias(testtools.TestCase):
    """glance-import-ext-stuck-imports: old names, same actions."""

    OLD_TO_NEW = (
        (['list', '--format', 'json', '--no-probe'],
         ['imports', 'list', '--format', 'json', '--no-probe']),
        (['recover', '--image', IMAGE, '--apply'],
         ['imports', 'recover', '--image', IMAGE, '--apply']),
        (['clean', '--worker', 'http://h', '--action', 'delete'],
         ['imports', 'clean', '--worker', 'http://h', '--action', 'delete']),
        (['verify-records', IMAGE, '--format', 'json'],
         ['records', 'verify', IMAGE, '--format', 'json']),
        (['versions', '--apply', IMAGE],
         ['versions', 'rotate', '--apply', IMAGE]),
    )

    def setUp(self):
        super().setUp()
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_old_subcommands_become_the_new_ones(self):
        for old, new in self.OLD_TO_NEW:
            for options in ([], ['--config-file', 'list'],
                            ['--config-file=x', '--log-file', 'versions']):
                self.assertEqual(
                    (options + new, tuple(new[:2])),
                    stuck_imports.translate(options + old), old)

    def test_no_old_subcommand_is_passed_through(self):
        for argv in (['--help'], ['frobnicate'], ['--version'], []):
            self.assertEqual((argv, ()), stuck_imports.translate(argv))

    def test_same_arguments_reach_the_action(self):
        run = self.useFixture(fixtures.MockPatchObject(
            manage, 'run_on_database', return_value=0)).mock
        for old, new in self.OLD_TO_NEW:
            run.reset_mock()
            self.assertEqual(0, stuck_imports.main(old, self.out, self.err))
            self.assertEqual(0, manage.main(new, self.out, self.err))
            [(by_old, _), (by_new, _)] = run.call_args_list
            self.assertEqual(vars(by_new[0]), vars(by_old[0]), old)

    def test_says_it_is_deprecated_then_behaves_as_the_new_name(self):
        missing = os.path.join(self.dir, 'glance-api.conf')
        self.assertEqual(2, stuck_imports.main(
            ['--config-file', missing, 'recover'], self.out, self.err))
        deprecation, *rest = self.err.getvalue().splitlines()
        self.assertEqual('glance-import-ext-stuck-imports is deprecated: use '
                         'glance-import-ext-manage imports recover',
                         deprecation)
        new_err = io.StringIO()
        self.assertEqual(2, manage.main(
            ['--config-file', missing, 'imports', 'recover'], self.out,
            new_err))
        self.assertEqual(new_err.getvalue().splitlines(), rest)
        self.assertEqual('', self.out.getvalue())


def _functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _cmd_modules():
    for root, _, names in os.walk(CMD_DIR):
        for name in sorted(names):
            if name.endswith('.py'):
                path = os.path.join(root, name)
                with open(path) as f:
                    yield os.path.relpath(path, CMD_DIR), ast.parse(f.read())


class TestCommandCode(testtools.TestCase):
    """The shape the commands' code keeps (issue 18)."""

    def test_no_function_over_60_lines(self):
        # From the def line to the last line of the body.
        long = ['%s:%d %s (%d lines)' % (
            path, node.lineno, node.name, node.end_lineno - node.lineno + 1)
            for path, tree in _cmd_modules() for node in _functions(tree)
            if node.end_lineno - node.lineno + 1 > 60]
        self.assertEqual([], long)

    def test_public_names_have_docstrings(self):
        missing = []
        for path, tree in _cmd_modules():
            for node in _public(tree.body):
                if not ast.get_docstring(node):
                    missing.append('%s:%d %s' % (path, node.lineno,
                                                 node.name))
        self.assertEqual([], missing)


def _public(body):
    """Public classes and functions, and the public methods of classes."""
    for node in body:
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            continue
        if node.name.startswith('_'):
            continue
        yield node
        if isinstance(node, ast.ClassDef):
            yield from _public(node.body)
