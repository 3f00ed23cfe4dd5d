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

"""Fetch a small document a user named by URL, from inside glance-api.

A user can name a vendor's checksum manifest (or its detached signature)
by URL in an image property. glance-api fetches it, so the fetch is held
to the rules Glance applies to its own web-download import:

- Glance's import URL filter (``[import_filtering_opts]``) is applied to
  the URL and to every redirect hop, as Glance's ``SafeRedirectHandler``
  does for web-download. Glance 33.0.0 checks with
  ``glance.common.utils.get_validated_address``, which also resolves the
  host, refuses loopback and link-local addresses (unless the host is in
  ``allowed_hosts``) and returns the addresses allowed; web-download then
  connects to those addresses only, so DNS cannot change the answer
  between check and connection. So does this module. With a Glance that
  has only a yes/no check (``validate_import_uri``, 28.2.0-32.0.0), that
  check is applied and the host is connected by name. Which check a
  release has is ``glance_internals.import_filter``'s business.
- Redirects are followed here, at most ``MAX_REDIRECTS``, never in a
  loop, never from https down to http.
- Every URL is first put in one normal form (``normalise_url``, RFC 3986
  syntax-based normalisation plus a few steps of our own), and that form
  is both what Glance's filter checks and what is requested; a caller
  that judges URLs (trust rules) sees each hop in that form through
  ``on_hop``, so what is judged is what is fetched.
- Only http and https; no credentials of any kind go out: no auth plugin,
  no token, no cookies, no ``.netrc`` entry, no user:password from the URL
  (such URLs are refused). No proxy from the environment either: like
  web-download, the connection goes to the address Glance allowed.
- The body is read as a stream and reading stops as soon as more than
  ``max_bytes`` arrived; a Content-Length above it is refused up front.
- Connection errors, read timeouts and HTTP 5xx are retried ``retries``
  times with a short capped backoff; HTTP 4xx never is. The whole fetch
  has a deadline (every attempt's timeouts plus the backoff), so a server
  that trickles bytes cannot hold an import for longer.

Every failure is a ``FetchError`` whose message says what went wrong and
what to fix, and never shows more than ``MAX_URL_SHOWN`` characters of a
URL (user:password parts are never shown).
"""

import http.cookiejar
import ipaddress
import logging
import re
import socket
import string
import time
import urllib.parse
import zlib

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
import requests
import urllib3

from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)

SCHEMES = ('http', 'https')
REDIRECT_STATUS = (301, 302, 303, 307, 308)
NOT_FOUND_STATUS = (404, 410)
OK_STATUS = (200, 203)
MAX_REDIRECTS = 10          # as urllib's redirect handler in web-download
MAX_URL_LENGTH = 8192       # longer is not a URL a user means
MAX_URL_SHOWN = 120
FIRST_BACKOFF = 0.5         # seconds; doubles after each failed attempt
MAX_BACKOFF = 5.0
CHUNK = 64 * 1024
DEFAULT_PORTS = {'http': 80, 'https': 443}
UNRESERVED = frozenset(string.ascii_letters + string.digits + '-._~')
PATH_CHARS = UNRESERVED | frozenset("!$&'()*+,;=:@/")
QUERY_CHARS = PATH_CHARS | frozenset('?')
HOST_CHARS = frozenset(string.ascii_lowercase + string.digits + '-._~')
# Servers disagree on whether an encoded slash or backslash separates
# path segments, so a rule's prefix could not say what such a URL names.
AMBIGUOUS_ESCAPES = ('%2F', '%5C')
NUMERIC_LABEL = re.compile(r'^(0x[0-9a-f]*|[0-9]+)$')


class FetchError(Exception):
    """The document could not be fetched; ``str()`` says why and what to do."""


def show(url):
    """``url`` for a message: no user:password, printable, at most 120."""
    text = str(url)
    try:
        parts = urllib.parse.urlsplit(text)
        if '@' in parts.netloc:
            host = parts.netloc.rsplit('@', 1)[1]
            text = urllib.parse.urlunsplit(parts._replace(
                netloc='***@' + host))
    except ValueError:
        pass
    text = ''.join(c if c.isprintable() else '?' for c in text)
    if len(text) > MAX_URL_SHOWN:
        text = text[:MAX_URL_SHOWN - 3] + '...'
    return text


def normalise_url(url):
    """``url`` in the one form that is judged and fetched, or FetchError.

    RFC 3986 section 6.2.2 normalisation, then a few steps of our own:
    scheme and host in lower case; the port without leading zeros and
    left out where it is the scheme's default; percent-encoded unreserved
    characters decoded and other escapes in upper case; characters a URL
    may not carry percent-encoded (as the HTTP client would); dot segments
    removed; an empty path becomes "/"; the fragment, never sent, is
    dropped. Ours: one trailing dot of a host name is dropped (the same
    DNS name); an IPv4 address in any form the resolver takes
    (``0177.0.0.1``, ``2130706433``) becomes dotted decimal; an IPv6
    literal takes its compressed form. Refused (FetchError): anything but
    http(s), no host, a user name or password, a bad port, a "%" not
    followed by two hex digits, an encoded "/" or "\\" in the path.
    """
    if not isinstance(url, str) or not url:
        raise FetchError('the document URL is empty or not text; give an '
                         'http or https URL')
    if not url.isascii() or any(not c.isprintable() or c.isspace()
                                for c in url):
        raise FetchError('%s contains spaces, control or non-ASCII '
                         'characters; percent-encode them (and give a host '
                         'name in its ASCII, xn-- form)' % show(url))
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise FetchError('%s is not an http or https URL; only those '
                             'can be fetched' % show(url))
        if '@' in parts.netloc:
            raise FetchError('%s carries a user name or password; no '
                             'credentials are sent, use a URL readable '
                             'without them' % show(url))
        host, port = _host_and_port(parts.netloc, scheme)
        path = _escapes(parts.path, PATH_CHARS)
        for escape in AMBIGUOUS_ESCAPES:
            if escape in path:
                raise ValueError('an encoded "/" or "\\" (%s) in the path '
                                 'is read differently by different '
                                 'servers; write the path without it' %
                                 escape)
        path = remove_dot_segments(path or '/')
        query = _escapes(parts.query, QUERY_CHARS)
    except ValueError as exc:
        raise FetchError('%s is not a valid URL (%s); give an http or https '
                         'URL' % (show(url), exc))
    return '%s://%s%s%s%s' % (scheme, host, port, path,
                              '?' + query if query else '')


def _host_and_port(netloc, scheme):
    """(host, ":port" or "") of ``netloc`` in normal form; ValueError."""
    if netloc.startswith('['):
        literal, bracket, port = netloc[1:].partition(']')
        if not bracket or (port and not port.startswith(':')):
            raise ValueError('a bracketed IPv6 host must be followed by '
                             'nothing, or a ":port"')
        try:
            # A zone (fe80::1%25eth0) is a property of this machine only.
            if '%' in literal:
                raise ValueError(literal)
            host = '[%s]' % ipaddress.IPv6Address(literal).compressed
        except ValueError:
            raise ValueError('[%s] is not an IPv6 address' % literal[:60])
        port = port[1:]
    else:
        host, _, port = netloc.partition(':')
        host = _escapes(host, HOST_CHARS | frozenset(string.ascii_uppercase))
        host = host.lower()
        if host.endswith('.'):
            host = host[:-1]
        if not host or not set(host) <= HOST_CHARS:
            raise ValueError('it names no host, or not a host name')
        labels = host.split('.')
        if len(labels) <= 4 and all(NUMERIC_LABEL.match(label)
                                    for label in labels):
            try:
                host = socket.inet_ntoa(socket.inet_aton(host))
            except OSError:
                raise ValueError('%s is not an IPv4 address' % host)
    if not port:
        return host, ''
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ValueError('port %s is not a port number' % port[:20])
    if int(port) == DEFAULT_PORTS[scheme]:
        return host, ''
    return host, ':%d' % int(port)


def _escapes(text, allowed):
    """``text`` with unreserved characters decoded, other escapes upper."""
    out = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == '%':
            digits = text[pos + 1:pos + 3]
            if len(digits) != 2 or not set(digits) <= set(
                    string.hexdigits):
                raise ValueError('"%" is not followed by two hex digits')
            decoded = chr(int(digits, 16))
            out.append(decoded if decoded in UNRESERVED
                       else '%' + digits.upper())
            pos += 3
            continue
        out.append(char if char in allowed else '%%%02X' % ord(char))
        pos += 1
    return ''.join(out)


def remove_dot_segments(path):
    """``path`` (from "/") without "." and ".." segments (RFC 3986 5.2.4)."""
    segments = path.split('/')[1:]
    kept = []
    for segment in segments:
        if segment == '..':
            if kept:
                kept.pop()
        elif segment != '.':
            kept.append(segment)
    if segments[-1] in ('.', '..') and kept:
        kept.append('')
    return '/' + '/'.join(kept)


def backoff(attempt):
    """Seconds to wait after failed attempt number ``attempt`` (from 0)."""
    return min(FIRST_BACKOFF * 2 ** attempt, MAX_BACKOFF)


def time_limit(connect_timeout, read_timeout, retries):
    """The most a ``fetch`` with these settings may take, in seconds.

    Every attempt's connect and read timeouts plus the backoff between
    attempts. A body still arriving at the deadline is given up on after
    at most one more ``read_timeout`` (the read in progress).
    """
    return ((retries + 1) * (connect_timeout + read_timeout) +
            sum(backoff(n) for n in range(retries)))


def fetch(url, max_bytes, connect_timeout, read_timeout, retries,
          on_hop=None):
    """The body of ``url`` (http or https), at most ``max_bytes`` bytes.

    :param url: the URL the user gave; put in normal form
        (``normalise_url``) and checked with Glance's import filtering, as
        is every redirect hop.
    :param max_bytes: the largest body accepted; more is a FetchError.
    :param connect_timeout: seconds to establish each connection.
    :param read_timeout: seconds to wait for each piece of the answer.
    :param retries: how many more attempts after a connection error, a
        read timeout or an HTTP 5xx; each attempt starts again at ``url``.
    :param on_hop: called as ``on_hop(hop, came_from)`` with each URL, in
        normal form, before it is requested: ``came_from`` is None for
        ``url`` at the start of each attempt, else the hop that redirected
        here. What it raises ends the fetch.
    :raises FetchError: with a message for the user or operator.
    """
    if not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError('max_bytes must be an int >= 0')
    if not isinstance(retries, int) or retries < 0:
        raise ValueError('retries must be an int >= 0')
    if not connect_timeout > 0 or not read_timeout > 0:
        raise ValueError('timeouts must be > 0')
    deadline = time.monotonic() + time_limit(connect_timeout, read_timeout,
                                             retries)
    attempt = 0
    while True:
        try:
            return _attempt(url, max_bytes, connect_timeout, read_timeout,
                            deadline, on_hop)
        except _Retriable as exc:
            last = exc
        if attempt >= retries:
            break
        delay = backoff(attempt)
        if time.monotonic() + delay >= deadline:
            break
        LOG.info('Fetching %s: %s; attempt %d of %d in %.1f s',
                 show(url), last, attempt + 2, retries + 1, delay)
        time.sleep(delay)
        attempt += 1
    raise FetchError('%s (%d attempt%s); try again later, or use a URL '
                     'that answers' % (last, attempt + 1,
                                       '' if attempt == 0 else 's'))


class _Retriable(Exception):
    """One attempt failed in a way another attempt may not."""


class _NoAuth(requests.auth.AuthBase):
    # Given as the request's auth, it keeps requests from taking one from
    # ~/.netrc or from the URL; and it drops any Authorization header.
    def __call__(self, request):
        request.headers.pop('Authorization', None)
        return request


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    # Connects to ``address`` whatever the URL's host name resolves to
    # now; TLS still checks the certificate against the host name.

    def __init__(self, address, hostname):
        self.address = address
        self.hostname = hostname
        super().__init__(max_retries=0)

    def _pin(self, host_params, pool_kwargs):
        host_params = dict(host_params, host=self.address)
        if host_params.get('scheme') == 'https':
            pool_kwargs = dict(pool_kwargs, server_hostname=self.hostname,
                               assert_hostname=self.hostname)
        return host_params, pool_kwargs

    # requests >= 2.32
    def build_connection_pool_key_attributes(self, request, verify,
                                             cert=None):
        return self._pin(*super().build_connection_pool_key_attributes(
            request, verify, cert))

    # requests < 2.32
    def get_connection(self, url, proxies=None):
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        host_params, pool_kwargs = self._pin(
            {'scheme': scheme, 'host': parts.hostname,
             'port': parts.port or (443 if scheme == 'https' else 80)}, {})
        return self.poolmanager.connection_from_host(
            **host_params, pool_kwargs=pool_kwargs)


def _session(url, address):
    """A keystoneauth session without auth, cookies, proxies or netrc."""
    plain = requests.Session()
    plain.trust_env = False   # no proxy, no .netrc, from the environment
    plain.cookies.set_policy(_NoCookies())
    if address is not None:
        adapter = _PinnedAdapter(address, urllib.parse.urlsplit(url).hostname)
        plain.mount('http://', adapter)
        plain.mount('https://', adapter)
    # No auth plugin: keystoneauth has nothing to send.
    return ks_session.Session(session=plain)


def _glance_check(url):
    """(allowed, addresses, reason) by Glance's import filtering.

    ``addresses`` are the ones to connect to (None: connect by name).
    """
    try:
        allowed, addresses = glance_internals.import_filter(url)
        return allowed, addresses, None
    except ValueError as exc:
        return False, None, glance_internals.refusal_reason(exc)
    except Exception as exc:
        # Fail closed: a check that cannot run allows nothing.
        LOG.warning('Glance import filtering failed on %s: %s',
                    show(url), type(exc).__name__)
        return False, None, None


def _check_url(url, came_from=None):
    """(``url`` in normal form, the addresses to connect to), or FetchError.

    Refuses ``url`` unless it is http(s) and Glance's filter allows its
    normal form, the one that is then fetched. Addresses None: Glance
    names no addresses, connect by name.
    """
    if not isinstance(url, str) or not url:
        raise FetchError('the document URL is empty or not text; give an '
                         'http or https URL')
    if len(url) > MAX_URL_LENGTH:
        raise FetchError('the URL %s is longer than %d characters; give a '
                         'shorter one' % (show(url), MAX_URL_LENGTH))
    where = '' if came_from is None else ' (redirected from %s)' % show(
        came_from)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # raises ValueError for a port that is not one
    except ValueError:
        raise FetchError('%s%s is not a valid URL; give an http or https '
                         'URL' % (show(url), where))
    if parts.scheme.lower() not in SCHEMES:
        raise FetchError('%s%s is not an http or https URL; only those can '
                         'be fetched' % (show(url), where))
    if not parts.hostname:
        raise FetchError('%s%s names no host; give a full http or https '
                         'URL' % (show(url), where))
    if parts.username is not None or parts.password is not None:
        raise FetchError('%s%s carries a user name or password; no '
                         'credentials are sent, use a URL readable without '
                         'them' % (show(url), where))
    if not url.isascii() or any(not c.isprintable() or c.isspace()
                                for c in url):
        raise FetchError('%s%s contains spaces, control or non-ASCII '
                         'characters; percent-encode them (and give a host '
                         'name in its ASCII, xn-- form)' % (show(url), where))
    if (came_from is not None and parts.scheme.lower() == 'http' and
            urllib.parse.urlsplit(came_from).scheme.lower() == 'https'):
        raise FetchError('%s redirected from https to plain http (%s); '
                         'refused, use a URL that stays on https' % (
                             show(came_from), show(url)))
    try:
        url = normalise_url(url)
    except FetchError as exc:
        raise FetchError('%s%s' % (exc, where))
    allowed, addresses, reason = _glance_check(url)
    if not allowed:
        raise FetchError(
            "Glance's import filtering refuses %s%s (%s, by the operator's "
            "[import_filtering_opts] settings); use a URL those settings "
            "allow, or ask the operator to allow it" % (
                show(url), where,
                reason or 'its scheme, host or port is not allowed'))
    return url, addresses


def _attempt(url, max_bytes, connect_timeout, read_timeout, deadline,
             on_hop):
    """One attempt, from ``url`` through its redirects to the body."""
    hop, addresses = _check_url(url)
    seen = {hop}
    came_from = None
    if on_hop is not None:
        on_hop(hop, None)
    for _ in range(MAX_REDIRECTS + 1):
        session, resp = _get(hop, addresses, connect_timeout, read_timeout,
                             deadline)
        try:
            status = resp.status_code
            if status in REDIRECT_STATUS:
                location = resp.headers.get('Location')
                if not location:
                    raise FetchError('%s answered HTTP %d without a '
                                     'Location to go to; fix the URL' % (
                                         show(hop), status))
                target = urllib.parse.urljoin(hop, location.strip())
                target = urllib.parse.urldefrag(target)[0]
                target, addresses = _check_url(target, came_from=hop)
                if target in seen:
                    raise FetchError('%s redirects in a loop (back to %s); '
                                     'fix the URL or the server' % (
                                         show(url), show(target)))
                seen.add(target)
                if on_hop is not None:
                    on_hop(target, hop)
                LOG.debug('Fetching %s: HTTP %d to %s', show(url), status,
                          show(target))
                came_from, hop = hop, target
                continue
            _check_status(status, hop, came_from)
            return _read_body(resp, hop, max_bytes, deadline)
        finally:
            resp.close()
            session.session.close()
    raise FetchError('%s redirects more than %d times; give the final URL' %
                     (show(url), MAX_REDIRECTS))


def _get(url, addresses, connect_timeout, read_timeout, deadline):
    """(session, response) from the first address that takes a connection.

    As web-download does, each address Glance allowed is tried in turn
    when no connection can be made to it.
    """
    for address in addresses or [None]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Retriable('%s did not answer in time' % show(url))
        session = _session(url, address)
        try:
            return session, session.get(
                url, authenticated=False, redirect=False, raise_exc=False,
                requests_auth=_NoAuth(), stream=True, log=False,
                connect_retries=0, status_code_retries=0,
                headers={'Accept-Encoding': 'identity', 'Accept': '*/*',
                         'Host': urllib.parse.urlsplit(url).netloc},
                timeout=(min(connect_timeout, remaining),
                         min(read_timeout, remaining)))
        except ks_exceptions.SSLError:
            session.session.close()
            raise FetchError('TLS with %s failed (certificate or protocol); '
                             'use a URL with a certificate glance-api '
                             'trusts' % show(url))
        except ks_exceptions.ConnectTimeout as exc:
            session.session.close()
            # keystoneauth raises ConnectTimeout for read timeouts too.
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, requests.exceptions.ReadTimeout):
                raise _Retriable('%s accepted the connection but did not '
                                 'answer within %g s' % (show(url),
                                                         read_timeout))
            failure = _Retriable('cannot connect to %s within %g s' % (
                show(url), connect_timeout))
        except ks_exceptions.ConnectionError as exc:
            session.session.close()
            failure = _Retriable('cannot connect to %s (%s)' % (
                show(url), _reason(exc)))
        LOG.info('Fetching %s from %s: %s', show(url), address, failure)
    raise failure


def _reason(exc):
    cause = exc.__cause__ or exc.__context__
    text = str(cause or exc).lower()
    if 'refused' in text:
        return 'connection refused'
    if 'name or service' in text or 'resolution' in text:
        return 'host name not found'
    return 'network error'


def _check_status(status, url, came_from):
    where = '' if came_from is None else ' (redirected from %s)' % show(
        came_from)
    if status in OK_STATUS:
        return
    if status in NOT_FOUND_STATUS:
        raise FetchError('the document was not found at %s%s (HTTP %d); '
                         'check the URL' % (show(url), where, status))
    if status in (401, 403, 407):
        raise FetchError('%s%s refused access (HTTP %d); no credentials are '
                         'sent, use a URL readable without them' % (
                             show(url), where, status))
    if status >= 500:
        raise _Retriable('%s%s answered HTTP %d' % (show(url), where, status))
    raise FetchError('%s%s answered HTTP %d, not the document; check the '
                     'URL' % (show(url), where, status))


def _too_large(url, max_bytes):
    return FetchError('the document at %s is larger than %d bytes; use a '
                      'smaller document (a checksum manifest or a signature '
                      'is far smaller)' % (show(url), max_bytes))


def _read_body(resp, url, max_bytes, deadline):
    try:
        declared = int(resp.headers.get('Content-Length', ''))
    except ValueError:
        declared = None
    if declared is not None and declared > max_bytes:
        raise _too_large(url, max_bytes)
    encoding = resp.headers.get('Content-Encoding', 'identity')
    encoding = encoding.strip().lower()
    if encoding in ('gzip', 'x-gzip'):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == 'deflate':
        decoder = _Deflate()
    elif encoding in ('', 'identity'):
        decoder = None
    else:
        raise FetchError('%s sent the document with Content-Encoding %s, '
                         'which cannot be read; serve it plain' % (
                             show(url), show(encoding)[:20]))
    # read1 returns what has arrived; read(n) waits for n bytes (all the
    # pieces of a trickle), past the deadline. urllib3 < 2.2 has no read1:
    # smaller reads keep it close.
    read = getattr(resp.raw, 'read1', None)
    if read is None:
        read = _small_reads(resp.raw)
    body = bytearray()
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError('%s did not send the document in time; use a '
                             'faster server' % show(url))
        try:
            # Never more than max_bytes + 1 from the socket: one byte over
            # is enough to know.
            chunk = read(min(CHUNK, max_bytes + 1 - received),
                         decode_content=False)
        except urllib3.exceptions.ReadTimeoutError:
            raise _Retriable('%s stopped sending the document' % show(url))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Retriable('%s broke off sending the document (%s)' % (
                show(url), type(exc).__name__))
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(url, max_bytes)
        if decoder is not None:
            chunk = _decode(decoder, chunk, max_bytes + 1 - len(body), url)
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(url, max_bytes)
    if decoder is not None and not decoder.eof:
        raise FetchError('%s sent a truncated %s document; serve it '
                         'plain' % (show(url), encoding))
    return bytes(body)


def _small_reads(raw):
    def read(amt, decode_content):
        return raw.read(min(amt, 1024), decode_content=decode_content)
    return read


class _Deflate:
    # HTTP "deflate" is zlib-wrapped; some servers send it raw.
    def __init__(self):
        self._obj = zlib.decompressobj()
        self._first = True

    @property
    def eof(self):
        return self._obj.eof

    @property
    def unconsumed_tail(self):
        return self._obj.unconsumed_tail

    def decompress(self, data, max_length):
        if self._first:
            self._first = False
            try:
                return self._obj.decompress(data, max_length)
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._obj.decompress(data, max_length)


def _decode(decoder, chunk, room, url):
    # max_length keeps a small compressed body from growing past the cap
    # in memory: anything left over means the document is too large.
    try:
        out = decoder.decompress(chunk, room)
    except zlib.error:
        raise FetchError('%s sent a corrupt compressed document; serve it '
                         'plain' % show(url))
    if decoder.unconsumed_tail:
        out += b'\0'  # over the cap
    return out
