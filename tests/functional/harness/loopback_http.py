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

"""Test-only HTTP servers on 127.0.0.1: a tampering proxy, a file server.

``TamperingProxy`` sits between two regions (the catalog lists it as the
source region's image endpoint) and forwards every request unchanged,
except that it can flip one byte of an image download (same length) or
slow the download down. ``FileServer`` serves files for web-download, and
given bytes at given paths, answered slowly, never, with an error status
or with a redirect (``serve``, ``hang``, ``redirect``).
Both stop with ``stop()``; nothing here leaves 127.0.0.1. Port 0 takes
a free port (``url`` names the one taken).
"""

import functools
import http.client
import http.server
import re
import threading
import time
import urllib.parse

DOWNLOAD_PATH = re.compile(r'^/v2/images/[^/]+/file$')
CHUNK = 64 * 1024


class _Server:

    def __init__(self, port, handler):
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', port),
                                                     handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class TamperingProxy(_Server):

    def __init__(self, port, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.flip_offset = None     # flip the byte at this offset of a file
        self.delay_per_chunk = 0.0  # seconds per 64 KiB of a file
        self.downloads = 0
        super().__init__(port, functools.partial(_ProxyHandler, self))


class _ProxyHandler(http.server.BaseHTTPRequestHandler):

    protocol_version = 'HTTP/1.1'

    def __init__(self, proxy, *args, **kwargs):
        self.proxy = proxy
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass

    def _forward(self):
        body = None
        if self.headers.get('Content-Length'):
            body = self.rfile.read(int(self.headers['Content-Length']))
        up = self.proxy.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ('host', 'connection')}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        is_download = (self.command == 'GET' and resp.status == 200 and
                       DOWNLOAD_PATH.match(self.path.split('?')[0]))
        if is_download:
            self.proxy.downloads += 1
        self.send_response(resp.status, resp.reason)
        for key, value in resp.getheaders():
            if key.lower() not in ('connection', 'transfer-encoding'):
                self.send_header(key, value)
        length = resp.getheader('Content-Length')
        if length is None:
            self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('Connection', 'close')
        self.end_headers()
        offset = 0
        while True:
            chunk = resp.read(CHUNK)
            if not chunk:
                break
            if is_download:
                chunk = self._tamper(chunk, offset)
                if self.proxy.delay_per_chunk:
                    time.sleep(self.proxy.delay_per_chunk)
            offset += len(chunk)
            if length is None:
                self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
            else:
                self.wfile.write(chunk)
        if length is None:
            self.wfile.write(b'0\r\n\r\n')
        elif offset != int(length):
            # Upstream died mid-body: cut the client off too, short.
            self.close_connection = True
        conn.close()

    def _tamper(self, chunk, offset):
        flip = self.proxy.flip_offset
        if flip is None or not offset <= flip < offset + len(chunk):
            return chunk
        data = bytearray(chunk)
        data[flip - offset] ^= 0x01
        return bytes(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward


class FileServer(_Server):
    """Serves ``directory`` over HTTP, like a vendor's image mirror.

    Paths given to ``serve``, ``redirect`` or ``hang`` are answered as
    told, before the directory is looked at; without a directory every
    other path is a 404. ``requests`` lists what was asked, in order, as
    ``(method, path, headers)``.
    """

    def __init__(self, port=0, directory=None):
        self.routes = {}
        self.requests = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        handler = functools.partial(_QuietFileHandler, self,
                                    directory=directory)
        self.directory = directory
        super().__init__(port, handler)

    def serve(self, path, data=b'', status=200, headers=None,
              framing='length', delay=0.0, chunk_delay=0.0, chunk_size=CHUNK,
              times=None):
        """Answer GETs of ``path`` with ``data``.

        ``framing``: 'length' (Content-Length), 'chunked' (HTTP/1.1
        chunks of ``chunk_size``) or 'close' (no length; the body ends when
        the connection closes). ``delay`` seconds pass before the status
        line, ``chunk_delay`` before each piece of the body. ``times``:
        answer this way that many times, then as told next (calls for the
        same path queue up; the last one without ``times`` stays).
        """
        if framing not in ('length', 'chunked', 'close'):
            raise ValueError(framing)
        self._add(path, dict(data=bytes(data), status=status,
                             headers=dict(headers or {}), framing=framing,
                             delay=delay, chunk_delay=chunk_delay,
                             chunk_size=chunk_size), times)

    def redirect(self, path, location, status=302, times=None):
        """Answer GETs of ``path`` with ``status`` and ``Location``."""
        self.serve(path, status=status, headers={'Location': location},
                   times=times)

    def hang(self, path, times=None):
        """Accept requests for ``path`` and never answer (until stop)."""
        self._add(path, dict(hang=True), times)

    def hits(self, path):
        """How many requests asked for ``path``."""
        return sum(1 for _, p, _ in self.requests if p == path)

    def _add(self, path, answer, times):
        answer['times'] = times
        with self._lock:
            self.routes.setdefault(path, []).append(answer)

    def _next_answer(self, path):
        with self._lock:
            queue = self.routes.get(path)
            if not queue:
                return None
            answer = queue[0]
            if answer['times'] is not None:
                answer['times'] -= 1
                if answer['times'] <= 0 and len(queue) > 1:
                    queue.pop(0)
            return answer

    def stop(self):
        self._stopping.set()
        super().stop()


class _QuietFileHandler(http.server.SimpleHTTPRequestHandler):

    protocol_version = 'HTTP/1.1'

    def __init__(self, server_state, *args, **kwargs):
        self.state = server_state
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._answer(head=False)

    def do_HEAD(self):
        self._answer(head=True)

    def _answer(self, head):
        path = self.path.split('?')[0]
        self.state.requests.append((self.command, path, dict(self.headers)))
        answer = self.state._next_answer(path)
        if answer is None:
            if self.state.directory is None:
                self.send_error(404)
                return
            # The directory's files, as before: HTTP/1.0, one request per
            # connection.
            self.protocol_version = 'HTTP/1.0'
            self.close_connection = True
            if head:
                return super().do_HEAD()
            return super().do_GET()
        if answer.get('hang'):
            self.state._stopping.wait()
            self.close_connection = True
            return
        if answer['delay']:
            time.sleep(answer['delay'])
        data = answer['data']
        self.send_response(answer['status'])
        for key, value in answer['headers'].items():
            self.send_header(key, value)
        framing = answer['framing']
        if framing == 'length':
            self.send_header('Content-Length', str(len(data)))
        elif framing == 'chunked':
            self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('Connection', 'close')
        self.end_headers()
        self.close_connection = True
        if head:
            return
        size = answer['chunk_size']
        try:
            for start in range(0, len(data), size):
                if answer['chunk_delay']:
                    time.sleep(answer['chunk_delay'])
                piece = data[start:start + size]
                if framing == 'chunked':
                    piece = b'%x\r\n%s\r\n' % (len(piece), piece)
                self.wfile.write(piece)
                self.wfile.flush()
            if framing == 'chunked':
                self.wfile.write(b'0\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: that is its right
