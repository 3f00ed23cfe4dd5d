"""Test-only HTTP servers on 127.0.0.1: a tampering proxy, a file server.

``TamperingProxy`` sits between two regions (the catalog lists it as the
source region's image endpoint) and forwards every request unchanged,
except that it can flip one byte of an image download (same length) or
slow the download down. ``FileServer`` serves files for web-download.
Both stop with ``stop()``; nothing here leaves 127.0.0.1.
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
        self.url = 'http://127.0.0.1:%d' % port
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
    """Serves ``directory`` over HTTP, like a vendor's image mirror."""

    def __init__(self, port, directory):
        handler = functools.partial(_QuietFileHandler, directory=directory)
        super().__init__(port, handler)


class _QuietFileHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass
