"""Which glance-api worker this is, and whether another one answers."""

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from oslo_config import cfg

# Glance's hidden property naming the worker that holds staged data.
STAGE_HOST = 'os_glance_stage_host'


def this_worker():
    """This worker's own URL, as Glance announces it to its peers."""
    conf = cfg.CONF
    for name in ('worker_self_reference_url', 'public_endpoint'):
        try:
            url = getattr(conf, name)
        except cfg.NoSuchOptError:
            continue
        if url:
            return url
    return None


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
