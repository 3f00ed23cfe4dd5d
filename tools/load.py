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

"""Load run: the library against vanilla Glance, in the same run.

Two passes over the same images, each on a fresh cloud: *vanilla* (Glance
alone: no plugin, no filter) and *library* (every plugin of the library,
both paste filters). Each pass has ``--replicas`` glance-api replicas of
one region (processes=2 each), on the database ``--database`` names
(``galera``: each replica on its own node of a three-node cluster, as
kolla-ansible and openstack-ansible deploy it). Each image is created
and staged on replica A (declaring ``expected_digest_sha256``), then all
imports are sent through B at once: B proxies each to A. A is healthy
throughout, so every 503 is a false one.

Prints, per pass, the import answers' p50/p99, imports finished per
minute and the database server's statements per import (transactions on
PostgreSQL), then the library's ratios to vanilla (target: within 1.1x), and
the counts: failures, 503s, byte mismatches of the downloaded images,
ERROR lines in the logs. Exits 1 unless failures, 503s and mismatches
are all 0.

Run with ``tox -e load`` (``-- --images 20 --size-kib 256`` for a quicker
run; ``-- --database galera --replicas 3`` as deployments run). Not part
of the default test run.
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

from tests.functional.harness import client as client_mod
from tests.functional.harness import cloud as cloud_mod
from tests.functional.harness import glance

PLUGINS = ['staging_owner', 'metadata_copy', 'glance_download_verify',
           'manifest_verify', 'checksum_verify', 'image_versions']
FILTERS = [glance.STAGE_HOST_CHECK, glance.STAGE_DIGESTS]
# "2026-11-21 23:31:36.142 15593 ERROR glance..." (oslo.log's format)
LOG_ERROR = re.compile(r'^\S+ \S+ \d+ (ERROR|CRITICAL) ')


def say(text=''):
    print(text, flush=True)


def image_bytes(seed, size):
    """The same bytes again for ``seed``: compared without keeping them."""
    return random.Random(seed).randbytes(size)


class Run:

    def __init__(self, cloud, images, size, timeout, library=True):
        self.cloud = cloud
        self.library = library
        self.size = size
        self.timeout = timeout
        self.seeds = list(range(1, images + 1))
        self.ids = {}          # seed -> image id
        self.answers = {}      # seed -> (status, seconds) of the import
        self.results = {}      # seed -> 'success' or why it failed
        self.mismatches = []
        self.read_5xx = 0      # Glance's 5xx to the poller's reads
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
            listing = self._read(client, 'GET', '/v2/images?limit=1000')
            for image in (listing or {}).get('images', []):
                seed = pending.get(image['id'])
                if seed is None or image['status'] == 'importing':
                    continue
                if image['status'] == 'active':
                    self.results[seed] = 'success'
                    del pending[image['id']]
                    continue
                tasks = (self._read(client, 'GET', '/v2/images/%s/tasks' %
                                    image['id']) or {}).get('tasks')
                if tasks and tasks[-1]['status'] == 'failure':
                    self.results[seed] = 'task failed: %s' % (
                        tasks[-1]['message'][:200])
                    del pending[image['id']]
            if pending:
                time.sleep(1)
        for image_id, seed in pending.items():
            self.results[seed] = 'not finished after %d s' % self.timeout

    def _read(self, client, method, path):
        """A read's JSON, or None after Glance's own 5xx (counted).

        Asked again next round: Galera aborts conflicting reads of
        Glance's that Glance does not retry.
        """
        try:
            return client.request(method, path).json()
        except client_mod.APIError as exc:
            if exc.status < 500:
                raise
            with self.lock:
                self.read_5xx += 1
            return None

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
            elif (self.library and
                  image.get('import_ext_imported_on') != self.a.url):
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


def statements(cloud):
    """What the database server counted so far: (count, what is counted).

    MariaDB and Galera: the statements clients sent (``Questions``),
    summed over the nodes; PostgreSQL: the transactions committed or
    rolled back (it counts no statements without an extension).
    """
    if cloud.database == 'postgresql':
        conn = cloud.db._connect()
        try:
            with conn.cursor() as cur:
                cur.execute('SELECT sum(xact_commit + xact_rollback) '
                            'FROM pg_stat_database')
                return int(cur.fetchone()[0]), 'transactions'
        finally:
            conn.close()
    connects = ([node.connect for node in cloud.db.nodes]
                if cloud.database == 'galera' else
                [lambda: cloud.db._connect('root', '')])
    total = 0
    for connect in connects:
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'Questions'")
                total += int(cur.fetchone()[1])
        finally:
            conn.close()
    return total, 'statements'


def log_offsets(cloud):
    return {path: os.path.getsize(path) for w in cloud.workers.values()
            for path in (w.log_file, w.uwsgi_log) if os.path.exists(path)}


def percentile(values, fraction):
    """The value ``fraction`` of the way up the sorted ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def one_pass(args, library):
    """Stage, import, wait, check on a fresh cloud; the pass's figures."""
    size = args.size_kib * 1024
    with cloud_mod.Cloud(keep_dir=args.keep,
                         database=args.database) as cloud:
        t0 = time.monotonic()
        for n in range(args.replicas):
            cloud.add_glance(
                'abcdefgh'[n], plugins=PLUGINS if library else (),
                processes=2, paste_filters=FILTERS if library else (),
                db_node=n + 1 if args.database == 'galera' else 1)
        say('%s: %d replicas up in %.0f s on %s (processes=2 each%s)' % (
            'library' if library else 'vanilla', args.replicas,
            time.monotonic() - t0, args.database,
            '; plugins %s; filters stage_host_check, stage_digests' %
            ','.join(PLUGINS) if library else '; no plugin, no filter'))
        run = Run(cloud, args.images, size, args.timeout, library)
        offsets = log_offsets(cloud)
        run.stage_all(concurrency=min(args.images, 20))
        t = time.monotonic()
        before, counted = statements(cloud)
        run.import_all()
        run.wait_all()
        imported = time.monotonic() - t
        # The poller's one listing a second is counted too, alike in both.
        database_load = (statements(cloud)[0] - before) / float(args.images)
        run.check_all(concurrency=8)
        errors = run.log_errors(offsets)
        if args.keep:
            say('Cloud directory kept: %s' % cloud.base_dir)
    seconds = [sec for _, sec in run.answers.values()]
    return {
        'run': run, 'errors': errors, 'imported': imported,
        'p50': percentile(seconds, 0.5), 'p99': percentile(seconds, 0.99),
        'database': (database_load, counted),
        'per_minute': 60.0 * sum(
            1 for why in run.results.values() if why == 'success') /
        imported,
        'statuses': collections.Counter(s for s, _ in run.answers.values()),
        'failures': {s: why for s, why in run.results.items()
                     if why != 'success'},
    }


def report(name, figures):
    """Say one pass's figures and problems; True if it had none."""
    run, statuses = figures['run'], figures['statuses']
    say('  %-8s answers p50 %6.2f s, p99 %6.2f s; %6.1f imports/min; '
        'all finished in %.1f s' % (name, figures['p50'], figures['p99'],
                                    figures['per_minute'],
                                    figures['imported']))
    say('           database server: %.0f %s per import' %
        figures['database'])
    say('           answers %s; failures %d; 503s (all false) %d; byte '
        'mismatches %d; ERROR lines %d; Glance 5xx to status reads %d' % (
            ', '.join('%s x %d' % item for item in sorted(
                statuses.items(), key=lambda item: str(item[0]))),
            len(figures['failures']), statuses.get(503, 0),
            len(run.mismatches), len(figures['errors']), run.read_5xx))
    for seed, why in sorted(figures['failures'].items())[:20]:
        say('    failed %s: %s' % (run.ids.get(seed), why))
    for line in run.mismatches[:20]:
        say('    mismatch %s' % line)
    for line in figures['errors'][:20]:
        say('    log: %s' % line[:300])
    return not (figures['failures'] or statuses.get(503) or run.mismatches)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--images', type=int, default=100)
    parser.add_argument('--size-kib', type=int, default=1024)
    parser.add_argument('--replicas', type=int, default=3, choices=(2, 3))
    parser.add_argument('--database', default='galera',
                        choices=sorted(cloud_mod.DATABASES))
    parser.add_argument('--timeout', type=int, default=900,
                        help='seconds to wait for the imports to finish')
    parser.add_argument('--keep', action='store_true',
                        help='keep the cloud directory (logs) afterwards')
    args = parser.parse_args()
    vanilla = one_pass(args, library=False)
    library = one_pass(args, library=True)
    say()
    say('glance-import-ext load run: %d concurrent glance-direct imports of '
        '%d KiB, staged on A, imported through B; %d replicas on %s' % (
            args.images, args.size_kib, args.replicas, args.database))
    ok = report('vanilla', vanilla)
    ok = report('library', library) and ok
    say('  library / vanilla: answers p50 %.2fx, p99 %.2fx; imports/min '
        '%.2fx (target: answers within 1.1x, throughput at least 1/1.1)' % (
            library['p50'] / vanilla['p50'], library['p99'] / vanilla['p99'],
            library['per_minute'] / vanilla['per_minute']))
    say('  library / vanilla: database %s per import %.2fx' % (
        library['database'][1],
        library['database'][0] / vanilla['database'][0]))
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
