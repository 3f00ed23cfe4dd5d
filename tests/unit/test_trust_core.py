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

"""The core's promises.

Bounded messages, sealed records, reverts that run to their end, flows
that fail closed, and the keepalive.
"""

import datetime
import os
from unittest import mock

import fixtures
from glance.common import exception
from glance import domain
from taskflow.types import failure as tf_failure
import testtools

from glance_import_ext.common import errors
from glance_import_ext.common import guards
from glance_import_ext.common import import_state
from glance_import_ext.common import keepalive
from glance_import_ext.common import plugin
from glance_import_ext.common import records
from glance_import_ext.common import stage_record
from glance_import_ext.common import task as image_task
from glance_import_ext import glance_internals
from tests.unit import fakes


class Keyed:

    def __init__(self, key='k1', previous=()):
        self.record_key = key
        self.previous_record_keys = list(previous)


class TestBoundedMessages(testtools.TestCase):

    def test_shorten_keeps_short_values_and_cuts_long_ones(self):
        self.assertEqual("'abc'", errors.shorten('abc'))
        text = errors.shorten('a' * 65500)
        self.assertLess(len(text), 120)
        self.assertIn('(65500 characters)', text)

    def test_import_failed_is_capped(self):
        exc = errors.ImportFailed('p', 'x' * 100000)
        self.assertEqual(errors.MAX_MESSAGE, len(str(exc)))
        self.assertTrue(str(exc).endswith('[...]'))

    def test_notes_are_appended_within_the_cap(self):
        exc = errors.ImportFailed('p', 'mismatch')
        exc.add_note('q could not undo x')
        self.assertEqual('p: mismatch; q could not undo x', str(exc))
        exc.add_note('y' * 100000)
        self.assertLessEqual(len(str(exc)), errors.MAX_MESSAGE)
        self.assertTrue(str(exc).startswith('p: mismatch; q could not'))


class TestRecords(testtools.TestCase):

    PROPS = {'import_ext_plugins': 'a,b', 'hw_x': '1'}

    def sealed(self, conf=None):
        props = dict(self.PROPS)
        props[records.SEAL] = records.seal('img', props, conf or Keyed())
        return props

    def test_valid_seal(self):
        self.assertEqual(records.VALID,
                         records.check('img', self.sealed(), Keyed())[0])

    def test_other_properties_do_not_matter(self):
        props = self.sealed()
        props['hw_x'] = 'changed'
        self.assertEqual(records.VALID,
                         records.check('img', props, Keyed())[0])

    def test_edited_added_or_removed_record_is_forged(self):
        for change in ({'import_ext_plugins': 'a'},
                       {'import_ext_verified_digests': 'sha256'}):
            props = self.sealed()
            props.update(change)
            self.assertEqual(records.FORGED,
                             records.check('img', props, Keyed())[0])
        props = self.sealed()
        del props['import_ext_plugins']
        self.assertEqual(records.FORGED,
                         records.check('img', props, Keyed())[0])

    def test_seal_of_another_image_does_not_verify(self):
        self.assertEqual(records.FORGED,
                         records.check('other', self.sealed(), Keyed())[0])

    def test_previous_key_still_verifies(self):
        props = self.sealed(Keyed('old'))
        self.assertEqual(records.VALID, records.check(
            'img', props, Keyed('new', previous=['old']))[0])
        self.assertEqual(records.FORGED,
                         records.check('img', props, Keyed('new'))[0])

    def test_unsealed_none_and_no_key(self):
        self.assertEqual(records.UNSEALED,
                         records.check('img', self.PROPS, Keyed())[0])
        self.assertEqual(records.NO_RECORDS,
                         records.check('img', {'hw_x': '1'}, Keyed())[0])
        self.assertEqual(records.NO_KEY,
                         records.check('img', self.sealed(), Keyed(None))[0])
        self.assertIsNone(records.seal('img', self.PROPS, Keyed(None)))

    def test_garbage_seal_is_forged(self):
        props = dict(self.PROPS, import_ext_seal='not a seal')
        self.assertEqual(records.FORGED,
                         records.check('img', props, Keyed())[0])


class TestAnchoredRecords(testtools.TestCase):
    """The seal checked against the anchor the owner cannot write."""

    FIRST = {'import_ext_plugins': 'a', 'import_ext_version_state':
             'pending', 'hw_x': '1'}
    LAST = {'import_ext_plugins': 'a,b', 'import_ext_version_state':
            'current', 'import_ext_warnings': 'w', 'hw_x': '1'}

    def sealed(self, props, conf=None):
        props = dict(props)
        value = records.seal('img', props, conf or Keyed())
        if value:
            props[records.SEAL] = value
        return props

    def anchor(self, props, conf=None, writing=None):
        return {'sealed': records.fingerprint('img', props, conf or Keyed()),
                'writing': writing, 'caller': None}

    def check(self, props, anchor, conf=None):
        return records.check('img', props, conf or Keyed(), anchor=anchor)[0]

    def test_last_state_is_valid(self):
        last = self.sealed(self.LAST)
        self.assertEqual(records.VALID, self.check(last, self.anchor(last)))

    def test_an_earlier_sealed_state_put_back_is_rolled_back(self):
        first, last = self.sealed(self.FIRST), self.sealed(self.LAST)
        self.assertEqual(records.VALID, self.check(first, None))
        self.assertEqual(records.ROLLED_BACK,
                         self.check(first, self.anchor(last)))

    def test_every_record_and_the_seal_removed(self):
        last = self.sealed(self.LAST)
        self.assertEqual(records.REMOVED,
                         self.check({'hw_x': '1'}, self.anchor(last)))
        self.assertEqual(records.NO_RECORDS, self.check({'hw_x': '1'}, None))

    def test_records_without_the_seal_or_edited(self):
        last = self.sealed(self.LAST)
        unsealed = dict(last)
        del unsealed[records.SEAL]
        self.assertEqual(records.FORGED,
                         self.check(unsealed, self.anchor(last)))
        edited = dict(last, import_ext_warnings='')
        self.assertEqual(records.FORGED,
                         self.check(edited, self.anchor(last)))

    def test_a_write_under_way_accepts_both_states(self):
        first, last = self.sealed(self.FIRST), self.sealed(self.LAST)
        anchor = self.anchor(first, writing=records.fingerprint(
            'img', last, Keyed()))
        self.assertEqual(records.VALID, self.check(first, anchor))
        self.assertEqual(records.VALID, self.check(last, anchor))

    def test_the_plugins_removed_their_records(self):
        anchor = self.anchor({})
        self.assertEqual(records.NO_RECORDS,
                         self.check({'hw_x': '1'}, anchor))
        self.assertEqual(records.ROLLED_BACK,
                         self.check(self.sealed(self.FIRST), anchor))

    def test_without_a_key_the_digest_still_tells_a_change(self):
        anchor = self.anchor(self.LAST, Keyed(None))
        self.assertEqual(records.UNSEALED,
                         self.check(self.LAST, anchor, Keyed(None)))
        self.assertEqual(records.FORGED,
                         self.check(self.FIRST, anchor, Keyed(None)))
        self.assertEqual(records.REMOVED,
                         self.check({}, anchor, Keyed(None)))

    def test_keyed_anchor_needs_a_key_here(self):
        last = self.sealed(self.LAST)
        self.assertEqual(records.NO_KEY,
                         self.check(last, self.anchor(last), Keyed(None)))

    def test_key_rotation(self):
        last = self.sealed(self.LAST, Keyed('old'))
        anchor = self.anchor(last, Keyed('old'))
        self.assertEqual(records.VALID, self.check(
            last, anchor, Keyed('new', previous=['old'])))


class TestAnchoring(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.anchors = self.useFixture(fakes.FakeAnchors())

    def test_a_failed_write_leaves_the_anchored_state(self):
        with records.anchoring('img', {'import_ext_plugins': 'a'}):
            pass
        first = self.anchors.rows['img']['sealed']
        self.assertRaises(RuntimeError, self._fail_write)
        self.assertEqual({'sealed': first, 'writing': None, 'caller': None},
                         self.anchors.rows['img'])

    def _fail_write(self):
        with records.anchoring('img', {'import_ext_plugins': 'a,b'}):
            raise RuntimeError('save failed')

    def test_repo_saves_anchor_with_the_caller(self):
        repo = fakes.FakeImageRepo(fakes.make_image(properties={
            'import_ext_plugins': 'a'}))
        context = mock.Mock(user_id='u', project_id='p', roles=['member'],
                            user_domain_id='d', project_domain_id='d',
                            system_scope=None)
        state = import_state.ImportState()
        anchored = records.AnchoredRepo(repo, context, state)
        anchored.save(anchored.get(fakes.IMAGE_ID))
        row = self.anchors.rows[fakes.IMAGE_ID]
        self.assertEqual(records.fingerprint(
            fakes.IMAGE_ID, repo.properties), row['sealed'])
        self.assertEqual(('u', 'p', ['member']), (
            row['caller']['user_id'], row['caller']['project_id'],
            row['caller']['roles']))
        self.assertEqual({'import_ext_plugins': 'a'}, state.records)

    def test_records_changed_during_the_import_are_put_back(self):
        repo = fakes.FakeImageRepo(fakes.make_image(properties={
            'import_ext_plugins': 'a', 'hw_x': '1'}))
        state = import_state.ImportState()
        anchored = records.AnchoredRepo(repo, mock.Mock(roles=[]), state)
        anchored.save(anchored.get(fakes.IMAGE_ID))
        # The owner PATCHes the importing image.
        repo.change_behind_our_back(import_ext_plugins='forged',
                                    import_ext_verified_digests='sha512',
                                    hw_x='2')
        image = anchored.get(fakes.IMAGE_ID)
        self.assertEqual({'import_ext_plugins': 'a', 'hw_x': '2'},
                         {k: v for k, v in dict(
                             image.extra_properties).items()
                          if k != fakes.LOCK_KEY})
        image.extra_properties['import_ext_x'] = 'mine'
        anchored.save(image)
        self.assertEqual({'import_ext_plugins': 'a', 'import_ext_x': 'mine'},
                         state.records)
        self.assertEqual(records.UNSEALED, records.verify(
            fakes.IMAGE_ID, repo.properties)[0])


class ProtectedProperties(domain.ExtraProperties):
    """Extra properties where some keys may not be deleted.

    As Glance's property protections refuse them to a member.
    """

    undeletable = ()

    def __delitem__(self, key):
        if key in self.undeletable:
            raise exception.ReservedProperty(property=key)
        super().__delitem__(key)


class ProtectedRepo(fakes.FakeImageRepo):

    def __init__(self, image, undeletable):
        super().__init__(image)
        self.undeletable = undeletable

    def get(self, image_id):
        image = super().get(image_id)
        props = ProtectedProperties(image.extra_properties)
        props.undeletable = self.undeletable
        image.extra_properties = props
        return image


class Copies(image_task.ImageTask):

    def run(self):
        return None


class TestRevertRunsToItsEnd(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger())
        self.repo = ProtectedRepo(fakes.make_image(properties={'a': 'a0'}),
                                  undeletable={'hw_new'})
        self.plugin = fakes.make_plugin(self.repo)
        self.task = Copies(self.plugin)

    def failures(self):
        exc = errors.ImportFailed('checksum_verify', 'sha256 mismatch')
        try:
            raise exc
        except errors.ImportFailed:
            return exc, {'t': tf_failure.Failure()}

    def test_restores_what_it_can_and_reports_the_rest(self):
        self.task.update_image({'hw_new': '1', 'a': 'a1', 'b': 'b1'})
        exc, flow_failures = self.failures()
        self.task.revert(flow_failures=flow_failures)
        self.assertEqual({'a': 'a0', 'hw_new': '1'}, self.repo.properties)
        self.assertIn("could not undo its change of 'hw_new' (not allowed "
                      "by property protections)", str(exc))
        self.assertTrue(str(exc).startswith('checksum_verify: sha256'))
        self.assertIn('could not undo', self.logger.output)

    def test_a_failing_save_is_reported_not_raised(self):
        self.task.update_image({'a': 'a1'})
        self.repo.save = mock.Mock(side_effect=RuntimeError('db gone'))
        exc, flow_failures = self.failures()
        self.task.revert(flow_failures=flow_failures)
        self.assertIn("change of 'a' (RuntimeError: db gone)", str(exc))

    def test_copy_properties_skips_what_the_caller_may_not_write(self):
        def refuse(props):
            if 'restricted_x' in props:
                raise exception.ReservedProperty(property='restricted_x')

        wrapper = mock.MagicMock(wraps=self.plugin.action_wrapper)
        real_enter = self.plugin.action_wrapper.__enter__

        def enter():
            action = real_enter()
            original = action.set_image_extra_properties

            def checked(props):
                refuse(props)
                return original(props)
            action.set_image_extra_properties = checked
            return action
        wrapper.__enter__.side_effect = enter
        wrapper.__exit__.side_effect = self.plugin.action_wrapper.__exit__
        self.plugin.action_wrapper = wrapper
        refused = self.task.copy_properties({'hw_a': '1',
                                             'restricted_x': '2'})
        self.assertEqual({'restricted_x':
                          'not allowed by property protections'}, refused)
        self.assertEqual('1', self.repo.properties['hw_a'])
        self.assertNotIn('restricted_x', self.repo.properties)


class TestRecordsThroughTheLibraryDoor(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(group='glance_import_ext', record_key='k1')
        self.repo = fakes.FakeImageRepo(fakes.make_image())
        self.plugin = fakes.make_plugin(self.repo)
        self.task = Copies(self.plugin)

    def test_records_are_sealed_and_revert_removes_seal(self):
        self.task.update_image({'import_ext_x': '1', 'user_key': 'u'})
        props = self.repo.properties
        self.assertEqual(records.VALID, records.check(
            fakes.IMAGE_ID, props, Keyed('k1'))[0])
        self.task.revert()
        self.assertEqual({}, self.repo.properties)

    def test_guard_removes_presets_and_revert_restores_them(self):
        self.repo.change_behind_our_back(import_ext_plugins='forged',
                                         import_ext_seal='v1:00')
        guard = guards.guard_for(self.plugin)
        guard.execute(file_path='file:///nonexistent')
        self.assertEqual({}, self.repo.properties)
        guard.revert()
        self.assertEqual('forged',
                         self.repo.properties['import_ext_plugins'])
        self.assertEqual('v1:00', self.repo.properties['import_ext_seal'])


class TestFailClosed(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.repo = fakes.FakeImageRepo(fakes.make_image(status='uploading'))

    def test_any_error_while_building_becomes_a_failing_task(self):
        def broken(p):
            raise KeyError('surprise')
        flow = plugin.build_flow(fakes.PLUGIN_NAME,
                                 fakes.plugin_kwargs(self.repo), broken)
        guard, refuse = [n for n, _ in flow.iter_nodes()]
        self.assertIsInstance(guard, guards.RestoreStagedStatus)
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertIn('could not prepare its check (KeyError', str(exc))

    def test_unreadable_image_still_gives_a_guard(self):
        self.repo.get = mock.Mock(side_effect=RuntimeError('db down'))
        flow = plugin.build_flow(fakes.PLUGIN_NAME,
                                 fakes.plugin_kwargs(self.repo),
                                 lambda p: [p.image()])
        guard, refuse = [n for n, _ in flow.iter_nodes()]
        self.assertIsInstance(guard, guards.RestoreStagedStatus)
        exc = self.assertRaises(errors.ImportFailed, refuse.execute)
        self.assertIn('RuntimeError: db down', str(exc))

    def test_missing_keyword_arguments_do_not_escape(self):
        flow = plugin.build_flow(fakes.PLUGIN_NAME, {}, lambda p: [])
        tasks = [n for n, _ in flow.iter_nodes()]
        self.assertIsInstance(tasks[-1], plugin.RefuseToRun)
        self.assertIn('image_id', tasks[-1].reason)

    def test_the_import_is_watched_once(self):
        kwargs = fakes.plugin_kwargs(self.repo)
        flows = [plugin.build_flow(name, kwargs, lambda p: [])
                 for name in ('one', 'two')]
        self.assertEqual(2, len(flows))
        self.assertEqual(1, self.watch.call_count)
        facts = self.watch.call_args[1]['facts']
        self.assertEqual('glance-direct', facts['method'])

    def test_stage_record_removed_after_a_successful_import_only(self):
        staging_dir = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'staging_dir', return_value=staging_dir))
        plugin.build_flow('one', fakes.plugin_kwargs(self.repo),
                          lambda p: [])
        [(task_id, remover), kwargs] = self.when_done.call_args
        staged = os.path.join(staging_dir, fakes.IMAGE_ID)
        record = stage_record.path_of(staged)
        for status, left in (('failure', True), (None, True),
                             ('success', False)):
            with open(record, 'w') as f:
                f.write('{}')
            remover(status)
            self.assertEqual(left, os.path.exists(record), status)
        remover('success')   # nothing there: nothing to do


class FakeDB:

    def __init__(self, status='processing'):
        self.status = status
        self.updates = []

    def task_get(self, context, task_id):
        if self.status is None:
            raise exception.NotFound()
        return {'status': self.status}

    def task_update(self, context, task_id, values):
        self.updates.append((task_id, values))

    # The seam's batch verbs the keepalive uses (glance_internals.db).
    def task_statuses(self, task_ids):
        return {} if self.status is None else {
            task_id: self.status for task_id in task_ids}

    def touch_tasks(self, task_ids):
        self.updates.extend((task_id, {}) for task_id in task_ids)


class TestKeepalive(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.db = FakeDB()
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'db_api', return_value=self.db))
        for verb in ('task_statuses', 'touch_tasks'):
            self.useFixture(fixtures.MockPatchObject(
                glance_internals, verb,
                side_effect=lambda *a, verb=verb: getattr(self.db, verb)(*a)))
        self.keepalive = keepalive.TaskKeepalive(interval=5)
        # No thread in unit tests: tick() by hand.
        self.useFixture(fixtures.MockPatch('threading.Thread'))

    def test_watch_saves_facts_once(self):
        self.keepalive.watch('ctx', 't1', facts={'worker': 'w'})
        self.keepalive.watch('ctx', 't1', facts={'worker': 'w'})
        self.assertEqual([('t1', {'result': {'import_ext': {'worker': 'w'}}})],
                         self.db.updates)

    def test_tick_touches_only_updated_at_while_processing(self):
        self.keepalive.watch('ctx', 't1')
        self.assertTrue(self.keepalive.tick())
        self.assertEqual([('t1', {})], self.db.updates)
        self.db.status = 'success'
        self.assertFalse(self.keepalive.tick())
        self.assertEqual([], self.keepalive.watching())

    def test_gone_task_is_dropped_and_errors_are_retried(self):
        self.keepalive.watch('ctx', 't1')
        self.db.task_statuses = mock.Mock(side_effect=RuntimeError('db'))
        self.assertTrue(self.keepalive.tick())
        self.db.task_statuses = FakeDB(None).task_statuses
        self.assertFalse(self.keepalive.tick())

    def test_staleness(self):
        now = datetime.datetime(2026, 1, 1, 12, 0, 0)
        fresh = now - datetime.timedelta(seconds=20)
        old = now - datetime.timedelta(seconds=keepalive.stale_after(5) + 1)
        self.assertFalse(keepalive.is_stale('processing', fresh, now, 5))
        self.assertTrue(keepalive.is_stale('processing', old, now, 5))
        self.assertFalse(keepalive.is_stale('success', old, now, 5))
