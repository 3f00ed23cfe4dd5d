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

"""Glance's HTTP side: its paste pipeline, request bodies, URL filtering.

Where the library's paste filters go in glance-api's pipeline, how Glance
reads a request body, and Glance's ``[import_filtering_opts]`` check of a
URL an import would fetch (``import_filter``), with what its refusals
mean.
"""

from glance_import_ext.glance_internals import releases

_EVERY = releases.EVERY

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

# glance.common.wsgi.Request.body_file: under uWSGI, a body sent with
# "Transfer-Encoding: chunked" is read with uwsgi.chunked_read() (its
# _UWSGIChunkFile), not from wsgi.input; without that header, from
# wsgi.input as webob reads it. The stage_digests filter reads a chunked
# body itself and hands Glance a terminated wsgi.input without it.
CHUNKED_BODY_HEADER = 'HTTP_TRANSFER_ENCODING'


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


# name -> where it was checked.
VERIFIED = {
    'CONTEXT_FILTER': _EVERY + ' (glance-api-paste.ini identical)',
    'UNAUTHENTICATED_CONTEXT_FILTER': _EVERY + ' (glance-api-paste.ini)',
    'PASTE_PIPELINES': _EVERY + ' (pipeline_factory, glance-api-paste.ini); '
                                'the pre-flight also reads older '
                                '[pipeline:glance-api-<flavor>] sections',
    'DEFAULT_FLAVOR': _EVERY + ' (pipeline_factory)',
    'CHUNKED_BODY_HEADER': _EVERY + ' (Request.body_file, '
                                    '_UWSGIChunkFile)',
    'import_filter': 'source: get_validated_address on 33.0.0, '
                     'validate_import_uri on 28.2.0-32.0.0',
    'REFUSALS': 'source of 33.0.0 (get_validated_address only)',
    'refusal_reason': 'source of 33.0.0 (get_validated_address only)',
}
