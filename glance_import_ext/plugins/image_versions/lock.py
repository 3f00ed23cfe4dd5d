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

"""The lineage lock: rotations of one lineage run one at a time, everywhere.

Every glance-api replica, each of its processes and the admin command
must hold the same lock, or two rotations of one lineage interleave and
leave two current versions, or none. Which lock:

- ``[image_versions] coordination_url`` set: a lock of OpenStack's
  coordination library, tooz (etcd3+http, redis, zookeeper, mysql,
  postgresql... whatever the deployment runs for its other services);
- not set: the database's own, where every glance-api shares it
  (``glance_internals.named_lock``: MySQL/MariaDB GET_LOCK, PostgreSQL
  advisory locks). A MariaDB Galera node grants GET_LOCK on that node
  only, so on a Galera cluster, as on a database with no such lock,
  image_versions refuses every import until coordination_url is set:
  never a weaker lock in silence.
"""

import contextlib
import os
import socket
import threading
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.common import errors
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)
GROUP = 'image_versions'

_COORDINATORS = {}   # coordination_url -> this process's started coordinator
_COORDINATORS_LOCK = threading.Lock()


class LockUnavailable(Exception):
    """No lock every rotation of a lineage shares; the message says why."""


def _url(conf=None):
    conf = conf or cfg.CONF[GROUP]
    return (conf.coordination_url or '').strip()


def problem(conf=None, lock_kind=None):
    """Why rotations cannot be serialized here, or None if they can.

    :param conf: the ``[image_versions]`` group (default: the global one).
    :param lock_kind: returns the database's lock kind (default: that of
        Glance's engine, ``glance_internals.database_lock_kind``).
    """
    if _url(conf):
        try:
            _tooz_coordination()
        except LockUnavailable as exc:
            return str(exc)
        return None
    try:
        kind = (lock_kind or glance_internals.database_lock_kind)()
    except Exception as exc:
        return ('the database could not say which lock it gives (%s: %s)'
                % (type(exc).__name__, errors.bounded(exc, 200)))
    if kind in glance_internals.SHARED_LOCK_KINDS:
        return None
    if kind == 'galera':
        return ('Glance\'s database is a MariaDB Galera node, whose '
                'GET_LOCK holds on that node only: set [%s] '
                'coordination_url to a tooz backend every glance-api '
                'reaches (etcd3+http://, redis://, zookeeper://)' % GROUP)
    return ('Glance\'s database (%s) has no lock every glance-api shares: '
            'set [%s] coordination_url to a tooz backend' % (kind, GROUP))


@contextlib.contextmanager
def lineage_lock(name, timeout):
    """Hold the lineage lock ``name`` for the block.

    :param name: the lineage's lock name (at most 64 characters).
    :param timeout: seconds to wait for it.
    :raises LockTimeout: not obtained in time.
    :raises LockUnavailable: no shared lock here (``problem`` says why),
        or the coordination backend failed.
    """
    url = _url()
    if not url:
        why = problem()
        if why:
            raise LockUnavailable(why)
        with glance_internals.named_lock(name, timeout):
            yield
        return
    lock = _tooz_lock(url, name)
    try:
        held = lock.acquire(blocking=timeout)
    except Exception as exc:
        raise LockUnavailable('the coordination backend failed (%s)' %
                              _failure(exc, url))
    if not held:
        raise glance_internals.LockTimeout(
            'lock %s not obtained within %ss' % (name, timeout))
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception as exc:
            # The backend ends the lock with the member's session.
            LOG.warning('Image versions: could not release lock %s: %s',
                        name, type(exc).__name__)


def _tooz_coordination():
    try:
        from tooz import coordination
    except ImportError:
        raise LockUnavailable(
            'coordination_url is set but tooz is not installed in '
            "glance-api's Python environment (install "
            'glance-import-ext[coordination] or tooz, and the client '
            "library of the backend)")
    return coordination


def probe(url, timeout=5):
    """Take and release a lock of the backend at ``url``; None or why not.

    For the pre-flight: a coordinator of its own, stopped at the end.

    :param url: a coordination_url.
    :param timeout: seconds to wait for the probe's lock.
    """
    try:
        coordination = _tooz_coordination()
    except LockUnavailable as exc:
        return str(exc)
    member = ('glance-import-ext-preflight.%s.%d' % (
        socket.gethostname(), os.getpid())).encode('utf-8')
    try:
        probing = coordination.get_coordinator(url, member)
        probing.start()
        try:
            probe_lock = probing.get_lock(b'glance-import-ext-preflight')
            if not probe_lock.acquire(blocking=timeout):
                return 'its probe lock was not granted within %ss' % timeout
            probe_lock.release()
        finally:
            probing.stop()
    except Exception as exc:
        return _failure(exc, url)
    return None


def _tooz_lock(url, name):
    try:
        return coordinator(url).get_lock(name.encode('utf-8'))
    except LockUnavailable:
        raise
    except Exception as exc:
        raise LockUnavailable('the coordination backend failed (%s)' %
                              _failure(exc, url))


def _failure(exc, url):
    """``exc`` for a message: bounded, without the URL's password."""
    text = '%s: %s' % (type(exc).__name__, errors.bounded(exc, 200))
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, '***') if password else text


def coordinator(url):
    """This process's started tooz coordinator for ``url``.

    One per process (glance-api's, the admin command's), started on first
    use with its heartbeat thread, which keeps its locks alive on the
    backends that expire them.

    :param url: the coordination_url.
    """
    with _COORDINATORS_LOCK:
        found = _COORDINATORS.get(url)
        if found is not None and found[0] == os.getpid():
            return found[1]
        coordination = _tooz_coordination()
        member = ('glance-import-ext.%s.%d' % (
            socket.gethostname(), os.getpid())).encode('utf-8')
        started = coordination.get_coordinator(url, member)
        started.start(start_heart=True)
        _COORDINATORS[url] = (os.getpid(), started)
        return started
