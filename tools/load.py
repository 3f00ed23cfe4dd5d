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

"""Load run: concurrent imports staged on one replica, imported via another.

Two glance-api replicas A and B of one region (processes=2 each, the
paste filter stage_host_check on both, every plugin on). Each image is
created and staged on A (with ``expected_digest_sha256`` declared), then
all imports are sent through B at once: B proxies each to A, where the
plugins run. A is healthy throughout, so every 503 is a false one.

Prints wall times and counts: failures, 503s, other import answers,
byte mismatches of the downloaded images, ERROR lines in the logs.
Exits 1 unless failures, 503s and mismatches are all 0.

Run with ``tox -e load`` (``-- --images 20 --size-kib 256`` for a quicker
run). Not part of the default test run.
"""

import argparse
import collections
import concurrent.futures
import hashlib
import os
import random
import re
import threading
import time

from tests.functional.harness import cloud as cloud_mod
from tests.functional.harness import glance

PLUGINS = ['staging_owner', 'metadata_copy', 'glance_download_verify',
           'checksum_verify']
# "2026-11-21 23:31:36.142 15593 ERROR glance..." (oslo.log's format)
LOG_ERROR = re.compile(r'^\S+ \S+ \d+ (ERROR|CRITICAL) ')


def say(text=''):
    print(text, flush=True)


def image_bytes(seed, size):
    """The same bytes again for ``seed``: compared without keeping them."""
    return random.Random(seed).randbytes(size)


class Run:

    def __init__(self, cloud, images, size, timeout):
        self.cloud = cloud
        self.size = size
        self.timeout = timeout
        self.seeds = list(range(1, images + 1))
        self.ids = {}          # seed -> image id
        self.answers = {}      # seed -> (status, seconds) of the import
        self.results = {}      # seed -> 'success' or why it failed
        self.mismatches = []
        self.lock = threading.Lock()
        self.a = cloud.workers['a']
        self.b = cloud.workers['b']

    # -- phases ----------------------------------------------------------
    def stage_all(self, concurrency):
        def one(seed):
            data = image_bytes(seed, self.size)
            client = self.cloud.client('a')
            image = client.create(
                name='load-%d' % seed,
                expected_digest_sha256=hashlib.sha256(data).hexdigest())
            client.stage(image['id'], data)
            self.ids[seed] = image['id']
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, self.seeds))

    def import_all(self):
        """Every import through B at the same moment."""
        barrier = threading.Barrier(len(self.seeds))

        def one(seed):
            client = self.cloud.client('b')
            barrier.wait()
            start = time.monotonic()
            try:
                resp = client.request(
                    'POST', '/v2/images/%s/import' % self.ids[seed],
                    json={'method': {'name': 'glance-direct'}},
                    expect=None, timeout=300)
                status = resp.status_code
            except Exception as exc:  # counted, not fatal to the run
                status = type(exc).__name__
            self.answers[seed] = (status, time.monotonic() - start)
            if status != 202:
                self.results[seed] = 'import answered %s' % status
        with concurrent.futures.ThreadPoolExecutor(len(self.seeds)) as pool:
            list(pool.map(one, self.seeds))

    def wait_all(self):
        """One poller: a listing per round, tasks only of settled images."""
        client = self.cloud.client('b')
        pending = {self.ids[s]: s for s in self.seeds
                   if s not in self.results}
        deadline = time.monotonic() + self.timeout
        while pending and time.monotonic() < deadline:
            listing = client.request('GET', '/v2/images?limit=1000').json()
            for image in listing['images']:
                seed = pending.get(image['id'])
                if seed is None or image['status'] == 'importing':
                    continue
                if image['status'] == 'active':
                    self.results[seed] = 'success'
                    del pending[image['id']]
                    continue
                tasks = client.tasks(image['id'])
                if tasks and tasks[-1]['status'] == 'failure':
                    self.results[seed] = 'task failed: %s' % (
                        tasks[-1]['message'][:200])
                    del pending[image['id']]
            if pending:
                time.sleep(1)
        for image_id, seed in pending.items():
            self.results[seed] = 'not finished after %d s' % self.timeout

    def check_all(self, concurrency):
        """Download every imported image through B; compare the bytes."""
        def one(seed):
            if self.results[seed] != 'success':
                return
            client = self.cloud.client('b')
            image = client.get(self.ids[seed])
            got = client.download(self.ids[seed])
            if got != image_bytes(seed, self.size):
                self.mismatches.append('%s: %d bytes, sha256 %s' % (
                    self.ids[seed], len(got),
                    hashlib.sha256(got).hexdigest()))
            elif image.get('import_ext_imported_on') != self.a.url:
                self.results[seed] = 'imported on %s, not A' % image.get(
                    'import_ext_imported_on')
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, self.seeds))

    def log_errors(self, offsets):
        errors = []
        for path, start in offsets.items():
            with open(path, errors='replace') as f:
                f.seek(start)
                errors += [line.rstrip() for line in f
                           if LOG_ERROR.match(line) or 'Traceback' in line]
        return errors


def log_offsets(cloud):
    return {path: os.path.getsize(path) for w in cloud.workers.values()
            for path in (w.log_file, w.uwsgi_log) if os.path.exists(path)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--images', type=int, default=100)
    parser.add_argument('--size-kib', type=int, default=1024)
    parser.add_argument('--timeout', type=int, default=900,
                        help='seconds to wait for the imports to finish')
    parser.add_argument('--keep', action='store_true',
                        help='keep the cloud directory (logs) afterwards')
    args = parser.parse_args()
    size = args.size_kib * 1024

    with cloud_mod.Cloud(keep_dir=args.keep) as cloud:
        t0 = time.monotonic()
        for name in ('a', 'b'):
            cloud.add_glance(name, plugins=PLUGINS, processes=2,
                             paste_filters=[glance.STAGE_HOST_CHECK])
        say('Replicas A %s and B %s up in %.0f s (processes=2 each; '
            'plugins %s; filter stage_host_check)' % (
                cloud.workers['a'].url, cloud.workers['b'].url,
                time.monotonic() - t0, ','.join(PLUGINS)))
        run = Run(cloud, args.images, size, args.timeout)
        offsets = log_offsets(cloud)

        t = time.monotonic()
        run.stage_all(concurrency=min(args.images, 20))
        staged = time.monotonic() - t
        say('Staged %d images of %d KiB on A in %.1f s' % (
            args.images, args.size_kib, staged))

        t = time.monotonic()
        run.import_all()
        posted = time.monotonic() - t
        run.wait_all()
        imported = time.monotonic() - t
        t = time.monotonic()
        run.check_all(concurrency=8)
        checked = time.monotonic() - t
        errors = run.log_errors(offsets)
        if args.keep:
            say('Cloud directory kept: %s' % cloud.base_dir)

    statuses = collections.Counter(s for s, _ in run.answers.values())
    seconds = sorted(sec for _, sec in run.answers.values())
    failures = {s: why for s, why in run.results.items()
                if why != 'success'}
    say()
    say('glance-import-ext load run: %d concurrent glance-direct imports, '
        'staged on A, imported through B' % args.images)
    say('  import requests answered in   %6.1f s (each: median %.2f s, '
        'max %.2f s)' % (posted, seconds[len(seconds) // 2], seconds[-1]))
    say('  imports finished in           %6.1f s' % imported)
    say('  downloads compared in         %6.1f s' % checked)
    answers = sorted(statuses.items(), key=lambda item: str(item[0]))
    say('  import answers                %s' % ', '.join(
        '%s x %d' % (status, n) for status, n in answers))
    say('  failures                      %d' % len(failures))
    say('  503s (all false: A is up)     %d' % statuses.get(503, 0))
    say('  byte mismatches               %d' % len(run.mismatches))
    say('  ERROR lines in the logs       %d' % len(errors))
    for seed, why in sorted(failures.items())[:20]:
        say('    failed %s: %s' % (run.ids.get(seed), why))
    for line in run.mismatches[:20]:
        say('    mismatch %s' % line)
    for line in errors[:20]:
        say('    log: %s' % line[:300])
    ok = not failures and not statuses.get(503) and not run.mismatches
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
