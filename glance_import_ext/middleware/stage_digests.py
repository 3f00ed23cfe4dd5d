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

"""Hash glance-direct data while it is staged: no extra pass at import.

For ``PUT /v2/images/{id}/stage`` the filter tees the request body through
the hashers as Glance reads it and writes the staged file: with
Content-Length through ``wsgi.input``; chunked, as python-glanceclient
sends it, through uWSGI's chunked reader, which Glance would otherwise
read itself (``glance.common.wsgi._UWSGIChunkFile``). The hashing runs in
threads of its own (at most one per core) fed through bounded queues:
the request thread only hands chunks over, and memory stays at a few
chunks.

Only once Glance answered 2xx, and the bytes hashed are exactly the bytes
of the staged file, it writes the record (common/stage_record.py) the
verifying plugins use instead of reading the data. Any other outcome (an
error answer, a client that went away, a body shorter than announced)
writes no record; an earlier one is replaced once Glance accepted a new
stage, and never matches a staged file that changed since.

Only the two framings clients send are hashed: a Content-Length of
digits without Transfer-Encoding, and ``Transfer-Encoding: chunked``
(compared as Glance compares it) without Content-Length. Any other
framing (both headers, other or repeated codings, an odd length) goes to
Glance untouched and unhashed: Glance answers it itself, exactly as
without the filter, and the import reads the data.

Algorithms: ``[stage_digests] algorithms`` plus every
``expected_digest_<algorithm>`` already on the image when it is staged
(read with the caller's context). It goes after ``context`` in the
pipeline (README.rst, "Verification at no import-time cost").
"""

import os
import re

from oslo_config import cfg
from oslo_log import log as logging
import webob

from glance_import_ext.common import declarations
from glance_import_ext.common import errors
from glance_import_ext.common import hashing
from glance_import_ext.common import options
from glance_import_ext.common import stage_record
from glance_import_ext import glance_internals
from glance_import_ext import middleware

LOG = logging.getLogger(__name__)
GROUP = 'stage_digests'
STAGE_PATH = re.compile(r'^/v2/images/([0-9a-fA-F-]{36})/stage/?$')
IMAGE_PATH = re.compile(r'^/v2/images/([0-9a-fA-F-]{36})/?$')
LENGTH_DIGITS = re.compile(r'[0-9]+')
# The framings the filter hashes (stage_framing).
BY_LENGTH = 'content-length'
CHUNKED = 'chunked'
MAX_ALGORITHMS = 8

stage_digests_opts = [
    options.ListOpt('algorithms', default=['sha256', 'sha512'],
                    help='Digests every glance-direct stage request gets, '
                         'besides each expected_digest_<algorithm> already '
                         'on the image when it is staged (at most 8 in '
                         'all). Each is one hash over the data, run while '
                         'Glance writes it.'),
]

cfg.CONF.register_opts(stage_digests_opts, group=GROUP)


def configured_algorithms(conf=None):
    """The configured default set, canonical names; ConfigError if bad."""
    conf = conf or cfg.CONF[GROUP]
    names = []
    for name in conf.algorithms:
        try:
            names.append(hashing.check_algorithm(name)[0])
        except ValueError as exc:
            raise errors.ConfigError('option [%s] algorithms: %s' % (
                GROUP, exc))
    return names


def stage_framing(environ):
    """BY_LENGTH, CHUNKED, or None for a framing the filter leaves alone.

    Glance decides what a body is from these headers in its own ways (a
    chunked body with a Content-Length is sized by that length, and
    refused when it differs; a coding it does not know means no body):
    the filter hashes only where what it does cannot change Glance's
    answer, and hands everything else to Glance as it came.
    """
    encoding = environ.get(glance_internals.CHUNKED_BODY_HEADER)
    length = environ.get('CONTENT_LENGTH')
    if encoding is None:
        if length and LENGTH_DIGITS.fullmatch(length):
            return BY_LENGTH
        return None
    # Glance's own test (glance.common.wsgi.Request.body_file). An empty
    # Content-Length is no length, for webob as for Glance.
    if encoding.lower() == 'chunked' and not length:
        return CHUNKED
    return None


class Hashers(hashing.MultiDigest):
    """The digests of a stage request's body, hashed off its thread.

    :param algorithms: hashlib names.
    """

    def __init__(self, algorithms):
        super().__init__(algorithms, threaded=True)
        self.ended = False   # the body's end was read

    def feed(self, chunk):
        """Hash ``chunk``; an empty one marks the body's end."""
        if not chunk:
            self.ended = True
        self.update(chunk)

    def finish(self):
        """{algorithm: hexdigest}; waits for the threads."""
        return self.hexdigests()


class TeeInput:
    """``wsgi.input`` that hands every chunk read to ``hashers``."""

    def __init__(self, raw, hashers, length):
        self._raw = raw
        self._hashers = hashers
        self._left = length

    def read(self, size=-1):
        """Read from the request body, hashing what was read.

        :param size: bytes at most; negative or None: to the end.
        """
        chunk = self._raw.read(size) if size is not None else \
            self._raw.read()
        self._passed(chunk, to_end=size is None or size < 0)
        return chunk

    def readline(self, size=-1):
        """Read a line of the request body, hashing it.

        :param size: bytes at most; negative: the whole line.
        """
        line = self._raw.readline(size)
        self._passed(line)
        return line

    def _passed(self, data, to_end=False):
        if data:
            self._hashers.feed(data)
        # The end is the announced length, not an empty read: a client
        # gone mid-body gives an empty read before it.
        if self._left is not None:
            self._left -= len(data)
            if self._left <= 0:
                self._hashers.feed(b'')
        elif to_end:
            self._hashers.feed(b'')

    def __iter__(self):
        while True:
            chunk = self.read(64 * 1024)
            if not chunk:
                return
            yield chunk


class UwsgiChunkedInput:
    """The chunked request body, read from uWSGI, as a plain stream.

    Glance reads a chunked body with ``uwsgi.chunked_read()`` itself when
    it sees ``Transfer-Encoding: chunked``; the filter reads it here
    instead and hands Glance this stream (``wsgi.input_terminated``).
    """

    def __init__(self, uwsgi, hashers):
        self._uwsgi = uwsgi
        self._hashers = hashers
        self._buffer = b''
        self._done = False

    def read(self, size=-1):
        """Read the de-chunked body, hashing each chunk as it arrives.

        :param size: bytes at most; negative or None: to the end.
        """
        want = size if size is not None and size >= 0 else None
        while not self._done and (want is None or len(self._buffer) < want):
            data = self._uwsgi.chunked_read()
            if not data:
                self._done = True
                self._hashers.feed(b'')
                break
            self._hashers.feed(data)
            self._buffer += data
        if want is None:
            chunk, self._buffer = self._buffer, b''
        else:
            chunk, self._buffer = self._buffer[:want], self._buffer[want:]
        return chunk


def _uwsgi():
    try:
        import uwsgi
    except ImportError:
        return None
    return uwsgi if hasattr(uwsgi, 'chunked_read') else None


class StageDigests:
    """The paste filter: hash a stage request's body as Glance stages it.

    :param app: the next WSGI application of glance-api's pipeline.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        refused = middleware.broken_plugin_list_answer(environ)
        if refused is not None:
            return refused(environ, start_response)
        path = environ.get('PATH_INFO', '')
        method = environ.get('REQUEST_METHOD')
        stage = STAGE_PATH.match(path)
        if method == 'PUT' and stage:
            return self._stage(environ, start_response, stage.group(1))
        image = IMAGE_PATH.match(path)
        if method == 'DELETE' and image:
            return self._delete(environ, start_response, image.group(1))
        return self.app(environ, start_response)

    def _stage(self, environ, start_response, image_id):
        framing = stage_framing(environ)
        if framing is None:
            LOG.info('Stage of image %s: not hashed, its framing is left to '
                     'Glance (Transfer-Encoding %s, Content-Length %s); the '
                     'import will read the data', image_id,
                     *(errors.bounded(repr(environ.get(name)), 80) for name in
                       (glance_internals.CHUNKED_BODY_HEADER,
                        'CONTENT_LENGTH')))
            return self.app(environ, start_response)
        try:
            staged = _staged_path(image_id)
            algorithms = self._algorithms(environ, image_id)
        except Exception as exc:
            LOG.warning('Stage of image %s: not hashing while staging (%s: '
                        '%s); the import will read the data', image_id,
                        type(exc).__name__, errors.bounded(exc, 200))
            return self.app(environ, start_response)
        if staged is None or not algorithms:
            return self.app(environ, start_response)
        # An earlier record stays until Glance accepts new data: a refused
        # stage leaves the staged file, and a failed one that changed it
        # no longer matches the record (stage_record.read).
        hashers = Hashers(algorithms)
        teed = self._teed(environ, hashers, framing)
        if teed is None:
            hashers.finish()
            return self.app(environ, start_response)
        try:
            result, status = self._answered(teed, start_response)
            body = b''.join(result)
            close = getattr(result, 'close', None)
            if close:
                close()
        finally:
            digests = hashers.finish()
        self._record(image_id, staged, status(), hashers, digests)
        return [body]

    def _answered(self, environ, start_response):
        """Glance's answer, and a callable giving its status line."""
        answer = {}

        def capture(status, headers, exc_info=None):
            answer['status'] = status
            return start_response(status, headers, exc_info)

        return self.app(environ, capture), lambda: answer.get('status', '')

    def _teed(self, environ, hashers, framing):
        environ = dict(environ)
        # The tee is read once, as it comes: a webob filter after this one
        # must not take it for a body an earlier filter buffered and
        # rewind it.
        environ.pop('webob.is_body_seekable', None)
        if framing == CHUNKED:
            uwsgi = _uwsgi()
            if uwsgi is None:
                return None     # not under uWSGI: Glance reads wsgi.input
            environ.pop(glance_internals.CHUNKED_BODY_HEADER)
            environ.pop('CONTENT_LENGTH', None)
            environ['wsgi.input'] = UwsgiChunkedInput(uwsgi, hashers)
            environ['wsgi.input_terminated'] = True
            return environ
        environ['wsgi.input'] = TeeInput(environ['wsgi.input'], hashers,
                                         int(environ['CONTENT_LENGTH']))
        return environ

    @staticmethod
    def _record(image_id, staged, status, hashers, digests):
        if not status.startswith('2'):
            return
        try:
            size = stage_record.identity(staged)['size']
            if not hashers.ended or size != hashers.total:
                LOG.warning('Stage of image %s: %d bytes hashed, staged '
                            'file has %d; no record', image_id,
                            hashers.total, size)
                return
            stage_record.write(staged, image_id, digests)
            LOG.info('Stage of image %s: recorded %s of %d bytes',
                     image_id, '+'.join(sorted(digests)), size)
        except Exception as exc:
            LOG.warning('Stage of image %s: could not record its digests '
                        '(%s: %s); the import will read the data', image_id,
                        type(exc).__name__, errors.bounded(exc, 200))

    def _algorithms(self, environ, image_id):
        names = configured_algorithms()
        context = glance_internals.request_context(webob.Request(environ))
        if context is not None:
            image = glance_internals.visible_image(
                glance_internals.image_repo(context), image_id)
            if image is None:
                return []   # Glance answers the caller itself
            names += declarations.declared_algorithms(
                glance_internals.properties_of(image))
        return sorted(set(names))[:MAX_ALGORITHMS]

    def _delete(self, environ, start_response, image_id):
        result, status = self._answered(environ, start_response)
        if status().startswith('2'):
            try:
                staged = _staged_path(image_id)
                if staged:
                    stage_record.remove(staged)
            except Exception as exc:
                LOG.debug('Image %s deleted; its stage record stays for '
                          "Glance's staging cleanup (%s)", image_id,
                          type(exc).__name__)
        return result


def _staged_path(image_id):
    staging = glance_internals.staging_dir()
    return os.path.join(staging, image_id) if staging else None


def filter_factory(global_conf, **local_conf):
    """The paste ``filter_factory`` of ``stage_digests``.

    :param global_conf: paste's global configuration (unused).
    :param local_conf: the filter's options (none).
    """
    def factory(app):
        return StageDigests(app)
    return factory
