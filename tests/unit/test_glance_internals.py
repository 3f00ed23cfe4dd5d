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
import contextlib
import datetime
import inspect
import os
import re
import subprocess
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import sqlalchemy as sa
from sqlalchemy import orm
import testtools

from glance.api import common as api_common
from glance.async_.flows import api_image_import
from glance.async_ import taskflow_executor
from glance.common import exception
from glance.common import wsgi_app
from glance.db.sqlalchemy import api as sa_api
from glance.db.sqlalchemy import models

import glance_import_ext
from glance_import_ext import glance_internals as gi

PACKAGE = os.path.dirname(glance_import_ext.__file__)
SEAM = os.path.join(PACKAGE, 'glance_internals')
GLANCE_IMPORT = re.compile(r'^\s*(import glance\b|from glance\b(?!_))', re.M)
# What only the seam may import: Glance, its database's libraries.
SEAM_ONLY = ('glance', 'sqlalchemy', 'oslo_db')
SUBMODULES = (gi.actions, gi.config, gi.db, gi.glance_exceptions, gi.http,
              gi.images, gi.policy, gi.reserved)


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
        self.assertIn(os.path.join('cmd', 'manage', 'glance_db.py'),
                      list(library_files()))
        self.assertNotIn(os.path.join('glance_internals', 'db.py'),
                         list(library_files()))

    def test_imports_without_glance(self):
        code = ('import sys; sys.modules["glance"] = None; '
                'from glance_import_ext import glance_internals, opts; '
                'from glance_import_ext.common import errors; '
                'from glance_import_ext.plugins.manifest_verify import '
                'manifests, openpgp, remote; '
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
        # The deadlocked one, then the update that found no row and the
        # insert, each a transaction of its own (no savepoint).
        self.assertEqual(3, len(calls))
        self.assertEqual('v1:a', gi.anchor_get('img')['writing'])


class SqliteApi:
    """Glance's SQLAlchemy API's sessions, on an SQLite engine."""

    def __init__(self, engine):
        self.engine = engine

    @contextlib.contextmanager
    def session_for_read(self):
        with orm.Session(self.engine) as session:
            yield session

    @contextlib.contextmanager
    def session_for_write(self):
        with orm.Session(self.engine) as session, session.begin():
            yield session


T0 = datetime.datetime(2026, 1, 1, 12, 0, 0)


class TestAdminVerbs(testtools.TestCase):
    """The admin command's SQL on Glance's own tables (SQLite)."""

    def setUp(self):
        super().setUp()
        from oslo_db.sqlalchemy import engines
        self.engine = engines.create_engine('sqlite://')
        models.BASE.metadata.create_all(self.engine)
        self.useFixture(fixtures.MockPatchObject(
            gi, 'sqlalchemy_api', return_value=SqliteApi(self.engine)))

    def insert(self, model, **values):
        if 'deleted' in model.__table__.c:
            values.setdefault('created_at', T0)
            values.setdefault('deleted', False)
        with self.engine.begin() as conn:
            conn.execute(model.__table__.insert().values(**values))

    def image(self, image_id, status='importing', **props):
        self.insert(models.Image, id=image_id, status=status,
                    visibility='private', os_hidden=False, size=10,
                    virtual_size=20)
        for name, value in props.items():
            self.insert(models.ImageProperty, image_id=image_id, name=name,
                        value=value)

    def task(self, task_id, image_id, status='processing', age=0,
             deleted=False, task_type=gi.IMPORT_TASK_TYPE):
        when = T0 + datetime.timedelta(seconds=age)
        self.insert(models.Task, id=task_id, type=task_type, status=status,
                    owner='p', image_id=image_id, created_at=when,
                    updated_at=when, deleted=deleted)
        self.insert(models.TaskInfo, task_id=task_id, message='')

    def rows(self, model, **where):
        table = model.__table__
        query = sa.select(table).where(
            *[table.c[k] == v for k, v in where.items()])
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def props(self, image_id):
        return {r['name']: r['value']
                for r in self.rows(models.ImageProperty, image_id=image_id,
                                   deleted=False)}

    def test_locked_image_ids(self):
        self.image('a', 'importing', **{gi.IMPORT_LOCK: 't'})
        self.image('b', 'queued', **{gi.IMPORT_LOCK: 't'})
        self.image('c', 'queued')
        self.image('d', 'queued')
        self.insert(models.ImageProperty, image_id='d', name=gi.IMPORT_LOCK,
                    value='t', deleted=True)
        self.assertEqual(['b'], gi.locked_image_ids(['queued']))
        self.assertEqual(['a', 'b'], sorted(gi.locked_image_ids(
            ['queued', 'importing'])))

    def test_latest_import_task(self):
        self.image('a')
        self.task('old', 'a', age=0)
        self.task('new', 'a', age=10)
        self.task('newer-deleted', 'a', age=20, deleted=True)
        self.task('newer-other-type', 'a', age=30, task_type='import')
        found = self.useFixture(fixtures.MockPatchObject(
            gi, 'task_or_none', side_effect=lambda ctx, i: {'id': i})).mock
        self.assertEqual({'id': 'new'}, gi.latest_import_task('ctx', 'a'))
        found.assert_called_once_with('ctx', 'new')
        self.assertIsNone(gi.latest_import_task('ctx', 'none'))

    def recover(self, **kwargs):
        args = dict(image_id='a', from_status='importing',
                    to_status='uploading',
                    expect={gi.IMPORT_LOCK: 't', 'kept': None},
                    remove=[gi.IMPORT_LOCK], set_to={'back': 'yes'},
                    fail_task=('t', 'processing', T0),
                    task_message='recovered')
        args.update(kwargs)
        gi.recover_image(**args)

    def test_recover_image(self):
        self.image('a', **{gi.IMPORT_LOCK: 't', 'other': 'x'})
        self.insert(models.ImageProperty, image_id='a', name='back',
                    value='old', deleted=True)
        self.task('t', 'a')
        self.recover(set_to={'back': 'yes', 'new': 'n'}, clear_size=True)
        [image] = self.rows(models.Image, id='a')
        self.assertEqual(('uploading', None, None), (
            image['status'], image['size'], image['virtual_size']))
        self.assertEqual({'other': 'x', 'back': 'yes', 'new': 'n'},
                         self.props('a'))
        [task] = self.rows(models.Task, id='t')
        [info] = self.rows(models.TaskInfo, task_id='t')
        self.assertEqual(('failure', 'recovered'),
                         (task['status'], info['message']))

    def assertUnchanged(self):
        [image] = self.rows(models.Image, id='a')
        [task] = self.rows(models.Task, id='t')
        self.assertEqual(('importing', 10, 'processing'),
                         (image['status'], image['size'], task['status']))
        self.assertEqual({gi.IMPORT_LOCK: 't'}, self.props('a'))

    def test_nothing_changes_when_a_condition_fails(self):
        self.image('a', **{gi.IMPORT_LOCK: 't'})
        self.task('t', 'a')
        exc = self.assertRaises(gi.RecoveryConflict, self.recover,
                                from_status='uploading')
        self.assertEqual(('status', None, 'uploading'),
                         (exc.what, exc.name, exc.expected))
        exc = self.assertRaises(gi.RecoveryConflict, self.recover,
                                expect={gi.IMPORT_LOCK: 'other'},
                                clear_size=True)
        self.assertEqual(('property', gi.IMPORT_LOCK, 'other', 't'),
                         (exc.what, exc.name, exc.expected, exc.found))
        exc = self.assertRaises(
            gi.RecoveryConflict, self.recover,
            fail_task=('t', 'processing', T0 + datetime.timedelta(1)))
        self.assertEqual(('task', 't', 'processing'),
                         (exc.what, exc.name, exc.expected))
        self.assertUnchanged()

    def test_recover_by_deleting(self):
        self.image('a', **{gi.IMPORT_LOCK: 't'})
        self.image('b', **{gi.IMPORT_LOCK: 't2'})
        self.insert(models.ImageTag, image_id='a', value='tag')
        self.insert(models.ImageMember, image_id='a', member='m',
                    can_share=False, status='pending')
        self.insert(models.ImageLocation, image_id='a', value='file:///x',
                    meta_data={}, status='active')
        self.task('t', 'a')
        self.recover(delete=True, remove=[], set_to=None)
        [image] = self.rows(models.Image, id='a')
        self.assertEqual(('deleted', True), (image['status'],
                                             image['deleted']))
        for model in (models.ImageProperty, models.ImageTag,
                      models.ImageMember, models.ImageLocation):
            self.assertEqual([], self.rows(model, image_id='a',
                                           deleted=False), model)
        self.assertEqual({gi.IMPORT_LOCK: 't2'}, self.props('b'))
        self.assertEqual('failure', self.rows(models.Task, id='t')[0][
            'status'])


class TestDatabaseFailure(testtools.TestCase):

    def test_kinds(self):
        from oslo_db import exception as db_exc
        from sqlalchemy import exc as sa_exc
        for exc, kind in (
                (db_exc.DBConnectionError(), 'connect'),
                (db_exc.CantStartEngineError(), 'engine'),
                (sa_exc.ArgumentError('bad url'), 'url'),
                (sa_exc.NoSuchModuleError('driver'), 'url'),
                (db_exc.DBDeadlock(), 'database'),
                (sa_exc.OperationalError('q', {}, None), 'database'),
                (ValueError('not the database'), None)):
            self.assertEqual(kind, gi.database_failure(exc), exc)


class TestParallelImportRows(testtools.TestCase):
    """Glance 33's pending://parallel-import rows, as the seam reads them."""

    ID = '00000001-0000-4000-8000-000000000000'

    @staticmethod
    def row(row_id, status, store, tag='pending'):
        return {'id': row_id, 'status': status,
                'url': 'pending://parallel-import/x/%s' % store,
                'metadata': {'store': store,
                             'os_glance_parallel_import': tag}}

    def image(self, *locations):
        return {'id': self.ID, 'status': 'importing', 'properties': [],
                'locations': list(locations)}

    def test_pending_rows_hold_no_data(self):
        active = {'id': 9, 'status': 'active', 'url': 'file:///s/x',
                  'metadata': {'store': 'fast'}}
        plain = gi.db._plain_image(self.image(
            self.row(1, 'pending', 'slow'), self.row(2, 'uploading', 'third'),
            self.row(3, 'active', 'fast'), active))
        self.assertEqual(2, plain['locations'])
        self.assertEqual([{'id': 1, 'store': 'slow', 'status': 'pending'},
                          {'id': 2, 'store': 'third',
                           'status': 'uploading'}], plain['import_rows'])

    def test_partial_objects_of_file_stores_only(self):
        datadir = self.useFixture(fixtures.TempDir()).path
        open(os.path.join(datadir, self.ID), 'w').close()
        conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts())).conf
        conf.register_opt(cfg.DictOpt('enabled_backends'))
        conf.register_opt(cfg.StrOpt('filesystem_store_datadir'), 'fast')
        conf.register_opt(cfg.MultiStrOpt('filesystem_store_datadirs'),
                          'fast')
        conf.set_override('enabled_backends', {'fast': 'file',
                                               'ceph': 'rbd'})
        conf.set_override('filesystem_store_datadir', datadir, 'fast')
        plain = gi.db._plain_image(self.image(
            self.row(1, 'uploading', 'fast'),
            self.row(2, 'uploading', 'ceph')))
        self.assertEqual(
            ([1, 2], [os.path.join(datadir, self.ID)], ['ceph']),
            gi.parallel_import_leftovers(plain, conf))
        # Data in a store: its objects are never looked for.
        plain['locations'] = 1
        self.assertEqual(([1, 2], [], ['ceph', 'fast']),
                         gi.parallel_import_leftovers(plain, conf))
