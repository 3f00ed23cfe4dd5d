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

"""Values the admin command reads from Glance or prints: checked, escaped."""

import re
import urllib.parse

_UUID = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?'
                   r'[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')


def parse_worker(value):
    """The canonical form of a glance-api worker URL; ValueError if not one.

    http or https, a host, an optional port and path; no credentials,
    query, fragment, spaces or control characters. Scheme and host are
    lowercased, a default port and a trailing slash dropped.

    :param value: the URL as given or as read from Glance's records.
    :raises ValueError: saying why ``value`` is not a worker URL.
    """
    if not isinstance(value, str) or not value:
        raise ValueError('empty')
    text = value
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError('contains spaces or control characters')
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError('not a URL: %s' % exc)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        raise ValueError('not an http or https URL')
    host = parts.hostname
    if not host:
        raise ValueError('no host')
    if parts.username is not None or parts.password is not None:
        raise ValueError('credentials in the URL')
    if parts.query or parts.fragment:
        raise ValueError('a query or fragment in the URL')
    if port == {'http': 80, 'https': 443}[scheme]:
        port = None
    netloc = ('[%s]' % host) if ':' in host else host
    if port is not None:
        netloc += ':%d' % port
    return urllib.parse.urlunsplit(
        (scheme, netloc, parts.path.rstrip('/'), '', ''))


def worker_of(value):
    """``parse_worker(value)``, or None if it is not a worker URL.

    :param value: a value read from Glance's records (any type).
    """
    try:
        return parse_worker(value)
    except ValueError:
        return None


def show(value, limit=120):
    """``value`` safe to print on one line: escaped, bounded.

    :param value: anything; None is shown as ``-``.
    :param limit: how many characters to keep before ``...``.
    """
    if value is None:
        return '-'
    out = []
    for ch in str(value):
        if ch == '\\' or not ch.isprintable():
            out.append(ch.encode('unicode_escape').decode('ascii'))
        else:
            out.append(ch)
    text = ''.join(out)
    if len(text) > limit:
        text = text[:limit] + '...'
    return text


def is_image_id(value):
    """True if ``value`` has the form of an image id (a UUID).

    :param value: a string from the command line or a staged file's name.
    """
    return bool(_UUID.match(value or ''))
