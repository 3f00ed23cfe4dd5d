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

"""Fetching a small document from a user's URL, against a real HTTP server.

The HTTP side is real: a ``FileServer`` on 127.0.0.1 in a thread. Glance's
import filtering is patched (``get_validated_address``, Glance 33.0.0's
check, or the yes/no checks of other releases) except where the real check
runs with ``[import_filtering_opts]`` set.
"""

import gzip
import os
import socket
import subprocess
import sys
import time
import urllib.parse

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import requests
import testtools

from glance_import_ext.plugins.manifest_verify import remote
from tests.functional.harness import loopback_http

MANIFEST = (b'3f1c0ad3c2d6e1f1b1a2d5e0c4a9b8e7f6d5c4b3a2918f7e6d5c4b3a2918f7e6'
            b'  vendor.img\n')
REFUSED_HOST = 'localhost'  # the patched filter refuses this host only


class FetchTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy',
                     'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.useFixture(fixtures.EnvironmentVariable(
            'no_proxy', '127.0.0.1,localhost'))
        self.useFixture(fixtures.MockPatchObject(remote, 'FIRST_BACKOFF',
                                                 0.01))
        self.checked = []
        self.addresses = ['127.0.0.1']
        self.useFixture(fixtures.MockPatch(
            'glance.common.utils.get_validated_address', self._filter))
        self.server = loopback_http.FileServer(0)
        self.addCleanup(self.server.stop)

    def _filter(self, url):
        # Glance 33.0.0: the allowed addresses, or ValueError.
        self.checked.append(url)
        if urllib.parse.urlsplit(url).hostname == REFUSED_HOST:
            raise ValueError('host not allowed for external URI: %s' % url)
        return list(self.addresses)

    def url(self, path):
        return self.server.url + path

    def fetch(self, path_or_url, max_bytes=4096, connect_timeout=2.0,
              read_timeout=2.0, retries=2):
        url = path_or_url
        if isinstance(url, str) and url.startswith('/'):
            url = self.url(url)
        return remote.fetch(url, max_bytes, connect_timeout, read_timeout,
                            retries)

    def assertFails(self, text, *args, **kwargs):
        exc = self.assertRaises(remote.FetchError, self.fetch, *args,
                                **kwargs)
        self.assertIn(text, str(exc))
        return str(exc)


class TestFetch(FetchTestCase):

    def test_content_length(self):
        self.server.serve('/SHA256SUMS', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/SHA256SUMS'))
        self.assertEqual([self.url('/SHA256SUMS')], self.checked)

    def test_chunked(self):
        data = os.urandom(3000)
        self.server.serve('/sig', data, framing='chunked', chunk_size=700)
        self.assertEqual(data, self.fetch('/sig'))

    def test_close_delimited(self):
        self.server.serve('/sig', MANIFEST, framing='close')
        self.assertEqual(MANIFEST, self.fetch('/sig'))

    def test_exactly_max_bytes(self):
        for framing in ('length', 'chunked', 'close'):
            self.server.serve('/' + framing, b'x' * 1000, framing=framing)
            self.assertEqual(b'x' * 1000,
                             self.fetch('/' + framing, max_bytes=1000))

    def test_empty(self):
        self.server.serve('/empty', b'')
        self.assertEqual(b'', self.fetch('/empty', max_bytes=0))

    def test_too_large_by_content_length(self):
        self.server.serve('/big', b'x' * 1001)
        self.assertFails('larger than 1000 bytes', '/big', max_bytes=1000)
        self.assertEqual(1, self.server.hits('/big'))  # never retried

    def test_too_large_without_content_length(self):
        big = b'x' * (8 * 1024 * 1024)
        for framing in ('chunked', 'close'):
            self.server.serve('/' + framing, big, framing=framing)
            self.assertFails('larger than 1000 bytes', '/' + framing,
                             max_bytes=1000)

    def test_stops_reading_once_over(self):
        # 100 pieces of 100 bytes, 0.05 s apart: reading it all takes 5 s.
        self.server.serve('/trickle', b'y' * 10000, framing='chunked',
                          chunk_size=100, chunk_delay=0.05)
        start = time.monotonic()
        self.assertFails('larger than 250 bytes', '/trickle', max_bytes=250)
        self.assertLess(time.monotonic() - start, 2.0)

    def test_gzip_decoded(self):
        self.server.serve('/gz', gzip.compress(MANIFEST),
                          headers={'Content-Encoding': 'gzip'})
        self.assertEqual(MANIFEST, self.fetch('/gz'))

    def test_gzip_bomb_capped(self):
        bomb = gzip.compress(b'\0' * (50 * 1024 * 1024))
        self.assertLess(len(bomb), 100 * 1024)
        self.server.serve('/bomb', bomb, headers={'Content-Encoding': 'gzip'})
        self.assertFails('larger than 200000 bytes', '/bomb',
                         max_bytes=200000)

    def test_unknown_encoding(self):
        self.server.serve('/br', b'abc', headers={'Content-Encoding': 'br'})
        self.assertFails('Content-Encoding', '/br')

    def test_asks_for_identity_and_sends_no_credentials(self):
        netrc = self.useFixture(fixtures.TempDir()).join('netrc')
        with open(netrc, 'w') as f:
            f.write('machine 127.0.0.1 login admin password s3cret\n'
                    'machine localhost login admin password s3cret\n')
        os.chmod(netrc, 0o600)
        self.useFixture(fixtures.EnvironmentVariable('NETRC', netrc))
        self.server.serve('/a', status=302, headers={
            'Location': '/b', 'Set-Cookie': 'session=abc; Path=/'})
        self.server.serve('/b', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/a'))
        for _, path, headers in self.server.requests:
            names = {k.lower() for k in headers}
            self.assertNotIn('authorization', names, path)
            self.assertNotIn('cookie', names, path)
            self.assertNotIn('x-auth-token', names, path)
            self.assertEqual('identity', headers.get('Accept-Encoding'))


class TestRedirects(FetchTestCase):

    def test_followed_and_each_hop_checked(self):
        self.server.redirect('/one', self.url('/two'), status=301)
        self.server.redirect('/two', '/three?x=1', status=307)
        self.server.redirect('/three', 'four', status=308)
        self.server.serve('/four', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/one'))
        self.assertEqual([self.url('/one'), self.url('/two'),
                          self.url('/three?x=1'), self.url('/four')],
                         self.checked)

    def test_redirect_to_refused_host(self):
        port = self.server.port
        self.server.redirect(
            '/manifest', 'http://%s:%d/evil' % (REFUSED_HOST, port))
        msg = self.assertFails("Glance's import filtering refuses",
                               '/manifest')
        self.assertIn('[import_filtering_opts]', msg)
        self.assertIn('redirected from %s' % self.url('/manifest'), msg)
        self.assertEqual(0, self.server.hits('/evil'))
        self.assertEqual(1, self.server.hits('/manifest'))  # not retried

    def test_refused_url_is_never_requested(self):
        url = 'http://%s:%d/m' % (REFUSED_HOST, self.server.port)
        self.server.serve('/m', MANIFEST)
        self.assertFails("Glance's import filtering refuses", url)
        self.assertEqual([], self.server.requests)

    def test_redirect_to_other_scheme(self):
        self.server.redirect('/m', 'file:///etc/passwd')
        self.assertFails('not an http or https URL', '/m')

    def test_redirect_to_url_with_credentials(self):
        self.server.redirect(
            '/m', 'http://user:pw@127.0.0.1:%d/x' % self.server.port)
        msg = self.assertFails('user name or password', '/m')
        self.assertNotIn('pw', msg.replace('://***@', ''))

    def test_https_to_http_refused(self):
        exc = self.assertRaises(remote.FetchError, remote._check_url,
                                'http://127.0.0.1/m',
                                came_from='https://127.0.0.1/m')
        self.assertIn('from https to plain http', str(exc))

    def test_loop(self):
        self.server.redirect('/a', '/b')
        self.server.redirect('/b', '/a')
        self.assertFails('redirects in a loop', '/a')
        self.assertEqual(1, self.server.hits('/a'))

    def test_too_many(self):
        for n in range(remote.MAX_REDIRECTS + 1):
            self.server.redirect('/r%d' % n, '/r%d' % (n + 1))
        self.server.serve('/r%d' % (remote.MAX_REDIRECTS + 1), MANIFEST)
        self.assertFails('more than %d times' % remote.MAX_REDIRECTS, '/r0')

    def test_as_many_as_allowed(self):
        for n in range(remote.MAX_REDIRECTS):
            self.server.redirect('/r%d' % n, '/r%d' % (n + 1))
        self.server.serve('/r%d' % remote.MAX_REDIRECTS, MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/r0'))

    def test_redirect_without_location(self):
        self.server.serve('/m', status=302)
        self.assertFails('without a Location', '/m')


class TestStatusAndRetries(FetchTestCase):

    def test_404_not_retried(self):
        msg = self.assertFails('not found at %s' % self.url('/missing'),
                               '/missing')
        self.assertIn('HTTP 404', msg)
        self.assertEqual(1, self.server.hits('/missing'))

    def test_403_not_retried(self):
        self.server.serve('/m', status=403)
        self.assertFails('refused access (HTTP 403)', '/m')
        self.assertEqual(1, self.server.hits('/m'))

    def test_other_4xx_not_retried(self):
        self.server.serve('/m', status=429)
        self.assertFails('answered HTTP 429', '/m')
        self.assertEqual(1, self.server.hits('/m'))

    def test_500_then_success(self):
        self.server.serve('/m', b'oops', status=500, times=1)
        self.server.serve('/m', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/m', retries=1))
        self.assertEqual(2, self.server.hits('/m'))

    def test_retry_starts_again_at_the_url(self):
        self.server.redirect('/m', '/n')
        self.server.serve('/n', status=503, times=1)
        self.server.serve('/n', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/m', retries=1))
        self.assertEqual(2, self.server.hits('/m'))

    def test_500_until_retries_run_out(self):
        self.server.serve('/m', status=502)
        msg = self.assertFails('answered HTTP 502', '/m', retries=2)
        self.assertIn('3 attempts', msg)
        self.assertEqual(3, self.server.hits('/m'))

    def test_no_retries(self):
        self.server.serve('/m', status=500)
        msg = self.assertFails('answered HTTP 500', '/m', retries=0)
        self.assertIn('1 attempt)', msg)
        self.assertEqual(1, self.server.hits('/m'))

    def test_never_answers(self):
        self.server.hang('/m')
        start = time.monotonic()
        msg = self.assertFails('did not answer within 0.3 s', '/m',
                               connect_timeout=0.3, read_timeout=0.3,
                               retries=1)
        elapsed = time.monotonic() - start
        self.assertIn('2 attempts', msg)
        self.assertEqual(2, self.server.hits('/m'))
        self.assertGreaterEqual(elapsed, 0.6)
        self.assertLess(elapsed, remote.time_limit(0.3, 0.3, 1) + 0.5)

    def test_hangs_once_then_answers(self):
        self.server.hang('/m', times=1)
        self.server.serve('/m', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/m', read_timeout=0.3,
                                              retries=1))

    def test_trickle_bounded_by_deadline(self):
        # Each piece comes before the read timeout; the whole never would.
        self.server.serve('/m', b'z' * 2000, framing='chunked',
                          chunk_size=10, chunk_delay=0.2)
        start = time.monotonic()
        self.assertFails('did not send the document in time', '/m',
                         connect_timeout=0.3, read_timeout=0.3, retries=0)
        self.assertLess(time.monotonic() - start,
                        remote.time_limit(0.3, 0.3, 0) + 0.3 + 0.5)

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()
        url = 'http://127.0.0.1:%d/m' % port
        msg = self.assertFails('cannot connect to %s (connection refused)'
                               % url, url, retries=2)
        self.assertIn('3 attempts', msg)

    def test_backoff(self):
        self.useFixture(fixtures.MockPatchObject(remote, 'FIRST_BACKOFF',
                                                 0.5))
        self.assertEqual([0.5, 1.0, 2.0, 4.0, 5.0, 5.0],
                         [remote.backoff(n) for n in range(6)])
        self.assertEqual(3 * 15 + 1.5, remote.time_limit(5, 10, 2))


class TestUrls(FetchTestCase):

    def test_only_http_and_https(self):
        for url in ('ftp://127.0.0.1/m', 'file:///etc/passwd',
                    'gopher://127.0.0.1/'):
            self.assertFails('not an http or https URL', url)
        self.assertEqual([], self.checked)

    def test_not_urls(self):
        self.assertFails('empty or not text', '')
        self.assertFails('empty or not text', None)
        self.assertFails('names no host', 'http:///m')
        self.assertFails('not a valid URL', 'http://127.0.0.1:99999/m')
        for url in ('http://127.0.0.1/a b', 'http://127.0.0.1/a\r\nX: y',
                    'http://b\u00fccher.example/m'):
            self.assertFails('spaces, control or non-ASCII characters', url)
        self.assertEqual([], self.checked)

    def test_credentials_in_url(self):
        msg = self.assertFails('user name or password',
                               'http://bob:hunter2@127.0.0.1/m')
        self.assertNotIn('hunter2', msg)

    def test_long_url_shown_bounded(self):
        url = self.url('/' + 'a' * 5000)
        msg = self.assertFails('not found at', url)
        self.assertNotIn('a' * (remote.MAX_URL_SHOWN - 20), msg)
        self.assertLess(len(msg), 400)

    def test_control_characters_not_echoed(self):
        shown = remote.show('http://h/\n\x1b[31m' + 'x' * 500)
        self.assertNotIn('\n', shown)
        self.assertNotIn('\x1b', shown)
        self.assertEqual(remote.MAX_URL_SHOWN, len(shown))

    def test_filter_error_fails_closed(self):
        self.useFixture(fixtures.MockPatch(
            'glance.common.utils.get_validated_address',
            side_effect=cfg.NoSuchOptError('allowed_hosts')))
        self.server.serve('/m', MANIFEST)
        self.assertFails("Glance's import filtering refuses", '/m')
        self.assertEqual([], self.server.requests)

    def test_refusal_reason_shown(self):
        self.useFixture(fixtures.MockPatch(
            'glance.common.utils.get_validated_address',
            side_effect=ValueError('no allowed addresses for external '
                                   'host: x')))
        self.assertFails('resolves only to loopback, link-local', '/m')

    def test_bad_arguments(self):
        for args in ((-1, 1, 1, 0), (1, 0, 1, 0), (1, 1, 0, 0),
                     (1, 1, 1, -1), (1.5, 1, 1, 0)):
            self.assertRaises(ValueError, remote.fetch, self.url('/m'),
                              *args)


class TestGlanceFilter(testtools.TestCase):
    """Glance's own check, reading ``[import_filtering_opts]``."""

    def setUp(self):
        super().setUp()
        from glance.common import utils  # registers the options
        del utils
        self.useFixture(fixtures.EnvironmentVariable(
            'no_proxy', '127.0.0.1'))
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.server = loopback_http.FileServer(0)
        self.addCleanup(self.server.stop)
        self.server.serve('/m', MANIFEST)

    def test_defaults_refuse_a_local_port(self):
        exc = self.assertRaises(remote.FetchError, remote.fetch,
                                self.server.url + '/m', 4096, 1, 1, 0)
        self.assertIn("Glance's import filtering refuses", str(exc))
        self.assertIn('its port is not allowed', str(exc))
        self.assertEqual([], self.server.requests)

    def test_loopback_refused_unless_listed(self):
        self.conf.config(group='import_filtering_opts',
                         allowed_ports=[self.server.port])
        exc = self.assertRaises(remote.FetchError, remote.fetch,
                                self.server.url + '/m', 4096, 1, 1, 0)
        self.assertIn('loopback', str(exc))
        self.assertEqual([], self.server.requests)

    def test_allowed_by_the_operator(self):
        self.conf.config(group='import_filtering_opts',
                         allowed_hosts=['127.0.0.1'],
                         allowed_ports=[self.server.port])
        self.assertEqual(MANIFEST, remote.fetch(self.server.url + '/m',
                                                4096, 1, 1, 0))

    def test_redirect_to_a_port_not_allowed(self):
        other = loopback_http.FileServer(0)
        self.addCleanup(other.stop)
        other.serve('/m', MANIFEST)
        self.server.redirect('/r', other.url + '/m')
        self.conf.config(group='import_filtering_opts',
                         allowed_hosts=['127.0.0.1'],
                         allowed_ports=[self.server.port])
        exc = self.assertRaises(remote.FetchError, remote.fetch,
                                self.server.url + '/r', 4096, 1, 1, 0)
        self.assertIn("Glance's import filtering refuses %s/m" % other.url,
                      str(exc))
        self.assertEqual([], other.requests)


class TestPinning(FetchTestCase):
    """The connection goes to the address Glance allowed, not to DNS."""

    def test_connects_to_the_allowed_address(self):
        self.server.serve('/m', MANIFEST)
        url = 'http://vendor.invalid:%d/m' % self.server.port
        self.assertEqual(MANIFEST, self.fetch(url))
        (_, _, headers), = self.server.requests
        self.assertEqual('vendor.invalid:%d' % self.server.port,
                         headers['Host'])

    def test_next_address_when_one_cannot_connect(self):
        # Nothing listens on 127.0.0.2 (the server is on 127.0.0.1 only).
        self.addresses = ['127.0.0.2', '127.0.0.1']
        self.server.serve('/m', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/m', retries=0))

    def test_each_hop_pinned(self):
        self.server.redirect('/m', 'http://mirror.invalid:%d/n' %
                             self.server.port)
        self.server.serve('/n', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/m'))
        self.assertEqual('mirror.invalid:%d' % self.server.port,
                         self.server.requests[1][2]['Host'])


class TestOlderGlance(FetchTestCase):
    """Glances with only a yes/no check: applied, host connected by name."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'glance.common.utils.get_validated_address',
            fixtures.MonkeyPatch.delete))

    def _yes_no(self, url):
        self.checked.append(url)
        return urllib.parse.urlsplit(url).hostname != REFUSED_HOST

    def test_validate_uri(self):
        self.useFixture(fixtures.MockPatch(
            'glance.common.utils.validate_uri', self._yes_no))
        self._redirect_checked()

    def test_validate_import_uri(self):
        self.useFixture(fixtures.MonkeyPatch(
            'glance.common.utils.validate_uri', fixtures.MonkeyPatch.delete))
        self.useFixture(fixtures.MockPatch(
            'glance.common.utils.validate_import_uri', self._yes_no,
            create=True))
        self._redirect_checked()

    def _redirect_checked(self):
        self.server.redirect('/m', '/n')
        self.server.serve('/n', MANIFEST)
        self.assertEqual(MANIFEST, self.fetch('/m'))
        self.assertEqual([self.url('/m'), self.url('/n')], self.checked)
        self.server.redirect(
            '/r', 'http://%s:%d/n' % (REFUSED_HOST, self.server.port))
        self.assertFails("Glance's import filtering refuses", '/r')


class TestWithoutGlance(testtools.TestCase):

    def test_imports_without_glance(self):
        code = ('import sys; sys.modules["glance"] = None; '
                'from glance_import_ext.plugins.manifest_verify import '
                'remote; '
                'print(remote.FetchError.__mro__[1].__name__)')
        out = subprocess.check_output([sys.executable, '-c', code],
                                      cwd=os.getcwd())
        self.assertEqual(b'Exception\n', out)


class TestNormalForm(FetchTestCase):
    """One normal form: the one trust rules judge and the one fetched."""

    SAME = [
        # (spelling, normal form)
        ('http://h/signed/S', 'http://h/signed/S'),
        ('HTTP://h/signed/S', 'http://h/signed/S'),
        ('hTtP://H/signed/S', 'http://h/signed/S'),
        ('http://h:80/signed/S', 'http://h/signed/S'),
        ('http://h:0080/signed/S', 'http://h/signed/S'),
        ('https://h:443/signed/S', 'https://h/signed/S'),
        ('http://h:08080/signed/S', 'http://h:8080/signed/S'),
        ('http://h:/signed/S', 'http://h/signed/S'),
        ('http://h/./signed/S', 'http://h/signed/S'),
        ('http://h/x/../signed/S', 'http://h/signed/S'),
        ('http://h/../../signed/./x/./../S', 'http://h/signed/S'),
        ('http://h/%2e/signed/%2E%2e/signed/S', 'http://h/signed/S'),
        ('http://h/%73igned/S', 'http://h/signed/S'),
        ('http://h/%73%69%67%6E%65%64/%53', 'http://h/signed/S'),
        ('http://h/signed/a%7eb%2D', 'http://h/signed/a~b-'),
        ('http://h/signed/%c3%a9', 'http://h/signed/%C3%A9'),
        ('http://h/signed/a|b', 'http://h/signed/a%7Cb'),
        ('http://h/signed/S?v=%3a%61#frag', 'http://h/signed/S?v=%3Aa'),
        ('http://h', 'http://h/'),
        ('http://h?x', 'http://h/?x'),
        ('http://h./signed/S', 'http://h/signed/S'),
        ('http://%68/signed/S', 'http://h/signed/S'),
        ('http://0177.0.0.1/S', 'http://127.0.0.1/S'),
        ('http://2130706433/S', 'http://127.0.0.1/S'),
        ('http://0x7F.1/S', 'http://127.0.0.1/S'),
        ('http://[0:0:0::1]:80/S', 'http://[::1]/S'),
        ('http://[FE80::A]/S', 'http://[fe80::a]/S'),
    ]
    REFUSED = [
        ('http://u:p@h/S', 'user name or password'),
        ('http://@h/S', 'user name or password'),
        ('ftp://h/S', 'not an http or https URL'),
        ('http:///S', 'names no host'),
        ('http://h:0/S', 'port 0 is not a port number'),
        ('http://h:65536/S', 'port 65536 is not a port number'),
        ('http://h:8o/S', 'port 8o is not a port number'),
        ('http://h/S%zz', 'not followed by two hex digits'),
        ('http://h/S%4', 'not followed by two hex digits'),
        ('http://h/signed%2FS', 'encoded "/" or "\\" (%2F)'),
        ('http://h/signed%5cS', 'encoded "/" or "\\" (%5C)'),
        ('http://h/signed\\S', 'encoded "/" or "\\" (%5C)'),
        ('http://[::1/S', 'Invalid IPv6 URL'),
        ('http://[::1]x/S', 'must be followed by nothing'),
        ('http://[fe80::1%25eth0]/S', 'is not an IPv6 address'),
        ('http://h_%2F/S', 'not a host name'),
        ('http://999.1.1.1/S', 'is not an IPv4 address'),
        ('http://h/a b', 'spaces, control or non-ASCII'),
    ]

    def test_every_spelling_has_one_normal_form(self):
        for spelling, normal in self.SAME:
            self.assertEqual(normal, remote.normalise_url(spelling),
                             spelling)

    def test_normal_form_is_stable_and_sent_as_is(self):
        # What the HTTP client sends is the URL that was judged.
        for _, normal in self.SAME:
            self.assertEqual(normal, remote.normalise_url(normal))
            self.assertEqual(normal,
                             requests.Request('GET', normal).prepare().url)

    def test_refused_with_a_reason(self):
        for spelling, reason in self.REFUSED:
            exc = self.assertRaises(remote.FetchError, remote.normalise_url,
                                    spelling)
            self.assertIn(reason, str(exc), spelling)
            self.assertNotIn('Traceback', str(exc))

    def test_dot_segments(self):
        for path, expected in (('/', '/'), ('/.', '/'), ('/..', '/'),
                               ('/a/.', '/a/'), ('/a/..', '/'),
                               ('/a/b/../c', '/a/c'), ('//a/./', '//a/'),
                               ('/a/./b/', '/a/b/')):
            self.assertEqual(expected, remote.remove_dot_segments(path))

    def test_fetch_requests_and_filters_the_normal_form(self):
        self.server.serve('/signed/S', MANIFEST)
        port = self.server.port
        for spelling in ('HTTP://127.0.0.1:%d/signed/S',
                         'http://127.0.0.1:0%d/signed/S',
                         'http://127.0.0.1:%d/./signed/S',
                         'http://127.0.0.1:%d/x/../signed/S',
                         'http://127.0.0.1:%d/%%73igned/S',
                         'http://0177.0.0.1:%d/signed/S'):
            del self.checked[:]
            hops = []
            self.assertEqual(MANIFEST, remote.fetch(
                spelling % port, 4096, 2, 2, 0,
                on_hop=lambda hop, came: hops.append((hop, came))))
            self.assertEqual([self.url('/signed/S')], self.checked)
            self.assertEqual([(self.url('/signed/S'), None)], hops)
        self.assertEqual(6, self.server.hits('/signed/S'))
        self.assertEqual(['/signed/S'] * 6,
                         [p for _, p, _ in self.server.requests])

    def test_each_redirect_hop_reported_in_normal_form(self):
        self.server.redirect('/plain/S', '/x/../%73igned/./S')
        self.server.serve('/signed/S', MANIFEST)
        hops = []
        self.assertEqual(MANIFEST, remote.fetch(
            self.url('/plain/S'), 4096, 2, 2, 0,
            on_hop=lambda hop, came: hops.append((hop, came))))
        self.assertEqual([(self.url('/plain/S'), None),
                          (self.url('/signed/S'), self.url('/plain/S'))],
                         hops)
        self.assertEqual([self.url('/plain/S'), self.url('/signed/S')],
                         self.checked)

    def test_every_attempt_starts_with_a_hop_without_came_from(self):
        self.server.redirect('/r', '/m')
        self.server.serve('/m', b'', status=503, times=1)
        self.server.serve('/m', MANIFEST)
        hops = []
        self.assertEqual(MANIFEST, remote.fetch(
            self.url('/r'), 4096, 2, 2, 1,
            on_hop=lambda hop, came: hops.append((hop, came))))
        self.assertEqual([(self.url('/r'), None),
                          (self.url('/m'), self.url('/r'))] * 2, hops)

    def test_on_hop_can_stop_the_fetch(self):
        self.server.redirect('/r', '/m')
        self.server.serve('/m', MANIFEST)

        def refuse_m(hop, came_from):
            if hop.endswith('/m'):
                raise remote.FetchError('no /m here')

        exc = self.assertRaises(remote.FetchError, remote.fetch,
                                self.url('/r'), 4096, 2, 2, 0,
                                on_hop=refuse_m)
        self.assertEqual('no /m here', str(exc))
        self.assertEqual(0, self.server.hits('/m'))

    def test_loop_through_another_spelling(self):
        self.server.redirect('/a', '/./b')
        self.server.redirect('/b', '/x/../a')
        self.assertFails('redirects in a loop', '/a')

    def test_redirect_to_an_encoded_slash_refused(self):
        self.server.redirect('/r', '/signed%2FS')
        msg = self.assertFails('encoded "/"', '/r')
        self.assertIn('redirected from %s' % self.url('/r'), msg)
