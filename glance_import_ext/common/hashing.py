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

"""Several digests of one stream in a single pass, in constant memory.

The algorithms are spread over at most one thread per core (``max_threads``):
hashlib releases the GIL while it hashes a large buffer, so sha256 and
sha512 of the same chunk run on two cores at once, and more threads than
cores only add switching. Chunks reach the threads through bounded queues,
so memory stays at a few chunks whatever the image size.
"""

import hashlib
import logging
import os
import queue
import re
import threading
import time

from glance_import_ext.common import errors

LOG = logging.getLogger(__name__)
_HEX = re.compile(r'^[0-9a-f]+$')
_QUEUE_DEPTH = 2
BATCH = 1024 * 1024  # bytes handed to the hashing threads at a time


def check_algorithm(name):
    """The canonical name of a hashlib algorithm with a fixed digest size.

    :raises ValueError: with a message that says what is accepted.
    """
    canonical = name.lower().replace('-', '_')
    try:
        digest = hashlib.new(canonical)
    except (ValueError, TypeError):
        raise ValueError('unknown digest algorithm %s (known: %s)' % (
            errors.shorten(name), ', '.join(sorted(supported()))))
    if canonical.startswith('shake'):
        raise ValueError('%s has no fixed digest length' % canonical)
    return canonical, digest.digest_size


def check_hex_digest(algorithm, value):
    """Normalise a declared hex digest; ValueError if it cannot be one."""
    canonical, size = check_algorithm(algorithm)
    text = value.strip().lower()
    if not _HEX.match(text):
        raise ValueError('%s digest %s is not hexadecimal' % (
            canonical, errors.shorten(value)))
    if len(text) != size * 2:
        raise ValueError('%s digest %s has %d hex digits, expected %d' % (
            canonical, errors.shorten(value), len(text), size * 2))
    return canonical, text


def supported():
    """The hashlib algorithms a declaration may name (fixed length)."""
    return {a for a in hashlib.algorithms_available
            if not a.startswith('shake') and '-' not in a}


def digest_stream(chunks, algorithms, progress=None):
    """Hex digests of the concatenated ``chunks`` for every algorithm.

    :param progress: called with the byte count after each chunk.
    :returns: ({algorithm: hexdigest}, total bytes)
    """
    start = time.monotonic()
    digests, total = _digest_stream(chunks, algorithms, progress)
    seconds = time.monotonic() - start
    LOG.info('Hashed %d MiB (%s) in %.2f s', total // 2 ** 20,
             '+'.join(sorted(digests)), seconds)
    return digests, total


def _digest_stream(chunks, algorithms, progress):
    hasher = MultiDigest(algorithms)
    try:
        for chunk in chunks:
            hasher.update(chunk)
            if progress:
                progress(hasher.total)
    finally:
        digests = hasher.hexdigests()
    return digests, hasher.total


class MultiDigest:
    """Several digests of what is fed, in one pass and constant memory.

    The one hasher of the library: the import's pass over staged data and
    the stage filter's tee both feed one. With more than one algorithm
    (or ``threaded``), the algorithms run in threads of their own, at
    most one per core, fed through bounded queues: the feeding thread
    reads ahead, or serves its request, while they hash.

    :param algorithms: hashlib names (an iterable, a dict's keys).
    :param threaded: hash off the feeding thread even for one algorithm;
        default: only for more than one.
    """

    def __init__(self, algorithms, threaded=None):
        self._hashers = {a: hashlib.new(a) for a in algorithms}
        if threaded is None:
            threaded = len(self._hashers) > 1
        self._feeds = [
            HashThread(group) for group in spread(
                list(self._hashers.values()), max_threads())
        ] if threaded and self._hashers else []
        self._batch = []
        self._batched = 0
        self.total = 0

    def update(self, chunk):
        """Hash ``chunk`` (bytes); an empty one changes nothing."""
        self.total += len(chunk)
        if not self._feeds:
            for hasher in self._hashers.values():
                hasher.update(chunk)
            return
        # Small reads (Glance reads a request 64 KiB at a time) are handed
        # over in batches of BATCH bytes: one hand-over per read would
        # cost two thread switches each; memory stays at a few batches.
        if chunk:
            self._batch.append(chunk)
            self._batched += len(chunk)
        if self._batched >= BATCH:
            self._flush()

    def _flush(self):
        if not self._batch:
            return
        # The pieces as read, not joined: a copy of every byte would cost
        # more than the hand-over it saves.
        pieces, self._batch, self._batched = self._batch, [], 0
        for feed in self._feeds:
            feed.put(pieces)

    def hexdigests(self):
        """{algorithm: hexdigest} of everything fed; ends the threads."""
        self._flush()
        feeds, self._feeds = self._feeds, []
        for feed in feeds:
            feed.close()
        return {a: h.hexdigest() for a, h in self._hashers.items()}


def max_threads():
    """Hashing threads per pass: one per core the process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores)


def spread(hashers, threads):
    """``hashers`` dealt round robin into at most ``threads`` groups."""
    groups = [[] for _ in range(min(threads, len(hashers)))]
    for i, hasher in enumerate(hashers):
        groups[i % len(groups)].append(hasher)
    return groups


class HashThread:
    """Feeds every chunk to a group of hashers, in one thread."""

    def __init__(self, hashers):
        self.hashers = hashers
        self.queue = queue.Queue(_QUEUE_DEPTH)
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self):
        while True:
            pieces = self.queue.get()
            if pieces is None:
                return
            for hasher in self.hashers:
                for piece in pieces:
                    hasher.update(piece)

    def put(self, pieces):
        """Hand data to the thread (blocks while its queue is full).

        :param pieces: bytes, or a list of bytes hashed in that order.
        """
        self.queue.put([pieces] if isinstance(pieces, bytes) else pieces)

    def close(self):
        """Let the thread hash what is queued, then end it."""
        self.queue.put(None)
        self.thread.join()


def _usable(recorded, path):
    digests, why = recorded()
    if digests is None:
        LOG.info('No stage-time digests of %s: %s', path, why)
        return {}
    usable = {}
    for name, value in digests.items():
        try:
            algorithm, text = check_hex_digest(name, value)
        except ValueError:
            continue
        usable[algorithm] = text
    LOG.info('Digests of %s taken while it was staged: %s (no pass over the '
             'data for them)', path, '+'.join(sorted(usable)) or 'none')
    return usable


class ImportDigests:
    """The digests of one import's staged data, shared by its plugins.

    Each verifying plugin says, while the flow is built, which algorithms
    it will need; the first one to hash computes all of them in one pass.
    Results are tied to the file's identity (inode, size, mtime): a plugin
    that rewrites the data in between makes the next one hash again.
    """

    def __init__(self):
        self.wanted = set()
        self._file = None
        self._digests = {}
        self._lock = threading.Lock()

    def want(self, algorithms):
        """Have the import's one pass include ``algorithms``.

        :param algorithms: hashlib names.
        """
        self.wanted.update(algorithms)

    def of(self, chunk_source, path, algorithms, progress=None,
           recorded=None, before_pass=None):
        """{algorithm: hexdigest} for ``algorithms`` of the file at path.

        :param recorded: called once per version of the file, returns
            ({algorithm: hexdigest}, None) taken while it was staged, or
            (None, why not): those algorithms need no pass over the data.
        :param before_pass: called before a pass over the data, if one is
            needed; may raise to stop it.
        """
        with self._lock:
            st = os.stat(path)
            identity = (st.st_ino, st.st_size, st.st_mtime_ns)
            if identity != self._file:
                self._file, self._digests = identity, {}
                if recorded is not None:
                    self._digests.update(_usable(recorded, path))
            missing = (set(algorithms) | self.wanted) - set(self._digests)
            if set(algorithms) - set(self._digests):
                if before_pass is not None:
                    before_pass()
                computed, _ = digest_stream(chunk_source(), sorted(missing),
                                            progress)
                self._digests.update(computed)
            return {a: self._digests[a] for a in algorithms}
