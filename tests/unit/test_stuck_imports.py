"""glance-import-ext-stuck-imports: list and clean stuck imports."""

import io

import fixtures
import testtools

from glance_import_ext.cmd import stuck_imports
from glance_import_ext.common import workers

DEAD = 'http://glance-a.example.com:9292'
ALIVE = 'http://glance-b.example.com:9292'
STAGE_HOST = workers.STAGE_HOST
STAGED_ON = stuck_imports.STAGED_ON
LOCK = stuck_imports.LOCK
IMPORTING_TO = 'os_glance_importing_to_stores'
CONTEXT = object()


def image_id(n):
    return '%08d-0000-0000-0000-000000000000' % n


class FakeDbApi:
    """The part of Glance's db api the command uses; records changes."""

    def __init__(self):
        self.images = {}  # id -> {'id', 'status', 'properties': [...]}
        self.queries = []
        self.updates = []
        self.destroyed = []

    def add(self, n, status, deleted=(), **properties):
        props = [{'name': k, 'value': v, 'deleted': False}
                 for k, v in properties.items()]
        props += [{'name': k, 'value': 'old', 'deleted': True}
                  for k in deleted]
        self.images[image_id(n)] = {'id': image_id(n), 'status': status,
                                    'properties': props}
        return image_id(n)

    def image_get_all(self, context, filters=None):
        assert context is CONTEXT
        self.queries.append(filters)
        return [dict(image) for image in self.images.values()
                if image['status'] == filters['status']]

    def image_update(self, context, image_id, values, purge_props=False,
                     from_state=None):
        assert context is CONTEXT
        self.updates.append((image_id, values, purge_props, from_state))

    def image_destroy(self, context, image_id):
        assert context is CONTEXT
        self.destroyed.append(image_id)


class StuckImportsTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.db = FakeDbApi()
        self.alive = {ALIVE}
        self.answers = self.useFixture(fixtures.MockPatchObject(
            workers, 'answers', side_effect=self.worker_answers)).mock
        self.out = io.StringIO()

    def worker_answers(self, url, timeout=None):
        return url.rstrip('/') in self.alive

    def lines(self):
        return self.out.getvalue().splitlines()


class TestStuckImages(StuckImportsTestBase):

    def test_asks_for_uploading_then_importing(self):
        self.assertEqual([], stuck_imports.stuck_images(self.db, CONTEXT))
        self.assertEqual([{'status': 'uploading'}, {'status': 'importing'}],
                         self.db.queries)

    def test_stage_host_preferred_over_staged_on(self):
        self.db.add(1, 'importing', **{STAGE_HOST: DEAD, STAGED_ON: ALIVE})
        [(_, _, worker, _)] = stuck_imports.stuck_images(self.db, CONTEXT)
        self.assertEqual(DEAD, worker)

    def test_deleted_properties_are_ignored(self):
        self.db.add(1, 'uploading', deleted=[STAGE_HOST], name='x')
        [(found, status, worker, props)] = stuck_imports.stuck_images(
            self.db, CONTEXT)
        self.assertEqual((image_id(1), 'uploading', None, {'name': 'x'}),
                         (found, status, worker, props))


class TestList(StuckImportsTestBase):

    def list(self):
        self.assertEqual(0, stuck_imports.list_stuck(self.db, CONTEXT,
                                                     self.out))
        header, *rows = self.lines()
        self.assertEqual(['image', 'status', 'answers', 'staging', 'worker'],
                         header.split())
        return [row.split() for row in rows]

    def test_nothing_stuck(self):
        self.db.add(1, 'active', **{STAGE_HOST: DEAD})
        self.db.add(2, 'queued')
        self.assertEqual([], self.list())
        self.answers.assert_not_called()

    def test_one_row_per_stuck_image(self):
        self.db.add(1, 'uploading', **{STAGE_HOST: DEAD})
        self.db.add(2, 'uploading', **{STAGE_HOST: ALIVE})
        self.db.add(3, 'importing', **{STAGED_ON: DEAD, 'name': 'x'})
        self.db.add(4, 'importing', name='x')
        self.db.add(5, 'active', **{STAGED_ON: DEAD})
        self.assertEqual([
            [image_id(1), 'uploading', 'NO', DEAD],
            [image_id(2), 'uploading', 'yes', ALIVE],
            [image_id(3), 'importing', 'NO', DEAD],
            [image_id(4), 'importing', 'unknown', '(not', 'recorded)'],
        ], self.list())

    def test_staged_on_used_when_stage_host_is_deleted(self):
        self.db.add(1, 'importing', deleted=[STAGE_HOST],
                    **{STAGED_ON: ALIVE})
        self.assertEqual([[image_id(1), 'importing', 'yes', ALIVE]],
                         self.list())

    # One probe per worker, however many images it holds.
    def test_each_worker_probed_once(self):
        for n in range(1, 4):
            self.db.add(n, 'uploading', **{STAGE_HOST: DEAD})
        self.db.add(4, 'uploading')
        self.list()
        self.answers.assert_called_once_with(DEAD)


class TestClean(StuckImportsTestBase):

    def setUp(self):
        super().setUp()
        self.uploading = self.db.add(1, 'uploading', **{
            STAGE_HOST: DEAD, LOCK: 'task-1', 'name': 'cirros',
            'hw_disk_bus': 'virtio'})
        self.importing = self.db.add(2, 'importing', **{
            STAGED_ON: DEAD + '/', LOCK: 'task-2', IMPORTING_TO: 'ceph',
            STAGED_ON + '_x': 'kept', 'import_ext_imported_on': DEAD})
        self.elsewhere = self.db.add(3, 'uploading', **{STAGE_HOST: ALIVE})
        self.unknown = self.db.add(4, 'importing', name='x')
        self.active = self.db.add(5, 'active', **{STAGED_ON: DEAD})

    def clean(self, worker=DEAD, apply=False, action='reset'):
        return stuck_imports.clean(self.db, CONTEXT, worker, apply, action,
                                   self.out)

    def assertNothingChanged(self):
        self.assertEqual([], self.db.updates)
        self.assertEqual([], self.db.destroyed)

    def test_refuses_while_the_worker_answers(self):
        self.alive.add(DEAD)
        for action in ('reset', 'delete'):
            self.assertEqual(1, self.clean(apply=True, action=action))
        self.assertNothingChanged()
        self.assertIn('Refusing', self.out.getvalue())
        self.assertIn(DEAD, self.out.getvalue())
        self.assertEqual([], self.db.queries)

    def test_probes_the_named_worker_without_slash(self):
        self.clean(worker=DEAD + '/')
        self.answers.assert_called_once_with(DEAD)

    def test_dry_run_changes_nothing(self):
        self.assertEqual(0, self.clean())
        self.assertNothingChanged()
        self.assertEqual([
            'would reset image %s (uploading, staged on %s)' % (
                self.uploading, DEAD),
            'would reset image %s (importing, staged on %s)' % (
                self.importing, DEAD),
            'Dry run: nothing changed. Add --apply to reset 2 image(s).',
        ], self.lines())

    def test_dry_run_delete(self):
        self.assertEqual(0, self.clean(action='delete'))
        self.assertNothingChanged()
        self.assertIn('would delete image %s' % self.uploading,
                      self.out.getvalue())
        self.assertIn('Dry run: nothing changed', self.out.getvalue())

    def test_reset_back_to_queued_without_stale_records(self):
        self.assertEqual(0, self.clean(apply=True))
        self.assertEqual([
            (self.uploading,
             {'status': 'queued', 'size': None,
              'properties': {'name': 'cirros', 'hw_disk_bus': 'virtio'}},
             True, 'uploading'),
            (self.importing,
             {'status': 'queued', 'size': None,
              'properties': {STAGED_ON: DEAD + '/',
                             STAGED_ON + '_x': 'kept',
                             'import_ext_imported_on': DEAD}},
             True, 'importing'),
        ], self.db.updates)
        self.assertEqual([], self.db.destroyed)
        self.assertEqual([
            'reset image %s (uploading, staged on %s)' % (
                self.uploading, DEAD),
            'reset image %s (importing, staged on %s)' % (
                self.importing, DEAD),
        ], self.lines())

    def test_reset_leaves_out_deleted_properties(self):
        self.db.images.clear()
        only = self.db.add(7, 'uploading', deleted=['gone'],
                           **{STAGE_HOST: DEAD})
        self.clean(apply=True)
        self.assertEqual(
            [(only, {'status': 'queued', 'size': None, 'properties': {}},
              True, 'uploading')], self.db.updates)

    def test_delete_marks_deleted_then_destroys(self):
        calls = []
        self.db.image_update = lambda *a, **kw: calls.append(
            ('update', a, kw))
        self.db.image_destroy = lambda *a: calls.append(('destroy', a))
        self.assertEqual(0, self.clean(apply=True, action='delete'))
        self.assertEqual([
            ('update', (CONTEXT, self.uploading, {'status': 'deleted'}),
             {'from_state': 'uploading'}),
            ('destroy', (CONTEXT, self.uploading)),
            ('update', (CONTEXT, self.importing, {'status': 'deleted'}),
             {'from_state': 'importing'}),
            ('destroy', (CONTEXT, self.importing)),
        ], calls)
        self.assertIn('delete image %s (uploading, staged on %s)' % (
            self.uploading, DEAD), self.lines())

    def test_only_images_of_that_worker(self):
        self.alive = set()
        self.clean(worker=ALIVE, apply=True)
        self.assertEqual([self.elsewhere],
                         [update[0] for update in self.db.updates])

    def test_trailing_slash_in_worker_is_ignored(self):
        self.clean(worker=DEAD + '/', apply=True, action='delete')
        self.assertEqual([self.uploading, self.importing],
                         self.db.destroyed)

    def test_no_matching_image(self):
        other = 'http://glance-c.example.com:9292'
        self.assertEqual(0, self.clean(worker=other, apply=True))
        self.assertNothingChanged()
        self.assertEqual(['No stuck image is staged on %s.' % other],
                         self.lines())

    def test_no_matching_image_dry_run(self):
        self.db.images.clear()
        self.assertEqual(0, self.clean())
        self.assertIn('No stuck image', self.out.getvalue())
        self.assertNotIn('Dry run', self.out.getvalue())
