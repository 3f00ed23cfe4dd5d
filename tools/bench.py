"""Benchmark: what verification costs a 1 GiB import in a real glance-api.

Runs in one go, so every ratio compares numbers measured on this machine
in this run:
- hashlib alone over the file, one digest at a time (the baseline);
- the library's one-pass digest_stream over the same file;
- a glance-direct import of the same bytes through a glance-api without
  plugins, and through one with checksum_verify and declared digests;
- the uWSGI worker's peak RSS growth during each import.

Run with ``tox -e bench`` (``-- --size-mib 256`` for a quicker run).
"""

import argparse
import hashlib
import os
import re
import tempfile
import threading
import time

from glance_import_ext.common import hashing
from tests.functional.harness import cloud as cloud_mod

CHUNK = 4 * 1024 * 1024
ALGORITHMS = ('sha256', 'sha512')


def make_file(path, size):
    with open(path, 'wb') as f:
        for _ in range(size // CHUNK):
            f.write(os.urandom(CHUNK))


def chunks(path):
    with open(path, 'rb') as f:
        while True:
            data = f.read(CHUNK)
            if not data:
                return
            yield data


def timed(fn, *args):
    start = time.monotonic()
    result = fn(*args)
    return time.monotonic() - start, result


def hashlib_alone(path, algorithm):
    h = hashlib.new(algorithm)
    for data in chunks(path):
        h.update(data)
    return h.hexdigest()


class RSSPeak:
    """Peak resident memory of a process's children (uWSGI workers)."""

    def __init__(self, master_pid):
        self.pids = _children(master_pid)
        self.baseline = self._rss()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _rss(self):
        total = 0
        for pid in self.pids:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1]) * 1024
        return total

    def _watch(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self):
        return (self.peak - self.baseline) / 2 ** 20


def _children(pid):
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def import_once(cloud, worker, path, size, declared):
    client = cloud.client(worker)
    image = client.create(name='bench', **declared)
    with open(path, 'rb') as f:
        client.stage(image['id'], f)
    api = cloud.workers[worker]
    with RSSPeak(api.service.proc.pid) as rss:
        start = time.monotonic()
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'], timeout=1800,
                                             poll=0.05)
        seconds = time.monotonic() - start
    if task['status'] != 'success' or image['size'] != size:
        raise SystemExit('import on %s failed: %s' % (worker, task))
    client.delete(image['id'])
    return seconds, rss.growth_mib


def _hashing_seconds(log_file):
    """Best 'Hashed N MiB (...) in S s' time the plugin logged."""
    with open(log_file, errors='replace') as f:
        times = [float(m.group(1)) for m in re.finditer(
            r'Hashed \d+ MiB \([^)]*\) in ([0-9.]+) s', f.read())]
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--rounds', type=int, default=2)
    args = parser.parse_args()
    size = args.size_mib * 2 ** 20
    with tempfile.TemporaryDirectory(prefix='gie-bench-') as tmp, \
            cloud_mod.Cloud() as cloud:
        path = os.path.join(tmp, 'image.raw')
        make_file(path, size)
        alone = {}
        for algorithm in ALGORITHMS:
            alone[algorithm], digest = timed(hashlib_alone, path, algorithm)
        declared = {'expected_digest_%s' % a: hashlib_alone(path, a)
                    for a in ALGORITHMS}
        one_pass, _ = timed(hashing.digest_stream, chunks(path), ALGORITHMS)
        slowest = max(alone.values())

        cloud.add_glance('plain')
        cloud.add_glance('verify', plugins=['checksum_verify'])
        results = {'plain': [], 'verify': []}
        for _ in range(args.rounds):
            for worker, decl in (('plain', {}), ('verify', declared)):
                results[worker].append(
                    import_once(cloud, worker, path, size, decl))
        plain = min(r[0] for r in results['plain'])
        verify = min(r[0] for r in results['verify'])
        rss_plain = max(r[1] for r in results['plain'])
        rss_verify = max(r[1] for r in results['verify'])
        in_glance = _hashing_seconds(cloud.workers['verify'].log_file)

    for worker, runs in results.items():
        print('  rounds %-7s %s' % (worker, ', '.join(
            '%.2f s / +%.1f MiB' % run for run in runs)))
    mib = args.size_mib
    print('\nglance-import-ext benchmark: %d MiB, %d round(s), best of each'
          % (mib, args.rounds))
    for algorithm in ALGORITHMS:
        print('  hashlib %-7s alone        %6.2f s  %7.0f MiB/s' % (
            algorithm, alone[algorithm], mib / alone[algorithm]))
    print('  digest_stream %s   %6.2f s  %7.0f MiB/s  = %.2fx the slowest '
          'digest alone' % ('+'.join(ALGORITHMS), one_pass, mib / one_pass,
                            one_pass / slowest))
    print('  import, no plugins          %6.2f s' % plain)
    print('  import, checksum_verify     %6.2f s  = %.2fx the plain import'
          % (verify, verify / plain))
    print('  its one pass inside glance-api %6.2f s  = %.2fx the slowest '
          'digest alone (best of the imports)' % (in_glance,
                                                  in_glance / slowest))
    added = verify - plain
    print('  time verification adds      %6.2f s  = %.2fx the slowest digest '
          'alone (target <= 1.15x)' % (added, added / slowest))
    print('  worker peak RSS growth      %6.1f MiB plain, %.1f MiB with '
          'checksum_verify: +%.1f MiB (target <= 32 MiB)' % (
              rss_plain, rss_verify, rss_verify - rss_plain))


if __name__ == '__main__':
    main()
