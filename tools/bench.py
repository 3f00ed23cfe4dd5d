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

"""Benchmark: what verification costs a 1 GiB import in a real glance-api.

Runs in one go, so every ratio compares numbers measured on this machine
in this run:
- hashlib alone over the file, one digest at a time (the baseline);
- the library's one-pass digest_stream over the same file;
- a glance-direct import of the same bytes through a glance-api without
  plugins, and through one with checksum_verify and declared digests;
- the same import through a glance-api with checksum_verify,
  glance_download_verify and manifest_verify, the image declaring
  expected_digest_sha256 and naming a signed SHA512SUMS on a loopback
  mirror: the staged data must be hashed in ONE pass (one "Hashed ... MiB"
  line in glance-api's log per import), for sha256 and sha512 together;
- the uWSGI worker's peak RSS growth during each import.

Run with ``tox -e bench`` (``-- --size-mib 256`` for a quicker run).
"""

import argparse
import hashlib
import os
import re
import statistics
import tempfile
import threading
import time

from glance_import_ext.common import hashing
from tests.functional.harness import cloud as cloud_mod
from tests.functional.harness import glance
from tests.functional.harness import loopback_http
from tests import pgp

CHUNK = 4 * 1024 * 1024
ALGORITHMS = ('sha256', 'sha512')
ALL_VERIFYING = ['checksum_verify', 'glance_download_verify',
                 'manifest_verify']
IMAGE_NAME = 'image.raw'
HASHED = re.compile(r'Hashed (\d+) MiB \(([^)]*)\) in ([0-9.]+) s')


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


def cpu_timed(fn, *args):
    """(CPU seconds of this process, result) of ``fn(*args)``."""
    start = time.process_time()
    result = fn(*args)
    return time.process_time() - start, result


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


def cpu_seconds(master_pid):
    """CPU seconds so far of a uWSGI master and its workers.

    User and system time of every thread, as /proc counts them.
    """
    ticks = os.sysconf('SC_CLK_TCK')
    total = 0
    for pid in [master_pid] + _children(master_pid):
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue   # a worker that ended meanwhile
        total += int(fields[11]) + int(fields[12])   # utime, stime
    return total / ticks


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


def import_once(cloud, worker, path, size, declared, check=None):
    """Seconds, memory and CPU of one glance-direct import.

    Returns (import s, RSS growth MiB, stage s, stage CPU s of glance-api).
    The RSS window covers the stage request and the import; the CPU
    seconds, glance-api's (master and workers, every thread), the stage
    request alone.

    ``check`` is called with the imported image and the "Hashed" passes
    glance-api logged during this import, before the image is deleted.
    """
    client = cloud.client(worker)
    image = client.create(name='bench', **declared)
    api = cloud.workers[worker]
    with RSSPeak(api.service.proc.pid) as rss:
        cpu = cpu_seconds(api.service.proc.pid)
        start = time.monotonic()
        with open(path, 'rb') as f:
            client.stage(image['id'], f)
        staging = time.monotonic() - start
        stage_cpu = cpu_seconds(api.service.proc.pid) - cpu
        log_offset = os.path.getsize(api.log_file)
        start = time.monotonic()
        client.import_(image['id'])
        image, task = client.wait_for_import(image['id'], timeout=1800,
                                             poll=0.05)
        seconds = time.monotonic() - start
    if task['status'] != 'success' or image['size'] != size:
        raise SystemExit('import on %s failed: %s' % (worker, task))
    if check:
        check(image, _passes(api.log_file, log_offset))
    client.delete(image['id'])
    return seconds, rss.growth_mib, staging, stage_cpu


def _passes(log_file, offset):
    """[(MiB, algorithms, seconds)] of the 'Hashed' lines after offset."""
    with open(log_file, 'rb') as f:
        f.seek(offset)
        text = f.read().decode('utf-8', 'replace')
    return [(int(m.group(1)), m.group(2), float(m.group(3)))
            for m in HASHED.finditer(text)]


class Mirror:
    """A vendor-style mirror: SHA512SUMS of the image, signed (.gpg)."""

    def __init__(self, cloud, tmp, path):
        keydir = os.path.join(tmp, 'keys')
        os.makedirs(keydir)
        self.key = pgp.make_key(keydir, 'Bench Vendor')
        self.sha512 = hashlib_alone(path, 'sha512')
        root = os.path.join(tmp, 'mirror')
        os.makedirs(root)
        manifest = ('%s  %s\n' % (self.sha512, IMAGE_NAME)).encode()
        with open(os.path.join(root, 'SHA512SUMS'), 'wb') as f:
            f.write(manifest)
        with open(os.path.join(root, 'SHA512SUMS.gpg'), 'wb') as f:
            f.write(pgp.sign_detached(self.key, manifest))
        self.server = loopback_http.FileServer(cloud.reserve_port(), root)
        self.url = self.server.url + '/SHA512SUMS'
        self.trust_rule = '%s/ %s .gpg' % (
            self.server.url, self.key.keyring_path)

    def stop(self):
        self.server.stop()
        pgp.cleanup(self.key)


class OnePassCheck:
    """Checks an import with every verifying plugin; keeps its passes."""

    def __init__(self, mirror):
        self.mirror = mirror
        self.passes = []  # one list of passes per import

    def __call__(self, image, passes):
        wanted = {'import_ext_verified_digests': 'sha256',
                  'import_ext_manifest_algorithms': 'sha512',
                  'import_ext_manifest_signer': self.mirror.key.fingerprint,
                  'import_ext_manifest_entry': IMAGE_NAME}
        wrong = {k: image.get(k) for k, v in wanted.items()
                 if image.get(k) != v}
        if wrong:
            raise SystemExit('import with every verifying plugin recorded '
                             '%s, expected %s' % (wrong, wanted))
        self.passes.append(passes)

    def problems(self):
        """What is wrong with the passes seen ([]: one pass, both digests)."""
        found = []
        for passes in self.passes:
            if len(passes) != 1:
                found.append('the staged data was hashed %d times in one '
                             'import (expected once): %s' % (len(passes),
                                                             passes))
            elif passes[0][1] != '+'.join(ALGORITHMS):
                found.append('the one pass computed %s, expected %s' % (
                    passes[0][1], '+'.join(ALGORITHMS)))
        return found


def _ready_seconds(log_file):
    """Best 'digests (...) of image ... ready in S s' time logged."""
    with open(log_file, errors='replace') as f:
        times = [float(m.group(1)) for m in re.finditer(
            r'digests \([^)]*\) of image \S+ ready in ([0-9.]+) s',
            f.read())]
    return min(times)


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
        alone, alone_cpu = {}, {}
        for algorithm in ALGORITHMS:
            alone[algorithm], digest = timed(hashlib_alone, path, algorithm)
            alone_cpu[algorithm], _ = cpu_timed(hashlib_alone, path,
                                                algorithm)
        declared = {'expected_digest_%s' % a: hashlib_alone(path, a)
                    for a in ALGORITHMS}
        one_pass, _ = timed(hashing.digest_stream, chunks(path), ALGORITHMS)
        slowest = max(alone.values())

        mirror = Mirror(cloud, tmp, path)
        try:
            cloud.add_glance('plain')
            cloud.add_glance('verify', plugins=['checksum_verify'])
            cloud.add_glance('staged', plugins=['checksum_verify'],
                             paste_filters=[glance.STAGE_DIGESTS])
            cloud.add_glance('all', plugins=ALL_VERIFYING, import_conf={
                'manifest_verify': {'trust_rule': [mirror.trust_rule]}})
            manifest = {'expected_digests_url': mirror.url,
                        'expected_digests_entry': IMAGE_NAME,
                        'expected_digest_sha256':
                            declared['expected_digest_sha256']}
            one_pass_check = OnePassCheck(mirror)
            results = {'plain': [], 'verify': [], 'staged': [], 'all': []}
            for _ in range(args.rounds):
                for worker, decl, check in (
                        ('plain', {}, None), ('verify', declared, None),
                        ('staged', declared, None),
                        ('all', manifest, one_pass_check)):
                    results[worker].append(
                        import_once(cloud, worker, path, size, decl, check))
        finally:
            mirror.stop()
        plain = min(r[0] for r in results['plain'])
        verify = min(r[0] for r in results['verify'])
        every = min(r[0] for r in results['all'])
        rss_plain = max(r[1] for r in results['plain'])
        rss_verify = max(r[1] for r in results['verify'])
        rss_all = max(r[1] for r in results['all'])
        in_glance = _hashing_seconds(cloud.workers['verify'].log_file)
        staged = min(r[0] for r in results['staged'])
        rss_staged = max(r[1] for r in results['staged'])
        stage_plain = min(r[2] for r in results['plain'])
        stage_filtered = min(r[2] for r in results['staged'])
        # Every stage request without the filter is the same work for
        # glance-api (the plugins run at import): their median is the
        # baseline; medians damp what other processes' load does to each.
        stage_cpu_plain = statistics.median(
            r[3] for worker in ('plain', 'verify', 'all')
            for r in results[worker])
        stage_cpu_filtered = statistics.median(
            r[3] for r in results['staged'])
        from_record = _ready_seconds(cloud.workers['staged'].log_file)
        all_passes = one_pass_check.passes
        problems = one_pass_check.problems()

    for worker, runs in results.items():
        print('  rounds %-7s %s' % (worker, ', '.join(
            'import %.2f s / +%.1f MiB / stage %.2f s, %.2f CPU s' % run
            for run in runs)))
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

    sha512 = alone['sha512']
    print('\n  stage_digests (hash while staging) + checksum_verify, '
          'sha256 + sha512 declared:')
    print('  stage request, no filter    %6.2f s' % stage_plain)
    print('  stage request, the filter   %6.2f s  = %.2fx without it' % (
        stage_filtered, stage_filtered / stage_plain))
    gib = size / 2 ** 30
    filter_cpu = (stage_cpu_filtered - stage_cpu_plain) / gib
    hashlib_cpu = sum(alone_cpu.values()) / gib
    print('  CPU the filter adds         %6.2f s/GiB = %.2fx hashlib %s '
          'alone, %.2f CPU s/GiB (target <= 1.05x; glance-api\'s CPU '
          'seconds, median stage request with the filter minus median '
          'without)' % (filter_cpu, filter_cpu / hashlib_cpu,
                        '+'.join(ALGORITHMS), hashlib_cpu))
    print('  verification at import      %6.3f s  = %.3fx hashlib sha512 '
          'alone (target <= 0.05x)' % (from_record, from_record / sha512))
    print('  import, with the record     %6.2f s  = %.2fx the plain import'
          % (staged, staged / plain))
    print('  worker peak RSS growth      %6.1f MiB, stage and import '
          '(target <= 32 MiB)' % rss_staged)

    best = min((p[0] for p in all_passes if p), key=lambda p: p[2])
    print('\n  checksum_verify + glance_download_verify + manifest_verify, '
          'expected_digest_sha256')
    print('  and a signed SHA512SUMS (loopback mirror), glance-direct:')
    print('  hashing passes per import     %s (must be 1)' % ', '.join(
        str(len(p)) for p in all_passes))
    print('  its one pass inside glance-api %d MiB (%s) in %.2f s = %.2fx '
          'hashlib sha512 alone (best of the imports)' % (
              best[0], best[1], best[2], best[2] / sha512))
    added = every - plain
    print('  import, all three verifying %6.2f s  = %.2fx the plain import, '
          '+%.2f s = %.2fx sha512 alone' % (
              every, every / plain, added, added / sha512))
    print('  worker peak RSS growth      %6.1f MiB (+%.1f MiB over plain)' % (
        rss_all, rss_all - rss_plain))
    if problems:
        raise SystemExit('FAILED: ' + '; '.join(problems))


if __name__ == '__main__':
    main()
