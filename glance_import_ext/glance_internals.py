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

"""Every Glance internal the library relies on, and where it was verified.

Glance offers import plugins no API: a plugin gets Glance's own objects and
must know their shape. This module is the one place that knows it. Nothing
else in ``glance_import_ext`` imports ``glance``; every other module uses
the names below. When a Glance release changes one of these, this is the
file to change, and ``VERIFIED`` (at the end) says what was checked where.

Releases (the project's functional tests pass on each, through the release
matrix, ``tox -e functional-glanceNN``): 28.2.0, 29.2.1, 30.2.0, 31.1.0,
32.0.0, 33.0.0. "Source" below means the item was read in that release's
published source; "matrix" means it is exercised by the functional tests
of that release only.

Every ``glance`` import is inside a function: this module, like the
modules that use it, imports where Glance is not installed
(oslo-config-generator, docs, the remote fetch's unit tests). And the
tests' patches of Glance's own names (``glance.db.get_api``...) reach the
library, since each name is looked up when it is used.

Sections:

1. Glance's reserved image properties (``os_glance_*``) and stores.
2. The ``get_flow`` keyword arguments (``FlowArguments``).
3. The ``ImportActionWrapper`` and its private ``_image``.
4. Glance's exceptions (``exceptions``, ``upload_failure_base``).
5. The database: repositories, the DB API, the SQLAlchemy models and
   sessions of the admin command.
6. Policy, the request context and the paste pipeline.
7. Glance's options the library reads.
8. Glance's import filtering of URLs (``import_filter``).
"""

import contextlib
import functools
import threading

from oslo_config import cfg

RELEASES = ('28.2.0', '29.2.1', '30.2.0', '31.1.0', '32.0.0', '33.0.0')
_EVERY = 'source of 28.2.0, 29.2.1, 30.2.0, 31.1.0, 32.0.0, 33.0.0'
_ANCHORS = ('source: sqlalchemy api get_engine() on 28.2.0-33.0.0 (an '
            'oslo.db engine: deadlocks raise DBDeadlock); the library\'s '
            'own table, SQLAlchemy Core')


# -- 1. Reserved image properties and stores ---------------------------------
# glance/api/common.py GLANCE_RESERVED_NS: users may not write keys starting
# with it, and _ImportActions.set_image_extra_properties drops them.
GLANCE_NAMESPACE = 'os_glance'
# The keys Glance itself writes start with this.
RESERVED_PREFIX = GLANCE_NAMESPACE + '_'
# The import lock: the id of the task that holds the image
# (ImportActionWrapper.assert_task_lock / drop_lock_for_task).
IMPORT_LOCK = 'os_glance_import_task'
# The worker that staged the data (glance/api/v2/image_data.py stage());
# get_flow removes it once the flow is built.
STAGE_HOST = 'os_glance_stage_host'
# _ImportActions.IMPORTING_STORES_KEY.
IMPORTING_TO_STORES = 'os_glance_importing_to_stores'
# The reserved stores glance-api registers with multiple backends
# (glance/common/wsgi_app.py RESERVED_STORES, and glance/common/wsgi.py on
# 28.2.0-32.0.0).
STAGING_STORE = 'os_glance_staging_store'
TASKS_STORE = 'os_glance_tasks_store'
RESERVED_STORES = {STAGING_STORE: 'file', TASKS_STORE: 'file'}
# The task type of an interoperable import (glance/api/v2/images.py).
IMPORT_TASK_TYPE = 'api_image_import'


# -- 2. get_flow keyword arguments -------------------------------------------
class FlowArguments:
    """What Glance passes to a plugin's ``get_flow(**kwargs)``.

    glance/async_/taskflow_executor.py builds them (``task_id``,
    ``task_type``, ``context``, ``task_repo``, ``image_repo``,
    ``backend``, ``admin_repo`` when there is one, ``image_id``,
    ``import_req``); api_image_import.get_flow adds ``action_wrapper``
    and hands them to every plugin (async_/flows/plugins
    get_import_plugins, stevedore's ``invoke_kwds``).
    """

    REQUIRED = ('task_id', 'image_id', 'action_wrapper', 'task_repo',
                'image_repo')

    def __init__(self, kwargs):
        self.missing = [k for k in self.REQUIRED if not kwargs.get(k)]
        self.task_id = kwargs.get('task_id')
        self.task_type = kwargs.get('task_type')
        self.image_id = kwargs.get('image_id')
        self.context = kwargs.get('context')
        # The import request's body: {'method': {'name': ...}, ...}.
        self.import_req = kwargs.get('import_req')
        self.action_wrapper = kwargs.get('action_wrapper')
        self.task_repo = kwargs.get('task_repo')
        # The repo Glance's action wrapper uses: admin's if there is one.
        self.admin_repo = kwargs.get('admin_repo')
        # The caller's own view.
        self.image_repo = kwargs.get('image_repo')
        self.backends = kwargs.get('backend')


# -- 3. The ImportActionWrapper ----------------------------------------------
# What the library calls on Glance's wrapper (api_image_import
# .ImportActionWrapper) and on the _ImportActions its ``with`` yields.
WRAPPER_OPERATIONS = ('__enter__', '__exit__', 'assert_task_lock',
                      'drop_lock_for_task')
ACTION_OPERATIONS = ('image_id', 'image_status', 'image_locations',
                     'image_disk_format', 'image_container_format',
                     'image_extra_properties', 'set_image_attribute',
                     'set_image_extra_properties', 'pop_extra_property',
                     'remove_importing_stores')


def import_action_wrapper(image_repo, image_id, task_id):
    """Glance's ImportActionWrapper over ``image_repo``."""
    from glance.async_.flows import api_image_import
    return api_image_import.ImportActionWrapper(image_repo, image_id,
                                                task_id)


# The attribute of Glance's ImportActionWrapper the library keeps its
# per-import state in (import_slot).
IMPORT_SLOT = '_glance_import_ext_state'


def import_slot(action_wrapper, factory):
    """The library's object for this import, kept on Glance's wrapper.

    api_image_import.get_flow creates one ImportActionWrapper per import
    and passes that same object to every plugin's get_flow: the one thing
    the plugins of an import share. ``factory()`` makes the object on
    first use.
    """
    state = getattr(action_wrapper, IMPORT_SLOT, None)
    if state is None:
        state = factory()
        setattr(action_wrapper, IMPORT_SLOT, state)
    return state


def wrapped_image(action):
    """The domain image an _ImportActions changes (its private ``_image``).

    _ImportActions offers no tag operations, and its
    set_image_extra_properties drops ``os_glance_*`` keys; the image it
    wraps is saved with its tags and every property by the same
    ImportActionWrapper.__exit__.
    """
    return action._image


# -- 4. Exceptions -----------------------------------------------------------
class _Exceptions:
    """glance.common.exception's classes the library catches, on first use."""

    NAMES = ('UploadException', 'TaskAbortedError', 'NotFound',
             'ImageNotFound', 'Forbidden', 'ReservedProperty', 'Conflict')

    def __getattr__(self, name):
        if name not in self.NAMES:
            raise AttributeError(name)
        from glance.common import exception
        return getattr(exception, name)


exceptions = _Exceptions()


def upload_failure_base():
    """UploadException (whose text Glance copies into the task message).

    A plain Exception where Glance is not installed (config generation,
    docs).
    """
    try:
        from glance.common.exception import UploadException
    except ImportError:  # pragma: no cover - only outside Glance
        return Exception
    return UploadException


# -- 5. The database ---------------------------------------------------------
def db_api():
    """glance.db.get_api(): image_get, task_get, task_update..."""
    import glance.db
    return glance.db.get_api()


def image_repo(context):
    """An ImageRepo with ``context``'s rights, without Glance's gateway.

    No property protections or policy layer: the library's own door for
    its records (see common/task.py). It sees only what ``context`` sees.
    """
    import glance.db
    return glance.db.ImageRepo(context, glance.db.get_api())


def admin_context():
    import glance.context
    return glance.context.get_admin_context()


def sqlalchemy_api():
    """glance.db.sqlalchemy.api: image_get, image_get_all, task_get."""
    from glance.db.sqlalchemy import api
    return api


def sqlalchemy_models():
    """glance.db.sqlalchemy.models: the tables the admin command reads.

    Image, ImageProperty, ImageTag, ImageMember, ImageLocation, Task,
    TaskInfo, and the columns named in cmd/stuck_imports.py.
    """
    from glance.db.sqlalchemy import models
    return models


@contextlib.contextmanager
def _session(factory_name):
    api = sqlalchemy_api()
    factory = getattr(api, factory_name, None)
    if factory is not None:                     # 31.1.0 and later
        with factory() as session:
            yield session
        return
    session = api.get_session()                 # 28.2.0 - 30.2.0
    with session.begin():
        yield session


@contextlib.contextmanager
def named_lock(name, timeout):
    """Hold the database-wide lock ``name`` (at most 64 characters).

    MySQL/MariaDB's GET_LOCK on a connection of Glance's engine: every
    glance-api sharing the database, and the admin command, serialize on
    it. Held until the block ends or the connection drops (a killed
    process releases it). Other databases (SQLite in unit tests) have no
    such lock: a lock of this process stands in.

    :raises LockTimeout: not obtained within ``timeout`` seconds.
    """
    import sqlalchemy
    engine = sqlalchemy_api().get_engine()
    if engine.dialect.name != 'mysql':
        with _PROCESS_LOCKS.setdefault(name, threading.Lock()):
            yield
        return
    with engine.connect() as conn:
        got = conn.execute(sqlalchemy.text('SELECT GET_LOCK(:n, :t)'),
                           {'n': name, 't': timeout}).scalar()
        if got != 1:
            raise LockTimeout('lock %s not obtained within %ss' % (
                name, timeout))
        try:
            yield
        finally:
            conn.execute(sqlalchemy.text('SELECT RELEASE_LOCK(:n)'),
                         {'n': name})


class LockTimeout(Exception):
    """named_lock could not get its lock in time."""


_PROCESS_LOCKS = {}


# The library's own table in Glance's database: one row per image the
# plugins wrote records on (records.anchoring). Users have no way to it;
# it is created on first use, and outlives the image's deletion (a row
# is small, and an image id is never reused).
ANCHOR_TABLE = 'import_ext_record_anchors'
_ANCHOR_TABLES = {}


def _anchor_table():
    """(engine, table): created in Glance's database if not there yet."""
    import sqlalchemy as sa
    engine = sqlalchemy_api().get_engine()
    table = _ANCHOR_TABLES.get(engine)
    if table is None:
        table = sa.Table(
            ANCHOR_TABLE, sa.MetaData(),
            sa.Column('image_id', sa.String(36), primary_key=True),
            # The fingerprint of the records the plugins last wrote.
            sa.Column('sealed', sa.String(100), nullable=True),
            # The one of a write under way (or cut short by a crash).
            sa.Column('writing', sa.String(100), nullable=True),
            # The import's caller (caller_facts), as JSON.
            sa.Column('caller', sa.Text, nullable=True),
            sa.Column('updated_at', sa.DateTime, nullable=False),
            mysql_engine='InnoDB', mysql_charset='utf8mb4')
        with engine.begin() as conn:
            conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
        _ANCHOR_TABLES[engine] = table
    return engine, table


def _retried_on_deadlock(function):
    """Run ``function`` again (a few times) when its transaction deadlocks.

    oslo.db's retry: Glance's engine turns a deadlock (MariaDB Galera
    aborts a conflicting commit, PostgreSQL picks a victim) into
    DBDeadlock. Each anchor write is one transaction whose condition is
    checked again on each run.
    """
    @functools.wraps(function)
    def retried(*args, **kwargs):
        from oslo_db import api as oslo_db_api
        return oslo_db_api.wrap_db_retry(
            max_retries=5, retry_interval=0.1, max_retry_interval=1,
            retry_on_deadlock=True)(function)(*args, **kwargs)
    return retried


def anchor_get(image_id):
    """{'sealed', 'writing', 'caller'} of ``image_id``, or None."""
    import sqlalchemy as sa
    engine, table = _anchor_table()
    with engine.connect() as conn:
        row = conn.execute(sa.select(
            table.c.sealed, table.c.writing, table.c.caller).where(
                table.c.image_id == image_id)).first()
    if row is None:
        return None
    return {'sealed': row[0], 'writing': row[1],
            'caller': _json_or_none(row[2])}


def anchored_image_ids():
    """Every image id that has an anchor."""
    import sqlalchemy as sa
    engine, table = _anchor_table()
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(table.c.image_id))]


@_retried_on_deadlock
def anchor_begin(image_id, value, caller=None):
    """Accept ``value`` beside the anchored one (a write under way).

    :param caller: caller_facts of the import writing, or None: kept.
    """
    import json

    from oslo_utils import timeutils
    import sqlalchemy as sa
    engine, table = _anchor_table()
    values = {'writing': value, 'updated_at': timeutils.utcnow()}
    if caller is not None:
        values['caller'] = json.dumps(caller, sort_keys=True)
    for _ in range(3):
        with engine.begin() as conn:
            done = conn.execute(table.update().where(
                table.c.image_id == image_id).values(**values))
            if done.rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(table.insert().values(image_id=image_id,
                                                       **values))
                return
            except sa.exc.IntegrityError:
                continue  # inserted meanwhile by another write: update it
    raise RuntimeError('could not anchor the records of image %s' % image_id)


@_retried_on_deadlock
def anchor_confirm(image_id, value):
    """``value`` is now the records' state; the write is done."""
    from oslo_utils import timeutils
    import sqlalchemy as sa
    engine, table = _anchor_table()
    with engine.begin() as conn:
        conn.execute(table.update().where(
            table.c.image_id == image_id).values(
                sealed=value, updated_at=timeutils.utcnow(),
                writing=sa.case((table.c.writing == value, sa.null()),
                                else_=table.c.writing)))


@_retried_on_deadlock
def anchor_abort(image_id, value):
    """The write of ``value`` failed: the anchored state stands."""
    engine, table = _anchor_table()
    with engine.begin() as conn:
        conn.execute(table.update().where(
            (table.c.image_id == image_id) &
            (table.c.writing == value)).values(writing=None))


def _json_or_none(text):
    import json
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def read_session():
    """A database session for reads, in Glance's engine."""
    return _session('session_for_read')


def write_session():
    """A database session whose changes commit together, or not at all."""
    return _session('session_for_write')


# -- 6. Policy, request context, paste pipeline ------------------------------
# Glance's paste filter that sets ``req.context`` (a glance.context
# .RequestContext with service_catalog, auth_token, policy_enforcer), as
# named in glance-api-paste.ini's ``[composite:api]`` pipelines
# (``keystone = ... authtoken context rootapp``).
CONTEXT_FILTER = 'context'
# The same for the flavors without Keystone
# (``default = ... unauthenticated-context rootapp``).
UNAUTHENTICATED_CONTEXT_FILTER = 'unauthenticated-context'
# Where the pipelines are: one option per ``[paste_deploy] flavor``,
# ``default`` when it is unset (glance.api.pipeline_factory).
PASTE_PIPELINES = 'composite:api'
DEFAULT_FLAVOR = 'default'
# keystonemiddleware's group. Glance 28.2.0-32.0.0 read its
# ``identity_uri`` when proxying an import to the staging worker
# (glance.context.get_ksa_client); 33.0.0 does not.
AUTHTOKEN_GROUP = 'keystone_authtoken'


# glance.common.wsgi.Request.body_file: under uWSGI, a body sent with
# "Transfer-Encoding: chunked" is read with uwsgi.chunked_read() (its
# _UWSGIChunkFile), not from wsgi.input; without that header, from
# wsgi.input as webob reads it. The stage_digests filter reads a chunked
# body itself and hands Glance a terminated wsgi.input without it.
CHUNKED_BODY_HEADER = 'HTTP_TRANSFER_ENCODING'


def request_context(req):
    """The RequestContext Glance's ``context`` filter put on ``req``."""
    return getattr(req, 'context', None)


# What of a RequestContext the admin command needs to act later as that
# caller (oslo.context's names; Glance's policies read these).
CALLER_FIELDS = ('user_id', 'project_id', 'roles', 'user_domain_id',
                 'project_domain_id', 'system_scope')


def caller_facts(context):
    """The caller of ``context``, as plain data (anchor_begin)."""
    facts = {name: getattr(context, name, None) for name in CALLER_FIELDS}
    facts['roles'] = list(facts['roles'] or [])
    return facts


def caller_context(facts):
    """A RequestContext for the caller ``facts`` describe.

    With Glance's policy enforcer: Glance's policies and DB API judge it
    as that user.
    """
    import glance.context
    facts = {k: v for k, v in dict(facts).items() if k in CALLER_FIELDS}
    return glance.context.RequestContext(**facts)


def may_modify_image(context, image):
    """Glance's ``modify_image`` policy for ``context`` on ``image``: bool."""
    return check_image_policy(context, image, 'modify_image')


def check_image_policy(context, image, rule):
    """Glance's image policy check ``rule``: True if allowed.

    ``rule`` names an ImageAPIPolicy method (modify_image,
    deactivate_image...). ``image`` is a domain image (an ImageRepo's);
    ImageAPIPolicy.check turns a refusal into False.
    """
    from glance.api.v2 import policy as api_policy
    return api_policy.ImageAPIPolicy(
        context, image,
        enforcer=getattr(context, 'policy_enforcer', None)).check(rule)


# -- 7. Glance's options -----------------------------------------------------
IMPORT_PLUGINS_GROUP = 'image_import_opts'          # image_import_plugins
# The stevedore namespace Glance loads image_import_plugins from
# (async_/flows/plugins get_import_plugins: NamedExtensionManager,
# invoke_on_load, with get_flow's keyword arguments).
PLUGIN_NAMESPACE = 'glance.image_import.plugins'
# Glance's own plugins that change the staged data: image_decompression
# replaces the staged file, image_conversion writes a converted one and
# hands it on as file_path.
DATA_CHANGING_PLUGINS = ('image_conversion', 'image_decompression')
# Glance's own plugins whose revert sets the image ``queued`` itself, from
# ``importing`` or ``uploading`` (``queued`` again raises, and taskflow
# stops reverting: the import lock would stay). _ConvertImage.revert also
# removes the staged file, which its execute removes once converted.
QUEUED_BY_REVERT_PLUGINS = ('image_conversion',)
GLANCE_DOWNLOAD_GROUP = 'glance_download_properties'  # extra_properties
IMPORT_FILTERING_GROUP = 'import_filtering_opts'


def image_import_plugins(conf=None):
    """``[image_import_opts] image_import_plugins``; [] if not registered.

    Glance registers the option when its import flow module is first
    imported (api_image_import), which a paste filter may run before.
    """
    conf = cfg.CONF if conf is None else conf
    try:
        import glance.async_.flows.api_image_import  # noqa: F401
    except ImportError:  # pragma: no cover - only outside Glance
        pass
    try:
        return list(conf[IMPORT_PLUGINS_GROUP].image_import_plugins)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return []


def glance_download_copied_prefixes(conf=None):
    """What Glance's glance-download metadata step copies (a tuple).

    ``[glance_download_properties] extra_properties``; () if not
    registered.
    """
    conf = cfg.CONF if conf is None else conf
    try:
        return tuple(conf[GLANCE_DOWNLOAD_GROUP].extra_properties)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return ()


def hashing_algorithm(conf=None):
    """``[DEFAULT] hashing_algorithm`` (os_hash_algo); sha512 if absent."""
    conf = cfg.CONF if conf is None else conf
    try:
        return conf.hashing_algorithm
    except cfg.NoSuchOptError:
        return 'sha512'


def worker_url(conf=None):
    """This worker's URL as Glance announces it to its peers, or None.

    ``worker_self_reference_url`` (written to os_glance_stage_host), else
    ``public_endpoint``.
    """
    conf = cfg.CONF if conf is None else conf
    for name in ('worker_self_reference_url', 'public_endpoint'):
        try:
            url = getattr(conf, name)
        except cfg.NoSuchOptError:
            continue
        if url:
            return url
    return None


def staging_dir(conf=None):
    """The directory this worker stages data in, or None.

    ``[os_glance_staging_store] filesystem_store_datadir`` with
    ``enabled_backends``, else the ``node_staging_uri`` file URI.
    Raises cfg.Error or ValueError for an invalid option.
    """
    conf = cfg.CONF if conf is None else conf
    if conf.enabled_backends:
        return conf[STAGING_STORE].filesystem_store_datadir or None
    uri = conf.node_staging_uri or ''
    if not uri.startswith('file://'):
        return None
    return uri[len('file://'):] or None


def register_glance_options(conf=None):
    """Register Glance's options as glance-api has them (admin command).

    Glance registers its options as its modules are imported:
    glance.common.config (worker_self_reference_url, node_staging_uri,
    hashing_algorithm; enabled_backends from 32.0.0), the SQLAlchemy API
    (database; it imports glance.common.wsgi, which has enabled_backends
    on 28.2.0-31.1.0), glance.api.versions (public_endpoint).
    """
    conf = cfg.CONF if conf is None else conf
    import glance.common.config  # noqa: F401
    import glance.db.sqlalchemy.api  # noqa: F401
    try:
        conf.import_opt('public_endpoint', 'glance.api.versions')
    except (ImportError, cfg.Error):
        pass


def register_staging_store_options(conf=None):
    """Register the reserved stores' options, with ``enabled_backends``.

    As glance-api does: glance_store.register_store_opts with Glance's
    RESERVED_STORES.
    """
    conf = cfg.CONF if conf is None else conf
    if conf.enabled_backends:
        import glance_store
        glance_store.register_store_opts(
            conf, reserved_stores=dict(RESERVED_STORES))


def register_preflight_options(conf=None):
    """Register what the pre-flight command reads beyond the admin command.

    ``[image_import_opts]`` (glance.async_.flows.api_image_import) and the
    property protection options (glance.common.property_utils).
    """
    conf = cfg.CONF if conf is None else conf
    conf.import_opt('image_import_plugins',
                    'glance.async_.flows.api_image_import',
                    group=IMPORT_PLUGINS_GROUP)
    conf.import_opt('property_protection_file',
                    'glance.common.property_utils')


# -- 8. Import filtering -----------------------------------------------------
# What get_validated_address's ValueError says (its text starts with one of
# these, glance/common/utils.py) -> what it means.
REFUSALS = (
    ('scheme not allowed', 'its scheme is not allowed'),
    ('host not allowed', 'its host is not allowed'),
    ('invalid external host', 'its host is not allowed'),
    ('port not allowed', 'its port is not allowed'),
    ('failed to resolve', 'its host name does not resolve'),
    ('no allowed addresses',
     'its host resolves only to loopback, link-local or refused '
     'addresses'),
)


def import_filter(url):
    """Glance's ``[import_filtering_opts]`` check of ``url``.

    :returns: (allowed, addresses): the addresses to connect to, or None
        where the release only says yes or no (connect by name).
    :raises ValueError: Glance refused it (``refusal_reason`` says why);
        any other exception: the check could not run.
    """
    # Importing it registers the import_filtering_opts options.
    from glance.common import utils as glance_utils
    get_address = getattr(glance_utils, 'get_validated_address', None)
    if callable(get_address):        # 33.0.0
        addresses = list(dict.fromkeys(get_address(url)))
        return bool(addresses), addresses
    check = getattr(glance_utils, 'validate_uri', None)
    if not callable(check):          # 28.2.0 - 32.0.0
        check = glance_utils.validate_import_uri
    return bool(check(url)), None


def refusal_reason(exc):
    """What Glance's refusal ``exc`` means, or None if it does not say."""
    text = str(exc)
    for start, reason in REFUSALS:
        if text.startswith(start):
            return reason
    return None


# -- What was verified where -------------------------------------------------
# name -> where it was checked. Everything here is also exercised by the
# functional tests on every release of the matrix.
VERIFIED = {
    'GLANCE_NAMESPACE': _EVERY,
    'RESERVED_PREFIX': _EVERY,
    'IMPORT_LOCK': _EVERY,
    'STAGE_HOST': _EVERY,
    'IMPORTING_TO_STORES': _EVERY,
    'STAGING_STORE': _EVERY,
    'TASKS_STORE': _EVERY,
    'RESERVED_STORES': _EVERY,
    'IMPORT_TASK_TYPE': _EVERY,
    'FlowArguments': _EVERY + ' (taskflow_executor kwds, get_flow)',
    'WRAPPER_OPERATIONS': _EVERY,
    'ACTION_OPERATIONS': _EVERY + ' (_ImportActions identical)',
    'import_action_wrapper': _EVERY,
    'wrapped_image': _EVERY + ' (_ImportActions._image)',
    'IMPORT_SLOT': _EVERY + ' (no such attribute in Glance)',
    'import_slot': _EVERY + ' (get_flow passes one wrapper to every '
                            'plugin)',
    'exceptions': _EVERY,
    'upload_failure_base': _EVERY,
    'db_api': _EVERY,
    'image_repo': _EVERY + ' (ImageRepo(context, db_api))',
    'admin_context': _EVERY,
    'sqlalchemy_api': _EVERY + ' (image_get, image_get_all, task_get)',
    'sqlalchemy_models': _EVERY + ' (the seven models)',
    'named_lock': 'source: sqlalchemy api get_engine() on 28.2.0-33.0.0; '
                  'GET_LOCK/RELEASE_LOCK of MySQL 5.7+ and MariaDB',
    'LockTimeout': _EVERY + ' (named_lock raises it, not Glance)',
    'ANCHOR_TABLE': 'the library\'s own table; Glance has no table of '
                    'that name on 28.2.0-33.0.0',
    'anchor_get': _ANCHORS,
    'anchored_image_ids': _ANCHORS,
    'anchor_begin': _ANCHORS,
    'anchor_confirm': _ANCHORS,
    'anchor_abort': _ANCHORS,
    'read_session': 'source: session_for_read from 31.1.0, get_session() '
                    'on 28.2.0-30.2.0',
    'write_session': 'source: session_for_write from 31.1.0, get_session() '
                     'on 28.2.0-30.2.0',
    'CONTEXT_FILTER': _EVERY + ' (glance-api-paste.ini identical)',
    'UNAUTHENTICATED_CONTEXT_FILTER': _EVERY + ' (glance-api-paste.ini)',
    'PASTE_PIPELINES': _EVERY + ' (pipeline_factory, glance-api-paste.ini); '
                                'the pre-flight also reads older '
                                '[pipeline:glance-api-<flavor>] sections',
    'DEFAULT_FLAVOR': _EVERY + ' (pipeline_factory)',
    'AUTHTOKEN_GROUP': 'source: get_ksa_client reads identity_uri on '
                       '28.2.0-32.0.0, not on 33.0.0',
    'CHUNKED_BODY_HEADER': _EVERY + ' (Request.body_file, '
                                    '_UWSGIChunkFile)',
    'request_context': _EVERY + ' (ContextMiddleware sets req.context)',
    'CALLER_FIELDS': _EVERY + ' (RequestContext is oslo.context\'s)',
    'caller_facts': _EVERY,
    'caller_context': _EVERY + ' (RequestContext(policy_enforcer=None) '
                               'makes policy.Enforcer())',
    'may_modify_image': _EVERY + ' (ImageAPIPolicy(context, image, '
                                 'enforcer).check)',
    'check_image_policy': _EVERY + ' (ImageAPIPolicy.modify_image, '
                                   'deactivate_image)',
    'IMPORT_PLUGINS_GROUP': _EVERY,
    'PLUGIN_NAMESPACE': _EVERY + ' (get_import_plugins)',
    'DATA_CHANGING_PLUGINS': _EVERY + ' (async_/flows/plugins)',
    'QUEUED_BY_REVERT_PLUGINS': 'source of 33.0.0 (_ConvertImage.revert '
                                'sets queued, removes src_path)',
    'GLANCE_DOWNLOAD_GROUP': _EVERY,
    'IMPORT_FILTERING_GROUP': _EVERY,
    'image_import_plugins': _EVERY + ' (registered by api_image_import)',
    'glance_download_copied_prefixes': _EVERY,
    'hashing_algorithm': _EVERY,
    'worker_url': _EVERY,
    'staging_dir': _EVERY,
    'register_glance_options': _EVERY + ' (where each option lives)',
    'register_staging_store_options': _EVERY,
    'register_preflight_options': _EVERY + ' (where each option lives)',
    'import_filter': 'source: get_validated_address on 33.0.0, '
                     'validate_import_uri on 28.2.0-32.0.0',
    'REFUSALS': 'source of 33.0.0 (get_validated_address only)',
    'refusal_reason': 'source of 33.0.0 (get_validated_address only)',
}
