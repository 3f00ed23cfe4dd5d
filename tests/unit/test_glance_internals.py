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

"""The seam to Glance: against the installed Glance, and the one door."""

import ast
import inspect
import os
import re
import subprocess
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.api import common as api_common
from glance.async_.flows import api_image_import
from glance.async_ import taskflow_executor
from glance.common import exception
from glance.common import wsgi_app
from glance.db.sqlalchemy import api as sa_api

import glance_import_ext
from glance_import_ext import glance_internals as gi

PACKAGE = os.path.dirname(glance_import_ext.__file__)
SEAM = os.path.join(PACKAGE, 'glance_internals')
GLANCE_IMPORT = re.compile(r'^\s*(import glance\b|from glance\b(?!_))', re.M)
# What only the seam may import: Glance, its database's libraries.
SEAM_ONLY = ('glance', 'sqlalchemy', 'oslo_db')
SUBMODULES = (gi.actions, gi.config, gi.db, gi.glance_exceptions, gi.http,
              gi.policy, gi.reserved)


def library_files():
    """The library's Python files outside the seam, relative paths."""
    for where, _, names in os.walk(PACKAGE):
        if os.path.commonpath([where, SEAM]) == SEAM:
            continue
        for name in names:
            if name.endswith('.py'):
                yield os.path.relpath(os.path.join(where, name), PACKAGE)


def seam_only_uses(source):
    """(line, what) of each import of SEAM_ONLY and call of db_api()."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            modules = [node.module]
        else:
            modules = []
        found.extend((node.lineno, 'import ' + m) for m in modules
                     if m.split('.')[0] in SEAM_ONLY)
        if isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, 'attr', None) or getattr(func, 'id', None)
            if name == 'db_api':
                found.append((node.lineno, 'db_api()'))
    return found


class TestOneDoor(testtools.TestCase):

    def test_nothing_else_imports_glance(self):
        offenders = []
        for path in library_files():
            with open(os.path.join(PACKAGE, path)) as f:
                if GLANCE_IMPORT.search(f.read()):
                    offenders.append(path)
        self.assertEqual([], offenders)

    def test_only_the_seam_knows_the_database(self):
        # No module outside the seam imports Glance, SQLAlchemy or oslo.db
        # (at any depth: inside functions too), nor calls Glance's DB API.
        offenders = []
        for path in library_files():
            with open(os.path.join(PACKAGE, path)) as f:
                offenders.extend('%s:%d %s' % ((path,) + use)
                                 for use in seam_only_uses(f.read()))
        self.assertEqual([], offenders)

    def test_the_database_check_finds_each_kind(self):
        source = ('import sqlalchemy.exc as e\n'
                  'def f():\n'
                  '    from oslo_db import options\n'
                  '    import glance.db\n'
                  '    from glance_import_ext import glance_internals\n'
                  '    return glance_internals.db_api(), db_api()\n')
        self.assertEqual([(1, 'import sqlalchemy.exc'),
                          (3, 'import oslo_db'), (4, 'import glance.db'),
                          (6, 'db_api()'), (6, 'db_api()')],
                         sorted(seam_only_uses(source)))
        self.assertIn(os.path.join('cmd', 'stuck_imports.py'),
                      list(library_files()))
        self.assertNotIn(os.path.join('glance_internals', 'db.py'),
                         list(library_files()))

    def test_imports_without_glance(self):
        code = ('import sys; sys.modules["glance"] = None; '
                'from glance_import_ext import glance_internals, opts; '
                'from glance_import_ext.common import errors, manifests, '
                'openpgp, remote; '
                'print(glance_internals.upload_failure_base().__name__, '
                'len(opts.list_opts()))')
        out = subprocess.check_output([sys.executable, '-c', code],
                                      cwd=os.getcwd())
        self.assertEqual(b'Exception 7\n', out)

    def test_every_name_says_where_it_was_verified(self):
        public = {name for name, value in vars(gi).items()
                  if not name.startswith('_') and
                  not inspect.ismodule(value) and
                  name not in ('RELEASES', 'VERIFIED')}
        self.assertEqual(sorted(public), sorted(gi.VERIFIED))
        for name, where in gi.VERIFIED.items():
            self.assertTrue(any(r in where for r in gi.RELEASES), name)

    def test_each_submodule_says_where_its_names_were_verified(self):
        # Every public name of a submodule is in its own VERIFIED, and the
        # package offers it as the same object.
        seen = []
        for module in SUBMODULES:
            public = {name for name, value in vars(module).items()
                      if not name.startswith('_') and
                      not inspect.ismodule(value) and name != 'VERIFIED'}
            self.assertEqual(sorted(public), sorted(module.VERIFIED),
                             module.__name__)
            for name in public:
                self.assertIs(getattr(module, name), getattr(gi, name), name)
            seen.extend(public)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(sorted(seen), sorted(gi.VERIFIED))


class TestAgainstInstalledGlance(testtools.TestCase):
    """What the seam states holds for the Glance installed here."""

    def test_reserved_names(self):
        self.assertEqual(api_common.GLANCE_RESERVED_NS, gi.GLANCE_NAMESPACE)
        self.assertEqual(api_image_import._ImportActions.IMPORTING_STORES_KEY,
                         gi.IMPORTING_TO_STORES)
        self.assertEqual(wsgi_app.RESERVED_STORES, gi.RESERVED_STORES)
        source = inspect.getsource(api_image_import)
        self.assertIn("'%s'" % gi.IMPORT_LOCK, source)
        self.assertIn("'%s'" % gi.STAGE_HOST, source)

    def test_flow_arguments(self):
        source = inspect.getsource(taskflow_executor)
        passed = gi.FlowArguments.REQUIRED + (
            'task_type', 'context', 'import_req', 'backend', 'admin_repo')
        for key in passed:
            if key != 'action_wrapper':
                self.assertIn("'%s'" % key, source)
        self.assertIn("kwargs['action_wrapper'] = action_wrapper",
                      inspect.getsource(api_image_import.get_flow))

    def test_flow_arguments_read(self):
        args = gi.FlowArguments({'task_id': 't', 'image_repo': 'user',
                                 'admin_repo': 'admin', 'backend': ['s']})
        self.assertEqual(['image_id', 'action_wrapper', 'task_repo'],
                         args.missing)
        self.assertEqual(('admin', 'user', ['s']),
                         (args.admin_repo, args.image_repo, args.backends))

    def test_wrapper_and_actions(self):
        for name in gi.WRAPPER_OPERATIONS:
            self.assertTrue(callable(getattr(
                api_image_import.ImportActionWrapper, name)), name)
        for name in gi.ACTION_OPERATIONS:
            self.assertTrue(hasattr(api_image_import._ImportActions, name),
                            name)
        image = object()
        self.assertIs(image, gi.wrapped_image(
            api_image_import._ImportActions(image)))
        wrapper = gi.import_action_wrapper('repo', 'image', 'task')
        self.assertIsInstance(wrapper, api_image_import.ImportActionWrapper)

    def test_exceptions(self):
        for name in gi.exceptions.NAMES:
            self.assertIs(getattr(exception, name),
                          getattr(gi.exceptions, name))
        self.assertRaises(AttributeError, getattr, gi.exceptions, 'Duplicate')
        self.assertIs(exception.UploadException, gi.upload_failure_base())

    def test_database(self):
        for name in ('image_get', 'image_get_all', 'task_get', 'task_update'):
            self.assertTrue(callable(getattr(sa_api, name)), name)
        models = gi.sqlalchemy_models()
        for name in ('Image', 'ImageProperty', 'ImageTag', 'ImageMember',
                     'ImageLocation', 'Task', 'TaskInfo'):
            self.assertTrue(hasattr(getattr(models, name), '__table__'))
        self.assertTrue(gi.admin_context().is_admin)

    def test_import_filter_refusals(self):
        self.assertEqual('its port is not allowed', gi.refusal_reason(
            ValueError('port not allowed for external URI: x')))
        self.assertIsNone(gi.refusal_reason(ValueError('something else')))


class FakeSession:

    def __init__(self, log):
        self.log = log

    def begin(self):
        session = self

        class Transaction:
            def __enter__(self):
                session.log.append('begin')

            def __exit__(self, *exc):
                session.log.append('rollback' if exc[0] else 'commit')

        return Transaction()


class TestSessions(testtools.TestCase):
    """session_for_read/write from 31.1.0; get_session() before."""

    def _api(self, modern):
        log = []
        api = mock.Mock(spec=['session_for_read', 'session_for_write']
                        if modern else ['get_session'])
        if modern:
            api.session_for_read.return_value.__enter__ = (
                lambda s: log.append('read') or 'reader')
            api.session_for_read.return_value.__exit__ = (
                lambda s, *a: None)
            api.session_for_write.return_value.__enter__ = (
                lambda s: log.append('write') or 'writer')
            api.session_for_write.return_value.__exit__ = (
                lambda s, *a: None)
        else:
            api.get_session.side_effect = lambda: FakeSession(log)
        self.useFixture(fixtures.MockPatchObject(
            gi, 'sqlalchemy_api', return_value=api))
        return log

    def test_enginefacade_sessions(self):
        log = self._api(modern=True)
        with gi.read_session() as reader, gi.write_session() as writer:
            self.assertEqual(('reader', 'writer'), (reader, writer))
        self.assertEqual(['read', 'write'], log)

    def test_legacy_sessions(self):
        log = self._api(modern=False)
        with gi.read_session() as session:
            self.assertIsInstance(session, FakeSession)
        with gi.write_session():
            pass
        self.assertEqual(['begin', 'commit'] * 2, log)

    def test_legacy_write_rolls_back_on_error(self):
        log = self._api(modern=False)

        def fail():
            with gi.write_session():
                raise RuntimeError('changed')
        self.assertRaises(RuntimeError, fail)
        self.assertEqual(['begin', 'rollback'], log)


class TestOptions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        self.conf([], project='glance')
        self.fixture = self.useFixture(config_fixture.Config(self.conf))

    def test_unregistered_options_have_defaults(self):
        self.assertEqual([], gi.image_import_plugins(self.conf))
        self.assertEqual((), gi.glance_download_copied_prefixes(self.conf))
        self.assertEqual('sha512', gi.hashing_algorithm(self.conf))
        self.assertIsNone(gi.worker_url(self.conf))

    def test_glance_options(self):
        self.conf.register_opts([cfg.ListOpt('image_import_plugins')],
                                group=gi.IMPORT_PLUGINS_GROUP)
        self.conf.register_opts([cfg.ListOpt('extra_properties')],
                                group=gi.GLANCE_DOWNLOAD_GROUP)
        self.conf.register_opts([cfg.StrOpt('hashing_algorithm')])
        self.fixture.config(image_import_plugins=['a', 'b'],
                            group=gi.IMPORT_PLUGINS_GROUP)
        self.fixture.config(extra_properties=['hw_'],
                            group=gi.GLANCE_DOWNLOAD_GROUP)
        self.fixture.config(hashing_algorithm='sha256')
        self.assertEqual(['a', 'b'], gi.image_import_plugins(self.conf))
        self.assertEqual(('hw_',),
                         gi.glance_download_copied_prefixes(self.conf))
        self.assertEqual('sha256', gi.hashing_algorithm(self.conf))

    def _staging(self, backends=None, datadir=None, node_uri=None):
        self.conf.register_opts([cfg.DictOpt('enabled_backends'),
                                 cfg.StrOpt('node_staging_uri')])
        self.conf.register_opts([cfg.StrOpt('filesystem_store_datadir')],
                                group=gi.STAGING_STORE)
        self.fixture.config(enabled_backends=backends,
                            node_staging_uri=node_uri)
        self.fixture.config(filesystem_store_datadir=datadir,
                            group=gi.STAGING_STORE)
        return gi.staging_dir(self.conf)

    def test_staging_dir_with_backends(self):
        self.assertEqual('/stage', self._staging({'a': 'file'}, '/stage',
                                                 'file:///other'))

    def test_staging_dir_without_backends(self):
        self.assertEqual('/other', self._staging(None, '/stage',
                                                 'file:///other'))
        self.assertIsNone(self._staging(None, None, 'http://x'))
        self.assertIsNone(self._staging(None, None, 'file://'))
        self.assertIsNone(self._staging(None, None, None))

    def test_staging_store_options_only_with_backends(self):
        self.conf.register_opts([cfg.DictOpt('enabled_backends')])
        gi.register_staging_store_options(self.conf)
        self.assertNotIn(gi.STAGING_STORE, self.conf)
        self.fixture.config(enabled_backends={'a': 'file'})
        gi.register_staging_store_options(self.conf)
        self.assertIn('filesystem_store_datadir', self.conf[gi.STAGING_STORE])


class TestAnchorTable(testtools.TestCase):
    """The records' anchors on a real SQL engine (SQLite, through oslo.db)."""

    def setUp(self):
        super().setUp()
        from oslo_db.sqlalchemy import engines
        self.engine = engines.create_engine('sqlite://')
        self.useFixture(fixtures.MockPatchObject(
            sa_api, 'get_engine', return_value=self.engine))

    def test_write_confirm_and_abort(self):
        self.assertIsNone(gi.anchor_get('img'))
        gi.anchor_begin('img', 'v1:a', {'user_id': 'u', 'roles': ['r']})
        self.assertEqual({'sealed': None, 'writing': 'v1:a',
                          'caller': {'user_id': 'u', 'roles': ['r']}},
                         gi.anchor_get('img'))
        gi.anchor_confirm('img', 'v1:a')
        gi.anchor_begin('img', 'v1:b')
        gi.anchor_abort('img', 'v1:b')
        # The caller stays as recorded when a write names none.
        self.assertEqual({'sealed': 'v1:a', 'writing': None,
                          'caller': {'user_id': 'u', 'roles': ['r']}},
                         gi.anchor_get('img'))
        gi.anchor_begin('img', 'v1:c')
        gi.anchor_confirm('img', 'v1:c')
        self.assertEqual(('v1:c', None), (gi.anchor_get('img')['sealed'],
                                          gi.anchor_get('img')['writing']))
        self.assertEqual(['img'], gi.anchored_image_ids())

    def test_a_deadlock_is_retried(self):
        from oslo_db import exception as db_exception
        real = self.engine.begin
        calls = []

        def begin():
            calls.append(1)
            if len(calls) == 1:   # the write's first transaction
                raise db_exception.DBDeadlock()
            return real()
        gi.anchor_get('img')     # creates the table
        with mock.patch.object(self.engine, 'begin', side_effect=begin):
            gi.anchor_begin('img', 'v1:a')
        self.assertEqual(2, len(calls))
        self.assertEqual('v1:a', gi.anchor_get('img')['writing'])
