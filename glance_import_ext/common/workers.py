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

"""Which glance-api worker this is, and whether another one answers."""

import time

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
import requests
from urllib3 import exceptions as urllib3_exceptions

from glance_import_ext import glance_internals

# Glance's hidden property naming the worker that holds staged data.
STAGE_HOST = glance_internals.STAGE_HOST


def this_worker():
    """This worker's own URL, as Glance announces it to its peers."""
    return glance_internals.worker_url()


def answers(url, timeout=3.0):
    """True if the worker at ``url`` answers HTTP at all.

    Any answer counts (even an error status): the question is whether a
    request proxied there can reach it, not whether it is healthy.
    """
    session = ks_session.Session()
    try:
        session.get(url.rstrip('/') + '/healthcheck', authenticated=False,
                    raise_exc=False, timeout=timeout, connect_retries=0,
                    log=False)
    except ks_exceptions.ClientException:
        return False
    return True


# What a connection attempt to a worker found (connection_state()).
CONNECTED = 'connected'      # it accepted the connection (answered or not)
REFUSED = 'refused'          # nothing listens there
UNREACHABLE = 'unreachable'  # no route, unknown name, or no TCP handshake


def connection_state(url, timeout=3.0, read_timeout=1.0):
    """Whether the worker at ``url`` accepts a connection at all.

    CONNECTED once the TCP connection is established, whatever follows: an
    answer (any status), a slow answer (read timeout), a reset. A worker
    that accepts connections but is slow is alive, not down. REFUSED or
    UNREACHABLE when no connection could be made within ``timeout``.
    """
    session = ks_session.Session()
    try:
        session.get(url.rstrip('/') + '/healthcheck', authenticated=False,
                    raise_exc=False, timeout=(timeout, read_timeout),
                    connect_retries=0, log=False)
    except ks_exceptions.ClientException as exc:
        return _classify(exc)
    return CONNECTED


def _classify(exc):
    # keystoneauth raises its own exceptions from inside requests' ones
    # (ConnectTimeout stands for both connect and read timeouts): the
    # requests exception it was raised from tells which phase failed.
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, requests.exceptions.ReadTimeout):
        return CONNECTED
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return UNREACHABLE
    if (isinstance(cause, requests.exceptions.ConnectionError) and
            not isinstance(cause, (requests.exceptions.SSLError,
                                   requests.exceptions.ProxyError))):
        reason = cause.args[0] if cause.args else None
        reason = getattr(reason, 'reason', reason)  # urllib3 MaxRetryError
        if isinstance(reason, urllib3_exceptions.NewConnectionError):
            if isinstance(reason.__cause__ or reason.__context__,
                          ConnectionRefusedError):
                return REFUSED
            return UNREACHABLE
    # Anything else happened on an established connection (reset, TLS,
    # a proxy on the way): something is there.
    return CONNECTED


def down(url, attempts=3, interval=1.0, timeout=3.0, read_timeout=1.0):
    """REFUSED or UNREACHABLE if the worker is really down, else None.

    Really down: ``attempts`` connection attempts, ``interval`` seconds
    apart, all fail to connect. The first one that connects ends the
    check (None). Bounded: at most attempts * (timeout + interval) s.
    """
    state = None
    for attempt in range(max(1, int(attempts))):
        if attempt:
            time.sleep(interval)
        state = connection_state(url, timeout, read_timeout)
        if state == CONNECTED:
            return None
    return state
