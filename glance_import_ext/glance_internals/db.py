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

"""Glance's database: the one place that knows its tables and sessions.

The rest of the library asks for what it needs with the verbs below, in
plain values (dicts, ids, statuses): an image or a task (or None), a
task kept fresh, one image's properties changed on a condition, the
imports the admin command looks at and its conditional recovery, the
records' anchors. Nothing outside this package imports ``sqlalchemy``,
``oslo_db`` or ``glance``, nor calls Glance's DB API (a unit test
enforces it).

Two doors change an image: an import changes its own through Glance's
action wrapper (``actions``); the library's other writers use
``update_image`` (with the caller's rights, through Glance's DB API) and
the admin command ``recover_image`` (its SQL, on a condition).

Names of this package are looked up through it (``seam.X``) when used,
as they were when the seam was one module: a test's patch of
``glance_internals.X`` reaches every caller.
"""

import contextlib
import functools

from glance_import_ext import glance_internals as seam
from glance_import_ext.glance_internals import releases
from glance_import_ext.glance_internals import reserved

_EVERY = releases.EVERY
_ANCHORS = ('source: sqlalchemy api get_engine() on 28.2.0-33.0.0 (an '
            'oslo.db engine: deadlocks raise DBDeadlock); the library\'s '
            'own table, SQLAlchemy Core')
_VERBS = _EVERY + ' (DB API image_get, image_get_all, image_update, ' \
    'task_get, task_update)'
_ADMIN_SQL = _EVERY + ' (the columns of images, image_properties, ' \
    'image_tags, image_members, image_locations, tasks, task_info)'
_PARALLEL = ('source of 33.0.0 (async_/flows/parallel_api_image_import: '
             '_create_pending_location_rows, _import_to_one_store); matrix '
             'of 33.0.0 (test_parallel_stores); 28.2.0-32.0.0 have no '
             'parallel import and write no such row')

# Glance 33's parallel multi-store import writes one location row per
# target store before the upload: url pending://parallel-import/<image>/
# <store>, status 'pending' then 'uploading', metadata {'store': <store>,
# 'os_glance_parallel_import': 'pending'}. The row turns 'active' with the
# store's URL once that store has the data, or is deleted when it fails;
# a worker that dies mid-upload leaves it. No data is behind such a row.
PARALLEL_IMPORT_TAG = ('os_glance_parallel_import', 'pending')
PARALLEL_IMPORT_STATUSES = ('pending', 'uploading')


# -- Glance's DB API, repositories, sessions -------------------------------
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
    """Glance's admin request context, for the admin command's reads."""
    import glance.context
    return glance.context.get_admin_context()


def sqlalchemy_api():
    """glance.db.sqlalchemy.api: image_get, image_get_all, task_get."""
    from glance.db.sqlalchemy import api
    return api


def sqlalchemy_models():
    """glance.db.sqlalchemy.models: the tables the admin verbs use.

    Image, ImageProperty, ImageTag, ImageMember, ImageLocation, Task,
    TaskInfo, and the columns named in locked_image_ids,
    latest_import_task and recover_image (below).
    """
    from glance.db.sqlalchemy import models
    return models


@contextlib.contextmanager
def _session(factory_name):
    api = seam.sqlalchemy_api()
    factory = getattr(api, factory_name, None)
    if factory is not None:                     # 31.1.0 and later
        with factory() as session:
            yield session
        return
    session = api.get_session()                 # 28.2.0 - 30.2.0
    with session.begin():
        yield session


# What the database's own named locks are worth (database_lock_kind).
SHARED_LOCK_KINDS = ('mysql', 'postgresql')


def database_lock_kind():
    """Which named lock Glance's database gives every glance-api alike.

    'mysql' (MySQL or MariaDB: GET_LOCK is server-wide), 'postgresql'
    (advisory locks, server-wide), 'galera' (a MariaDB Galera node:
    GET_LOCK holds on that node only, another node grants the same lock
    at the same time), else the dialect's name (no such lock). Asked once
    per engine.
    """
    engine = seam.sqlalchemy_api().get_engine()
    kind = _LOCK_KINDS.get(engine)
    if kind is None:
        kind = engine.dialect.name
        if kind == 'mysql' and _wsrep_on(engine):
            kind = 'galera'
        _LOCK_KINDS[engine] = kind
    return kind


_LOCK_KINDS = {}


def database_lock_kind_at(url):
    """database_lock_kind of the database at ``url``, not Glance's engine.

    For the pre-flight, before glance-api runs: one short connection
    (MySQL/MariaDB only: the dialect says the rest), closed at once.

    :param url: an SQLAlchemy URL (``[database] connection``).
    :raises: SQLAlchemy's errors when the database cannot be reached.
    """
    import sqlalchemy
    from sqlalchemy import pool
    kind = sqlalchemy.engine.make_url(url).get_backend_name()
    if kind != 'mysql':
        return kind
    engine = sqlalchemy.create_engine(url, poolclass=pool.NullPool)
    try:
        return 'galera' if _wsrep_on(engine) else kind
    finally:
        engine.dispose()


def _wsrep_on(engine):
    import sqlalchemy
    with engine.connect() as conn:
        row = conn.execute(sqlalchemy.text(
            "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'")).first()
    return row is not None and str(row[1]).upper() == 'ON'


@contextlib.contextmanager
def named_lock(name, timeout):
    """Hold the database-wide lock ``name`` (at most 64 characters).

    On a connection of Glance's engine, so every glance-api sharing the
    database, and the admin command, serialize on it: MySQL/MariaDB's
    GET_LOCK, PostgreSQL's session advisory lock. Held until the block
    ends or the connection drops (a killed process releases it).

    :raises LockTimeout: not obtained within ``timeout`` seconds.
    :raises LockUnavailable: the database has no lock every glance-api
        shares (database_lock_kind): never a weaker one in its place.
    """
    kind = seam.database_lock_kind()
    if kind not in SHARED_LOCK_KINDS:
        raise LockUnavailable(kind)
    engine = seam.sqlalchemy_api().get_engine()
    with engine.connect() as conn:
        if kind == 'mysql':
            held = _mysql_lock(conn, name, timeout)
        else:
            held = _postgresql_lock(conn, name, timeout)
        if not held:
            raise LockTimeout('lock %s not obtained within %ss' % (
                name, timeout))
        try:
            yield
        finally:
            _unlock(conn, kind, name)


def _mysql_lock(conn, name, timeout):
    import sqlalchemy
    return conn.execute(sqlalchemy.text('SELECT GET_LOCK(:n, :t)'),
                        {'n': name, 't': timeout}).scalar() == 1


def _advisory_key(name):
    import hashlib
    # A signed 64-bit key from the name: PostgreSQL's advisory lock ids.
    digest = hashlib.sha256(name.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big', signed=True)


def _postgresql_lock(conn, name, timeout):
    import time

    import sqlalchemy
    deadline = time.monotonic() + timeout
    query = sqlalchemy.text('SELECT pg_try_advisory_lock(:k)')
    while True:
        if conn.execute(query, {'k': _advisory_key(name)}).scalar():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _unlock(conn, kind, name):
    import sqlalchemy
    if kind == 'mysql':
        conn.execute(sqlalchemy.text('SELECT RELEASE_LOCK(:n)'),
                     {'n': name})
    else:
        conn.execute(sqlalchemy.text('SELECT pg_advisory_unlock(:k)'),
                     {'k': _advisory_key(name)})


class LockUnavailable(Exception):
    """The database has no named lock every glance-api shares.

    :param kind: what database_lock_kind found.
    """

    def __init__(self, kind):
        self.kind = kind
        super().__init__(
            'GET_LOCK holds on one Galera node only' if kind == 'galera'
            else 'a %s database has no lock shared by every process' % kind)


class LockTimeout(Exception):
    """named_lock could not get its lock in time."""


# The library's own table in Glance's database: one row per image the
# plugins wrote records on (records.anchoring). Users have no way to it;
# it is created on first use, and outlives the image's deletion (a row
# is small, and an image id is never reused).
ANCHOR_TABLE = 'import_ext_record_anchors'
_ANCHOR_TABLES = {}


def _anchor_table():
    """(engine, table): created in Glance's database if not there yet."""
    import sqlalchemy as sa
    engine = seam.sqlalchemy_api().get_engine()
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
    DBDeadlock. Each write so wrapped is one transaction whose conditions
    are checked again on each run. (Glance retries its own image_update;
    its task_update it does not.)
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
    from oslo_db import exception as db_exc
    # Update, else insert, each its own transaction: no savepoint, which
    # a Galera node that aborts the transaction (a write through another
    # node) cannot roll back to, hiding the deadlock that is retried.
    for _ in range(3):
        with engine.begin() as conn:
            done = conn.execute(table.update().where(
                table.c.image_id == image_id).values(**values))
        if done.rowcount:
            return
        try:
            with engine.begin() as conn:
                conn.execute(table.insert().values(image_id=image_id,
                                                   **values))
            return
        except (sa.exc.IntegrityError, db_exc.DBDuplicateEntry):
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


# -- Images and tasks, as plain data ---------------------------------------
def _properties(image):
    """The properties of a DB API image that are not deleted, as a dict."""
    props = {}
    for prop in image.get('properties') or ():
        if not prop['deleted']:
            props[prop['name']] = prop['value']
    return props


def _in_progress_store(location):
    """The store of a parallel import's in-progress row, else None."""
    meta = location.get('metadata')
    if (not isinstance(meta, dict) or
            location.get('status') not in PARALLEL_IMPORT_STATUSES or
            meta.get(PARALLEL_IMPORT_TAG[0]) != PARALLEL_IMPORT_TAG[1]):
        return None
    return meta.get('store') or ''


def _plain_image(image):
    locations = image.get('locations') or ()
    import_rows = [{'id': loc['id'], 'store': _in_progress_store(loc),
                    'status': loc['status']} for loc in locations
                   if _in_progress_store(loc) is not None]
    return {'id': image['id'], 'status': image['status'],
            'updated_at': image.get('updated_at'),
            'size': image.get('size'),
            'properties': _properties(image),
            'locations': len(locations) - len(import_rows),
            'import_rows': import_rows}


def get_image(context, image_id):
    """``image_id`` as ``context`` sees it, as plain data.

    :returns: {'id', 'status', 'updated_at' (naive UTC), 'size',
        'properties' (name -> value, deleted ones left out), 'locations'
        (how many hold data: not counting the rows of a parallel import
        in progress), 'import_rows' (those rows: [{'id', 'store',
        'status'}])}.
    :raises: exceptions.NotFound (ImageNotFound), exceptions.Forbidden
        (not visible to ``context``).
    """
    return _plain_image(seam.db_api().image_get(context, image_id))


def image_or_none(context, image_id):
    """get_image, or None if ``context`` does not find or see it."""
    try:
        return seam.get_image(context, image_id)
    except (seam.exceptions.NotFound, seam.exceptions.Forbidden):
        return None


def images_with_status(context, status):
    """Every image ``context`` sees with status ``status`` (as get_image)."""
    return [_plain_image(i) for i in seam.db_api().image_get_all(
        context, filters={'status': status})]


def update_image(context, image_id, properties, hidden=None, status=None,
                 from_status=None):
    """Set some properties of one image (the others stay), in one update.

    With ``context``'s rights, through Glance's DB API (no policy layer,
    no property protections): the caller decides what it may write.

    :param properties: name -> value; only these are written.
    :param hidden: os_hidden's new value, or None: unchanged.
    :param status: the new status, or None: unchanged.
    :param from_status: the status the change was planned on, or None.
    :raises: exceptions.Conflict (the status is no longer
        ``from_status``: nothing changed), NotFound, Forbidden.
    """
    values = {'properties': dict(properties)}
    if hidden is not None:
        values['os_hidden'] = hidden
    if status is not None:
        values['status'] = status
    seam.db_api().image_update(context, image_id, values, purge_props=False,
                               from_state=from_status)


def get_task(context, task_id):
    """Task ``task_id`` as Glance's DB API gives it (a dict).

    'id', 'status', 'updated_at' (naive UTC), 'result' (a dict, or its
    JSON text), 'message', 'input'...

    :raises: exceptions.NotFound (TaskNotFound), exceptions.Forbidden
        (not visible to ``context``).
    """
    return seam.db_api().task_get(context, task_id)


def task_or_none(context, task_id):
    """get_task, or None (no ``task_id``, not found, not visible)."""
    if not task_id:
        return None
    try:
        return seam.get_task(context, task_id)
    except (seam.exceptions.NotFound, seam.exceptions.Forbidden):
        return None


def task_statuses(task_ids):
    """{task id: status} of those of ``task_ids`` that exist, in one read.

    For the keepalive, which looks at every task it watches each time:
    one query for all of them rather than a task_get each.
    """
    import sqlalchemy as sa
    tasks = seam.sqlalchemy_models().Task.__table__
    query = sa.select(tasks.c.id, tasks.c.status).where(sa.and_(
        tasks.c.id.in_(sorted(task_ids)), tasks.c.deleted == sa.false()))
    with seam.read_session() as session:
        return {row[0]: row[1] for row in session.execute(query)}


@_retried_on_deadlock
def touch_tasks(task_ids):
    """Set ``updated_at`` of those of ``task_ids`` still processing to now.

    One write for all of them, and nothing else written: it cannot
    overwrite the status or message Glance writes when the import ends; a
    task no longer processing is left as Glance last wrote it.
    """
    from oslo_utils import timeutils
    import sqlalchemy as sa
    tasks = seam.sqlalchemy_models().Task.__table__
    with seam.write_session() as session:
        session.connection().execute(tasks.update().where(sa.and_(
            tasks.c.id.in_(sorted(task_ids)),
            tasks.c.status == 'processing',
            tasks.c.deleted == sa.false())).values(
                updated_at=timeutils.utcnow()))


@_retried_on_deadlock
def set_task_result(context, task_id, result):
    """Write the task's ``result`` (a dict; Glance stores it as JSON)."""
    seam.db_api().task_update(context, task_id, {'result': result})


# -- The admin command's reads and its conditional recovery ----------------
def locked_image_ids(statuses):
    """Ids of the images in one of ``statuses`` that hold an import lock."""
    import sqlalchemy as sa
    m = seam.sqlalchemy_models()
    images, props = m.Image.__table__, m.ImageProperty.__table__
    query = sa.select(images.c.id).select_from(images.join(
        props, props.c.image_id == images.c.id)).where(sa.and_(
            props.c.name == reserved.IMPORT_LOCK,
            props.c.deleted == sa.false(),
            images.c.deleted == sa.false(),
            images.c.status.in_(list(statuses))))
    with seam.read_session() as session:
        return [row[0] for row in session.execute(query)]


def latest_import_task(context, image_id):
    """The image's newest import task (task_or_none), or None."""
    import sqlalchemy as sa
    tasks = seam.sqlalchemy_models().Task.__table__
    query = sa.select(tasks.c.id).where(sa.and_(
        tasks.c.image_id == image_id, tasks.c.deleted == sa.false(),
        tasks.c.type == reserved.IMPORT_TASK_TYPE)).order_by(
            tasks.c.created_at.desc()).limit(1)
    with seam.read_session() as session:
        row = session.execute(query).first()
    return seam.task_or_none(context, row[0]) if row else None


def parallel_import_leftovers(image, conf=None):
    """What a dead parallel import left of ``image`` (get_image's shape).

    Its in-progress location rows, and the partial objects the stores of
    those rows hold under the image's id (which make a retry to that store
    fail), looked for only while no location of the image holds data.

    :returns: (row ids, paths of partial objects in this configuration's
        file stores, names of the rows' stores not looked at).
    """
    rows = image.get('import_rows') or ()
    stores = sorted({row['store'] for row in rows})
    if image.get('locations'):
        return [row['id'] for row in rows], [], stores
    paths, unseen = seam.store_objects(image['id'], stores, conf)
    return [row['id'] for row in rows], paths, unseen


class RecoveryConflict(Exception):
    """recover_image found the image or its task changed: nothing changed.

    :param what: 'status' (the image's), 'property' or 'task'.
    :param name: the property's name, or the task's id (None for status).
    :param expected: what the recovery was planned on.
    :param found: what the database holds (None: absent, or not read).
    """

    def __init__(self, what, name=None, expected=None, found=None):
        super().__init__(what, name, expected, found)
        self.what = what
        self.name = name
        self.expected = expected
        self.found = found


@_retried_on_deadlock
def recover_image(image_id, from_status, to_status=None, delete=False,
                  clear_size=False, expect=None, remove=(), set_to=None,
                  fail_task=None, task_message=None, drop_locations=()):
    """Change one image (and its import task) in one transaction, or not.

    Every condition is checked in the transaction that makes the change;
    if one fails, nothing changes (RecoveryConflict).

    :param image_id: the image to change.
    :param from_status: the image's status the change was planned on.
    :param to_status: its new status (ignored with ``delete``).
    :param delete: mark the image and its properties, tags, members and
        locations deleted.
    :param clear_size: set size and virtual_size to NULL.
    :param expect: name -> value each property must still have (None:
        absent).
    :param remove: names of properties to delete.
    :param set_to: name -> value of properties to write.
    :param fail_task: (task id, status, updated_at) of the import task to
        set to ``failure``, if it still has that status and update time.
    :param task_message: the failed task's message.
    :param drop_locations: ids of location rows of a parallel import in
        progress (get_image's 'import_rows') to delete, if each still is
        one.
    :raises RecoveryConflict: a condition failed; nothing was changed.
    """
    from oslo_utils import timeutils
    import sqlalchemy as sa
    m = seam.sqlalchemy_models()
    images, props = m.Image.__table__, m.ImageProperty.__table__
    now = timeutils.utcnow()
    with seam.write_session() as session:
        conn = session.connection()
        values = {'updated_at': now}
        if delete:
            values.update(status='deleted', deleted=True, deleted_at=now)
        else:
            values['status'] = to_status
            if clear_size:
                values.update(size=None, virtual_size=None)
        done = conn.execute(images.update().where(sa.and_(
            images.c.id == image_id, images.c.status == from_status,
            images.c.deleted == sa.false())).values(**values))
        if done.rowcount != 1:
            raise RecoveryConflict('status', expected=from_status)
        current = dict(conn.execute(sa.select(
            props.c.name, props.c.value).where(sa.and_(
                props.c.image_id == image_id,
                props.c.deleted == sa.false())).with_for_update()).all())
        for name, value in (expect or {}).items():
            if current.get(name) != value:
                raise RecoveryConflict('property', name, value,
                                       current.get(name))
        if fail_task:
            _fail_task(conn, m, fail_task, task_message, now)
        _drop_import_rows(conn, m, image_id, drop_locations, now)
        if delete:
            _delete_image_rows(conn, m, image_id, now)
            return
        _write_properties(conn, props, image_id, remove, set_to or {}, now)


def _fail_task(conn, m, fail_task, message, now):
    import sqlalchemy as sa
    tasks, infos = m.Task.__table__, m.TaskInfo.__table__
    task_id, status, updated_at = fail_task
    done = conn.execute(tasks.update().where(sa.and_(
        tasks.c.id == task_id, tasks.c.status == status,
        tasks.c.updated_at == updated_at,
        tasks.c.deleted == sa.false())).values(
            status='failure', updated_at=now))
    if done.rowcount != 1:
        raise RecoveryConflict('task', task_id, status)
    conn.execute(infos.update().where(
        infos.c.task_id == task_id).values(message=message))


def _drop_import_rows(conn, m, image_id, row_ids, now):
    import sqlalchemy as sa
    table = m.ImageLocation.__table__
    for row_id in row_ids:
        row = conn.execute(sa.select(table.c.status, table.c.meta_data).where(
            sa.and_(table.c.id == row_id, table.c.image_id == image_id,
                    table.c.deleted == sa.false())).with_for_update()).first()
        if row is None or _in_progress_store(
                {'status': row.status, 'metadata': row.meta_data}) is None:
            raise RecoveryConflict('location', row_id,
                                   'a parallel import in progress',
                                   row and row.status)
        conn.execute(table.update().where(table.c.id == row_id).values(
            status='deleted', deleted=True, deleted_at=now, updated_at=now))


def _delete_image_rows(conn, m, image_id, now):
    import sqlalchemy as sa
    for model in (m.ImageProperty, m.ImageTag, m.ImageMember,
                  m.ImageLocation):
        table = model.__table__
        conn.execute(table.update().where(sa.and_(
            table.c.image_id == image_id,
            table.c.deleted == sa.false())).values(
                deleted=True, deleted_at=now))


def _write_properties(conn, props, image_id, remove, set_to, now):
    import sqlalchemy as sa
    for name in remove:
        conn.execute(props.update().where(sa.and_(
            props.c.image_id == image_id, props.c.name == name,
            props.c.deleted == sa.false())).values(
                deleted=True, deleted_at=now, updated_at=now))
    for name, value in set_to.items():
        done = conn.execute(props.update().where(sa.and_(
            props.c.image_id == image_id,
            props.c.name == name)).values(
                value=value, deleted=False, deleted_at=None,
                updated_at=now))
        if not done.rowcount:
            conn.execute(props.insert().values(
                image_id=image_id, name=name, value=value,
                deleted=False, created_at=now))


# -- Options and failures of the database itself ---------------------------
def register_database_options(conf):
    """oslo.db's ``[database]`` options and defaults, as glance-api has."""
    from oslo_db import options as db_options
    db_options.set_defaults(conf)


def database_failure(exc):
    """What kind of database failure ``exc`` is, or None if none.

    :returns: 'connect' (the server cannot be reached), 'engine' (no
        engine could start), 'url' (``[database] connection`` is
        malformed or names an unknown driver), 'database' (any other
        oslo.db or SQLAlchemy error), or None.
    """
    try:
        from oslo_db import exception as db_exc
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, db_exc.DBConnectionError):
        return 'connect'
    if isinstance(exc, db_exc.CantStartEngineError):
        return 'engine'
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)):
        return 'url'
    if isinstance(exc, (db_exc.DBError, sa_exc.SQLAlchemyError)):
        return 'database'
    return None


# name -> where it was checked.
VERIFIED = {
    'db_api': _EVERY,
    'image_repo': _EVERY + ' (ImageRepo(context, db_api))',
    'admin_context': _EVERY,
    'sqlalchemy_api': _EVERY + ' (get_engine, session_for_read/write or '
                               'get_session)',
    'sqlalchemy_models': _EVERY + ' (the seven models)',
    'SHARED_LOCK_KINDS': 'the library\'s own, for Glance\'s databases on '
                         '28.2.0-33.0.0: MySQL 5.7+, MariaDB 10.x '
                         '(GET_LOCK), PostgreSQL (pg_try_advisory_lock)',
    'database_lock_kind_at': '[database] connection as glance-api reads it '
                             'on 28.2.0-33.0.0; SQLAlchemy make_url, '
                             'create_engine; wsrep_on of MariaDB Galera',
    'database_lock_kind': 'source: sqlalchemy api get_engine() on '
                          '28.2.0-33.0.0; wsrep_on of MariaDB Galera',
    'named_lock': 'source: sqlalchemy api get_engine() on 28.2.0-33.0.0; '
                  'GET_LOCK/RELEASE_LOCK of MySQL 5.7+ and MariaDB, '
                  'pg_try_advisory_lock/pg_advisory_unlock of PostgreSQL',
    'LockUnavailable': _EVERY + ' (named_lock raises it, not Glance)',
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
    'PARALLEL_IMPORT_TAG': _PARALLEL,
    'PARALLEL_IMPORT_STATUSES': _PARALLEL,
    'get_image': _VERBS + '; import_rows: ' + _PARALLEL,
    'image_or_none': _VERBS + '; import_rows: ' + _PARALLEL,
    'images_with_status': _VERBS + '; import_rows: ' + _PARALLEL,
    'update_image': _VERBS + ' (purge_props=False, from_state: Conflict)',
    'get_task': _VERBS,
    'task_or_none': _VERBS,
    'task_statuses': _ADMIN_SQL,
    'touch_tasks': _ADMIN_SQL + ' (updated_at as task_update writes it: '
                                'naive UTC)',
    'set_task_result': _VERBS + ' (result stored as JSON)',
    'locked_image_ids': _ADMIN_SQL,
    'latest_import_task': _ADMIN_SQL,
    'parallel_import_leftovers': _PARALLEL + '; store_objects',
    'RecoveryConflict': _EVERY + ' (recover_image raises it, not Glance)',
    'recover_image': _ADMIN_SQL + '; drop_locations: ' + _PARALLEL + ' '
                     '(image_locations.meta_data is JSON, its status '
                     '\'deleted\' with deleted=1 as image_location_delete '
                     'writes it)',
    'register_database_options': _EVERY + ' (oslo.db options.set_defaults, '
                                          'as glance-api)',
    'database_failure': _EVERY + ' (oslo.db and SQLAlchemy exceptions)',
}
