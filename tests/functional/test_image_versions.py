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

"""image_versions on real glance-api replicas sharing one MariaDB.

Replicas of one region:
- A (two uWSGI processes): image_versions, then a test-only plugin that
  can hold an import (harness/slow_plugin.py); rotations polled every
  0.3 s;
- K: image_versions, rotations polled only every 60 s, so that a test can
  kill its processes after an import succeeded and before its rotation;
- P: versions found by os_distro, os_version, architecture; keep 2.
Every replica runs a policy under which nobody but an admin may modify a
protected image.
"""

import os
import threading
import time
import uuid

import fixtures

from tests.functional import base
from tests.functional.harness import client as image_client

COMMAND = 'glance-import-ext-manage'
SLOW = {'slow': 'tests.functional.harness.slow_plugin:get_flow'}
HOLD = 'test_hold_file'
STATE = 'import_ext_version_state'
BY = 'import_ext_superseded_by'
AT = 'import_ext_superseded_at'
PREVIOUS = 'import_ext_previous_image'
LINEAGE = 'import_ext_version_lineage'
TASK = 'import_ext_version_task'
POLICY = ('"modify_image": "role:admin or (role:member and '
          "project_id:%(project_id)s and not 'True':%(protected)s)\"\n")
RECORD_KEY = 'functional-versions-key'
SCS = {'os_distro': 'ubuntu', 'os_version': '24.04',
       'architecture': 'x86_64'}


class ImageVersionsTestCase(base.CloudTestCase):

    @classmethod
    def build_cloud(cls, cloud):
        policy = os.path.join(cloud.base_dir, 'versions-policy.yaml')
        with open(policy, 'w') as f:
            f.write(POLICY)
        conf = {'oslo_policy': {'policy_file': policy}}
        sealed = {'glance_import_ext': {'record_key': RECORD_KEY}}
        cloud.add_glance(
            'a', plugins=['image_versions', 'slow'], processes=2,
            test_plugins=SLOW, conf=conf, import_conf=dict(sealed, **{
                'image_versions': {'rotation_poll_interval': '0.3'}}))
        cloud.add_glance(
            'k', plugins=['image_versions'], conf=conf,
            import_conf=dict(sealed, **{
                'image_versions': {'rotation_poll_interval': '60'}}))
        cloud.add_glance(
            'p', plugins=['image_versions'], conf=conf,
            import_conf=dict(sealed, **{'image_versions': {
                'lineage': 'properties', 'keep_versions': '2',
                'rotation_poll_interval': '0.3'}}))

    def setUp(self):
        super().setUp()
        self.a = self.cloud.workers['a']
        self.k = self.cloud.workers['k']
        self.via_a = self.cloud.client('a')
        self.via_k = self.cloud.client('k')
        self.via_p = self.cloud.client('p')
        self.name = 'lineage-%s' % uuid.uuid4().hex[:8]

    # -- helpers -------------------------------------------------------
    def version(self, client, name=None, size=64 * 1024, expect='success',
                **props):
        data = base.random_bytes(size)
        image, task = self.stage_and_import(client, data,
                                            name=name or self.name, **props)
        self.assertEqual(expect, task['status'], task)
        return image, task, data

    def rotated(self, client, image_id, timeout=30):
        """The image once its rotation is no longer pending."""
        deadline = time.monotonic() + timeout
        while True:
            image = client.get(image_id)
            if image.get(STATE) != 'pending':
                return image
            if time.monotonic() > deadline:
                self.fail('rotation of %s still pending after %ss: %s' % (
                    image_id, timeout, image))
            time.sleep(0.2)

    def held_import(self, image_id):
        """Import ``image_id`` through A, held by the slow plugin.

        Returns the file whose removal lets the import go on.
        """
        holds = self.useFixture(fixtures.TempDir()).path
        hold = os.path.join(holds, image_id)
        open(hold, 'w').close()
        self.addCleanup(lambda: os.path.exists(hold) and os.remove(hold))
        self.via_a.update(image_id, **{HOLD: hold})
        self.via_a.import_(image_id)
        deadline = time.monotonic() + 60
        while not os.path.exists(hold + '.started'):
            self.assertLess(time.monotonic(), deadline, 'hold not reached')
            time.sleep(0.2)
        return hold

    def listed(self, client, name=None, **params):
        params.setdefault('name', name or self.name)
        return client.request('GET', '/v2/images',
                              params=params).json()['images']

    def command(self, worker, *args, rc=0):
        result = worker.command(COMMAND, *args)
        self.assertEqual(rc, result.returncode,
                         'stdout:\n%s\nstderr:\n%s' % (result.stdout,
                                                       result.stderr))
        return result.stdout

    def assertSuperseded(self, image, successor_id):
        self.assertTrue(image['os_hidden'], image)
        self.assertEqual(successor_id, image[BY])
        self.assertEqual('superseded', image[STATE])
        self.assertRegex(image[AT], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

    def assertUntouched(self, before, after):
        for key in ('os_hidden', 'status', BY, AT, STATE, PREVIOUS):
            self.assertEqual(before.get(key), after.get(key), key)


class TestReplacing(ImageVersionsTestCase):

    def test_new_version_hides_previous_not_other_projects(self):
        via_bob = self.cloud.client('a', user='bob', project='other')
        bob_image, _, _ = self.version(via_bob)
        v1, _, v1_data = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        self.assertEqual('current', v1[STATE])
        self.assertNotIn(PREVIOUS, v1)

        v2, _, _ = self.version(self.via_a)
        v2 = self.rotated(self.via_a, v2['id'])
        self.assertEqual('current', v2[STATE])
        self.assertEqual(v1['id'], v2[PREVIOUS])
        old = self.via_a.get(v1['id'])
        self.assertSuperseded(old, v2['id'])
        self.assertEqual('active', old['status'])
        # Still usable by id (instances, rebuilds), only hidden from lists.
        self.assertEqual(v1_data, self.via_a.download(v1['id']))
        self.assertEqual([v2['id']], [i['id'] for i in self.listed(
            self.via_a)])
        self.assertEqual([v1['id']], [i['id'] for i in self.listed(
            self.via_a, os_hidden='true')])
        # Bob's image of the same name, in his project, is his lineage.
        bob_after = via_bob.get(bob_image['id'])
        self.assertFalse(bob_after['os_hidden'])
        self.assertNotIn(BY, bob_after)
        self.assertEqual('current', self.rotated(via_bob,
                                                 bob_image['id'])[STATE])

        # replaces=<id>: another name, explicitly the next version.
        v3, _, _ = self.version(self.via_a, name='renamed-' + self.name,
                                replaces=v2['id'])
        v3 = self.rotated(self.via_a, v3['id'])
        self.assertEqual(v2['id'], v3[PREVIOUS])
        self.assertSuperseded(self.via_a.get(v2['id']), v3['id'])
        # ... never another project's image.
        image, task, _ = self.version(self.via_a, name='x-' + self.name,
                                      expect='failure',
                                      replaces=bob_image['id'])
        self.assertIn('image_versions: property replaces=%s: your project '
                      'has no such image' % bob_image['id'], task['message'])
        self.assertEqual('uploading', image['status'])
        self.assertFalse(via_bob.get(bob_image['id'])['os_hidden'])

    def test_only_the_exact_name_is_replaced(self):
        # MariaDB's default collation finds all four for a query of the
        # last; only that one is the same name.
        exact = 'Rt-Web_x-%s' % self.name
        others = [exact.upper(), exact.lower(), exact + ' ']
        before = {}
        for name in others + [exact]:
            # Through P (no lineage property: no lineage), so creating them
            # changes none of them.
            image, _, _ = self.version(self.via_p, name=name)
            before[name] = self.via_a.get(image['id'])
            self.assertEqual(name, before[name]['name'])
            self.assertFalse(before[name]['os_hidden'])
        new, _, _ = self.version(self.via_a, name=exact)
        new = self.rotated(self.via_a, new['id'])
        for name in others:
            after = self.via_a.get(before[name]['id'])
            self.assertUntouched(before[name], after)
            self.assertFalse(after['os_hidden'])
        self.assertEqual(before[exact]['id'], new[PREVIOUS])
        self.assertSuperseded(self.via_a.get(before[exact]['id']),
                              new['id'])

    def test_failed_store_write_changes_no_other_image(self):
        v1, _, _ = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        data = base.random_bytes(128 * 1024)
        v2 = self.via_a.create(name=self.name)
        self.via_a.stage(v2['id'], data)
        # The file store cannot write the image: a directory of its name.
        blocker = os.path.join(self.a.store_dir, v2['id'])
        os.makedirs(blocker)
        self.via_a.import_(v2['id'])
        image, task = self.via_a.wait_for_import(v2['id'])
        self.assertEqual('failure', task['status'], task)
        time.sleep(2)   # several rotation polls
        self.assertUntouched(v1, self.via_a.get(v1['id']))
        image, _ = self.wait_until_unlocked(self.via_a, v2['id'], task['id'])
        self.assertEqual('uploading', image['status'])
        self.assertEqual([], [k for k in image if k.startswith('import_ext')])

        # Retry. Held by the last plugin (slow): the intent is staged
        # with the other records, saved at once when the last plugin's
        # run ends, before Glance writes the data (unit: test_plugin
        # TestOneSaveOfRecordsPerImport); no other image changed.
        os.rmdir(blocker)
        hold = self.held_import(v2['id'])
        held = self.via_a.get(v2['id'])
        self.assertEqual('importing', held['status'])
        self.assertNotIn(STATE, held)
        self.assertUntouched(v1, self.via_a.get(v1['id']))
        os.remove(hold)
        image, task = self.via_a.wait_for_import(v2['id'])
        self.assertEqual('success', task['status'], task)
        self.assertEqual('{"name":"%s"}' % self.name, image[LINEAGE])
        self.assertEqual(task['id'], image[TASK])
        self.assertEqual(v1['id'], self.rotated(self.via_a,
                                                v2['id'])[PREVIOUS])
        self.assertSuperseded(self.via_a.get(v1['id']), v2['id'])

    def test_records_the_owner_writes_during_the_import_are_not_kept(self):
        v1, _, _ = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        data = base.random_bytes(64 * 1024)
        v2 = self.via_a.create(name=self.name)
        self.via_a.stage(v2['id'], data)
        hold = self.held_import(v2['id'])
        # While the plugins run, the owner claims the rotation is done and
        # adds a record of a check that never ran.
        self.via_a.update(v2['id'], **{
            STATE: 'current', 'import_ext_verified_digests': 'sha512'})
        os.remove(hold)
        image, task = self.via_a.wait_for_import(v2['id'])
        self.assertEqual('success', task['status'], task)
        v2 = self.rotated(self.via_a, v2['id'])
        self.assertNotIn('import_ext_verified_digests', v2)
        self.assertEqual(('current', v1['id']), (v2[STATE], v2[PREVIOUS]))
        self.assertSuperseded(self.via_a.get(v1['id']), v2['id'])
        result = self.a.command(COMMAND, 'records', 'verify', v2['id'])
        self.assertEqual(0, result.returncode, result)
        self.assertRegex(result.stdout, r'%s\s+active\s+valid\s' % v2['id'])

    def test_caller_without_rights_on_previous_version(self):
        v1, _, _ = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        # The site's policy: a protected image only an admin may modify.
        self.via_a.patch(v1['id'], [{'op': 'replace', 'path': '/protected',
                                     'value': True}])
        v1 = self.via_a.get(v1['id'])
        image, task, _ = self.version(self.via_a, expect='failure')
        self.assertIn('image_versions: this import would replace version %s'
                      % v1['id'], task['message'])
        self.assertIn("Glance's policy does not allow modify_image",
                      task['message'])
        self.assertIn('nothing was changed', task['message'])
        self.assertUntouched(v1, self.via_a.get(v1['id']))
        image, _ = self.wait_until_unlocked(self.via_a, image['id'],
                                            task['id'])
        self.assertEqual('uploading', image['status'])
        self.assertNotIn(STATE, image)
        admin = self.cloud.client('a', user='admin', project='demo',
                                  roles=('admin', 'member', 'reader'))
        admin.patch(v1['id'], [{'op': 'replace', 'path': '/protected',
                                'value': False}])


class TestConcurrentImports(ImageVersionsTestCase):

    def test_ten_concurrent_imports_end_with_one_current(self):
        first, _, _ = self.version(self.via_a)
        self.rotated(self.via_a, first['id'])
        staged = []
        for _ in range(10):
            image = self.via_a.create(name=self.name)
            self.via_a.stage(image['id'], base.random_bytes(256 * 1024))
            staged.append(image['id'])

        # A client listing the lineage meanwhile always sees a current one.
        seen = []
        stop = threading.Event()

        def poll():
            lister = self.cloud.client('a')
            while not stop.is_set():
                images = self.listed(lister)
                seen.append(sorted(i['id'] for i in images
                                   if i['status'] == 'active'))
                time.sleep(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        errors = []

        def start(image_id):
            try:
                image_client.ImageClient(
                    self.a.url, self.via_a.headers['X-Auth-Token']).import_(
                        image_id)
            except Exception as exc:
                errors.append(exc)

        starters = [threading.Thread(target=start, args=(i,))
                    for i in staged]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        self.assertEqual([], errors)
        for image_id in staged:
            _, task = self.via_a.wait_for_import(image_id, timeout=240)
            self.assertEqual('success', task['status'], task)
        for image_id in staged:
            self.rotated(self.via_a, image_id)
        time.sleep(1)
        stop.set()
        poller.join()

        self.assertGreater(len(seen), 10)
        self.assertEqual([], [s for s in seen if not s],
                         'a listing showed no active version')
        everything = {i: self.via_a.get(i) for i in staged + [first['id']]}
        visible = [i for i, image in everything.items()
                   if not image['os_hidden']]
        self.assertEqual(1, len(visible), everything)
        current = visible[0]
        self.assertEqual('current', everything[current][STATE])
        self.assertEqual([current], [i['id'] for i in self.listed(
            self.via_a)])
        for image_id, image in everything.items():
            if image_id == current:
                continue
            self.assertEqual('superseded', image[STATE], image)
            # Linked to an image of the lineage, and the links end at the
            # current version: none hidden without a successor.
            hops, at = 0, image_id
            while at != current:
                at = everything[at][BY]
                self.assertIn(at, everything)
                hops += 1
                self.assertLess(hops, len(everything))
        # The current version finished its import last (task end times
        # are stored to the second).
        ends = {i: max(t['updated_at'] for t in self.via_a.tasks(i))
                for i in staged}
        self.assertEqual(max(ends.values()), ends[current], ends)


class TestCrashBetweenActivationAndRotation(ImageVersionsTestCase):

    def kill_all(self, worker):
        for pid in worker.worker_pids():
            worker.kill_worker(pid)

    def imported_on_k(self):
        """An import through K that succeeded; its rotation not done."""
        image, task, _ = self.version(self.via_k)
        self.assertEqual('pending', self.via_k.get(image['id'])[STATE])
        self.kill_all(self.k)
        time.sleep(1)
        image = self.via_a.get(image['id'])
        self.assertEqual(('active', 'pending'), (image['status'],
                                                 image[STATE]))
        return image

    def test_admin_command_then_next_import_complete_rotations(self):
        v1, _, _ = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        v2 = self.imported_on_k()
        # The old version stays current until the rotation is completed.
        self.assertUntouched(v1, self.via_a.get(v1['id']))
        self.assertEqual(sorted([v1['id'], v2['id']]), sorted(
            i['id'] for i in self.listed(self.via_a)))

        dry = self.command(self.a, 'versions', 'rotate')
        self.assertIn("would complete the rotation of image %s (lineage "
                      "name='%s')" % (v2['id'], self.name), dry)
        self.assertIn('would change image %s: os_hidden false -> true'
                      % v1['id'], dry)
        self.assertIn('Dry run: nothing changed', dry)
        self.assertUntouched(v1, self.via_a.get(v1['id']))
        self.assertEqual('pending', self.via_a.get(v2['id'])[STATE])

        applied = self.command(self.a, 'versions', 'rotate', '--apply')
        self.assertIn('completed the rotation of image %s' % v2['id'],
                      applied)
        self.assertIn('changed image %s: os_hidden false -> true'
                      % v1['id'], applied)
        with open(self.a.log_file, errors='replace') as f:
            self.assertIn('changed image %s: os_hidden false -> true'
                          % v1['id'], f.read())
        self.assertSuperseded(self.via_a.get(v1['id']), v2['id'])
        v2 = self.via_a.get(v2['id'])
        self.assertEqual(('current', v1['id']), (v2[STATE], v2[PREVIOUS]))
        self.assertIn('No image version waits',
                      self.command(self.a, 'versions', 'rotate', '--apply'))

        # Again, and this time the next import of the lineage completes
        # the stranded rotation before its own.
        v3 = self.imported_on_k()
        v4, _, _ = self.version(self.via_a)
        v4 = self.rotated(self.via_a, v4['id'])
        v3 = self.via_a.get(v3['id'])
        self.assertEqual(v2['id'], v3[PREVIOUS])
        self.assertSuperseded(v3, v4['id'])
        self.assertSuperseded(self.via_a.get(v2['id']), v3['id'])
        self.assertEqual(v3['id'], v4[PREVIOUS])
        self.assertEqual([v4['id']], [i['id'] for i in self.listed(
            self.via_a)])

        # Every record the rotations wrote is sealed.
        verified = self.command(self.a, 'records', 'verify', v1['id'],
                                v2['id'], v3['id'], v4['id'])
        self.assertEqual(4, verified.count(' valid '), verified)
        # An intent the owner forged is never acted on: v2 would hide v4.
        self.via_a.update(v2['id'], import_ext_version_state='pending')
        self.addCleanup(self.via_a.delete, v2['id'])
        refused = self.command(self.a, 'versions', 'rotate', '--apply', rc=1)
        self.assertIn('Not touched: image %s: its records are not as the '
                      'plugins wrote them (forged)' % v2['id'], refused)
        self.assertFalse(self.via_a.get(v4['id'])['os_hidden'])

    # -- the owner against the records and the admin command ------------

    def records_of(self, image):
        return {k: v for k, v in image.items()
                if k.startswith('import_ext_')}

    def put_back(self, client, image_id, earlier):
        """The owner makes the image's records ``earlier`` again."""
        now = self.records_of(client.get(image_id))
        ops = [{'op': 'remove', 'path': '/' + k} for k in now
               if k not in earlier]
        ops += [{'op': 'add', 'path': '/' + k, 'value': v}
                for k, v in earlier.items() if now.get(k) != v]
        client.patch(image_id, ops)

    def verdicts(self, *image_ids, rc=1):
        import json
        out = self.command(self.a, 'records', 'verify', '--format', 'json',
                           *image_ids, rc=rc)
        return {r['image']: r['verdict']
                for r in json.loads(out)['images']}

    def test_a_sealed_state_put_back_or_wiped_is_reported(self):
        v1, _, _ = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        v2 = self.imported_on_k()
        # What the owner reads while v2 waits for its rotation: records
        # the plugins sealed (state pending).
        pending = self.records_of(v2)
        self.assertEqual({v2['id']: 'valid'},
                         self.verdicts(v2['id'], rc=0))
        self.command(self.a, 'versions', 'rotate', '--apply', v2['id'])
        v3, _, _ = self.version(self.via_a)
        v3 = self.rotated(self.via_a, v3['id'])
        self.assertSuperseded(self.via_a.get(v2['id']), v3['id'])

        # Rolled back: a seal valid for the records, but not the last one
        # the plugins wrote.
        self.put_back(self.via_a, v2['id'], pending)
        # Other tests of the class must not meet it.
        self.addCleanup(self.via_a.delete, v2['id'])
        self.assertEqual('pending', self.via_a.get(v2['id'])[STATE])
        self.assertEqual({v2['id']: 'rolled-back'},
                         self.verdicts(v2['id']))
        # The admin command does not act on it: v3 stays current.
        refused = self.command(self.a, 'versions', 'rotate', '--apply',
                               v2['id'], rc=1)
        self.assertIn('Not touched: image %s: its records are not as the '
                      'plugins wrote them (rolled-back)' % v2['id'], refused)
        self.assertFalse(self.via_a.get(v3['id'])['os_hidden'])
        self.assertEqual('current', self.via_a.get(v3['id'])[STATE])

        # Wiped: every record and the seal removed. The image still does
        # not look like one the plugins never wrote on, also when the
        # command looks at every image.
        self.put_back(self.via_a, v1['id'], {})
        self.assertEqual({}, self.records_of(self.via_a.get(v1['id'])))
        self.assertEqual({v1['id']: 'removed'}, self.verdicts(v1['id']))
        everything = self.verdicts()
        self.assertEqual(('removed', 'rolled-back', 'valid'), (
            everything[v1['id']], everything[v2['id']],
            everything[v3['id']]))

    def test_admin_rotation_acts_with_the_import_callers_rights(self):
        v1, _, _ = self.version(self.via_a)
        v1 = self.rotated(self.via_a, v1['id'])
        v2 = self.imported_on_k()
        # Once v1 is protected, its owner may no longer change it.
        self.via_a.patch(v1['id'], [{'op': 'replace', 'path': '/protected',
                                     'value': True}])
        admin = self.cloud.client('a', user='admin', roles=(
            'admin', 'member', 'reader'))
        self.addCleanup(admin.patch, v1['id'], [
            {'op': 'replace', 'path': '/protected', 'value': False}])
        self.via_a.patch(v1['id'], [{'op': 'add', 'path': '/os_hidden',
                                     'value': True}], expect=(403,))

        applied = self.command(self.a, 'versions', 'rotate', '--apply',
                               v2['id'], rc=1)
        self.assertIn("not changing image %s: the caller of the import may "
                      "not (Glance's policy does not allow modify_image)"
                      % v1['id'], applied)
        self.assertUntouched(v1, self.via_a.get(v1['id']))
        self.assertFalse(self.via_a.get(v1['id'])['os_hidden'])
        v2 = self.via_a.get(v2['id'])
        self.assertEqual('current', v2[STATE])
        self.assertIn('not replaced: %s' % v1['id'],
                      v2['import_ext_version_note'])


class TestPropertyLineage(ImageVersionsTestCase):

    def test_scs_properties_and_keep_versions(self):
        ids = []
        for n in range(3):
            image, _, _ = self.version(
                self.via_p, name='%s-%d' % (self.name, n),
                **dict(SCS, os_version=self.name))
            ids.append(self.rotated(self.via_p, image['id'])['id'])
        v1, v2, v3 = (self.via_p.get(i) for i in ids)
        self.assertEqual(('current', v2['id']), (v3[STATE], v3[PREVIOUS]))
        self.assertSuperseded(v2, v3['id'])
        self.assertEqual('active', v2['status'])
        # Beyond the 2 newest: deactivated, never deleted.
        self.assertEqual(('deactivated', 'retired', v2['id']),
                         (v1['status'], v1[STATE], v1[BY]))
        self.assertTrue(v1['os_hidden'])

        image, task, _ = self.version(self.via_p, expect='failure',
                                      os_distro='ubuntu')
        self.assertIn('the image has os_distro but not architecture, '
                      'os_version', task['message'])
        # No lineage property at all: no lineage, a plain import.
        image, task, _ = self.version(self.via_p)
        self.assertNotIn(STATE, self.via_p.get(image['id']))

    def test_only_exactly_equal_values_are_the_same_lineage(self):
        exact = dict(SCS, os_distro='Ubuntu-X', os_version=self.name)
        variants = [dict(exact, os_distro='UBUNTU-X'),
                    dict(exact, os_distro='ubuntu-x'),
                    dict(exact, os_distro='Ubuntu-X '),
                    dict(exact, os_version=self.name.upper())]
        before = []
        for n, props in enumerate(variants + [exact]):
            # Through A (its own name each: a lineage of its own), so
            # creating them changes none of them.
            image, _, _ = self.version(
                self.via_a, name='%s-%d' % (self.name, n), **props)
            image = self.rotated(self.via_a, image['id'])
            self.assertEqual(props['os_distro'], image['os_distro'])
            self.assertFalse(image['os_hidden'])
            before.append(image)
        new, _, _ = self.version(self.via_p, name=self.name + '-new',
                                 **exact)
        new = self.rotated(self.via_p, new['id'])
        for image in before[:-1]:
            after = self.via_p.get(image['id'])
            self.assertUntouched(image, after)
            self.assertFalse(after['os_hidden'])
        self.assertEqual(before[-1]['id'], new[PREVIOUS])
        self.assertSuperseded(self.via_p.get(before[-1]['id']), new['id'])
