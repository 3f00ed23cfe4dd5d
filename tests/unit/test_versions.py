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

"""Image versions: lineages, the rotation, the plugin."""

import contextlib
import datetime
import json
import unicodedata
from unittest import mock

import fixtures
from glance.common import exception
from glance import domain
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.common import errors
from glance_import_ext.common import keepalive
from glance_import_ext.common import records
from glance_import_ext import glance_internals
from glance_import_ext.plugins import image_versions
from glance_import_ext.plugins.image_versions import rotation
from tests.unit import fakes

OWNER, OTHER = 'project-a', 'project-b'
NAME = image_versions.NAME
T0 = datetime.datetime(2026, 1, 1)
NOW = datetime.datetime(2026, 2, 1, 12, 0, 0)
V = rotation


def uid(n):
    return '00000000-0000-0000-0000-%012d' % n


def make(image_id, age=0, name='img', owner=OWNER, status='active',
         visibility='private', hidden=False, props=None):
    """A Glance domain image created ``age`` days after T0."""
    when = T0 + datetime.timedelta(days=age)
    return domain.Image(image_id, status, when, when, name=name, owner=owner,
                        visibility=visibility, os_hidden=hidden,
                        extra_properties=dict(props or {}),
                        disk_format='raw', container_format='bare')


def copy(image, **changes):
    """A detached copy of ``image`` (status set without the state machine)."""
    fields = dict(status=image.status, name=image.name, owner=image.owner,
                  visibility=image.visibility, hidden=image.os_hidden,
                  props=dict(image.extra_properties))
    fields.update(changes)
    new = make(image.image_id, **fields)
    new.created_at = new.updated_at = image.created_at
    return new


def pending(lineage='{"name":"img"}', task='dead-task', **extra):
    return dict({V.STATE: V.PENDING, V.LINEAGE: lineage, V.TASK: task},
                **extra)


class FakeRepo:
    """Images of several owners; what Glance's ImageRepo offers."""

    def __init__(self, *images):
        self.images = {i.image_id: i for i in images}

    def add(self, *images):
        self.images.update((i.image_id, i) for i in images)

    def get(self, image_id):
        if image_id not in self.images:
            raise exception.ImageNotFound()
        return copy(self.images[image_id])

    def list(self, filters=None):
        f = dict(filters or {})
        out = []
        for image in self.images.values():
            props = dict(image.extra_properties)
            if any(k in f and getattr(image, k) != f[k]
                   for k in ('owner', 'name', 'status')):
                continue
            if f.get('deleted') is False and image.status == 'deleted':
                continue
            if any(props.get(k) != v
                   for k, v in f.get('properties', {}).items()):
                continue
            out.append(copy(image))
        return out

    def save(self, image, from_state=None):
        self.images[image.image_id] = copy(image)

    def props(self, image_id):
        return dict(self.images[image_id].extra_properties)


def collated(value):
    # Looser than MariaDB's default collation (case, trailing blanks) on
    # purpose: Unicode forms too, so the library must not rely on any.
    if not isinstance(value, str):
        return value
    return unicodedata.normalize('NFKC', value).rstrip(' ').casefold()


class CollatingRepo(FakeRepo):
    """A FakeRepo whose filters compare as a case-insensitive database."""

    def get(self, image_id):
        for known in self.images:
            if collated(known) == collated(image_id):
                return copy(self.images[known])
        raise exception.ImageNotFound()

    def list(self, filters=None):
        f = dict(filters or {})
        wanted = {collated(k): collated(v)
                  for k, v in f.pop('properties', {}).items()}
        out = []
        for image in super().list(filters={'deleted': f.get('deleted')}):
            props = {collated(k): collated(v)
                     for k, v in dict(image.extra_properties).items()}
            if any(k in f and collated(getattr(image, k)) != collated(f[k])
                   for k in ('owner', 'name', 'status')):
                continue
            if any(props.get(k) != v for k, v in wanted.items()):
                continue
            out.append(image)
        return out


class FakeDB:
    """Glance's DB API over a FakeRepo's images."""

    def __init__(self, repo):
        self.repo = repo
        self.updates = []
        self.tasks = {}

    def image_get(self, context, image_id):
        if image_id not in self.repo.images:
            raise exception.ImageNotFound()
        image = self.repo.images[image_id]
        return {'id': image_id, 'status': image.status,
                'properties': [{'name': k, 'value': v, 'deleted': False}
                               for k, v in dict(
                                   image.extra_properties).items()]}

    def image_update(self, context, image_id, values, purge_props=False,
                     from_state=None):
        self.updates.append((image_id, json.loads(json.dumps(values)),
                             purge_props, from_state))
        image = self.repo.images[image_id]
        if from_state is not None and image.status != from_state:
            raise exception.Conflict()
        props = dict(image.extra_properties, **values.get('properties', {}))
        self.repo.images[image_id] = copy(
            image, props=props, status=values.get('status', image.status),
            hidden=values.get('os_hidden', image.os_hidden))

    def task_get(self, context, task_id):
        if task_id not in self.tasks:
            raise exception.NotFound()
        return dict(self.tasks[task_id])

    def task(self, task_id, status='processing', age=10, result=None):
        self.tasks[task_id] = {
            'status': status, 'result': result,
            'updated_at': NOW - datetime.timedelta(seconds=age)}


class VersionsCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.repo = FakeRepo()
        self.db = FakeDB(self.repo)
        self.anchors = self.useFixture(fakes.FakeAnchors())
        for name, value in (('db_api', lambda: self.db),
                            ('image_repo', lambda context: self.repo)):
            self.useFixture(fixtures.MockPatchObject(
                glance_internals, name, side_effect=value))
        self.policy = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'check_image_policy', return_value=True)).mock
        self.lock = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'named_lock',
            side_effect=lambda name, timeout: contextlib.nullcontext())).mock
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'database_lock_kind', return_value='mysql'))
        # The caller an anchor records, as the context it stands for.
        self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'caller_context',
            side_effect=lambda facts: 'as:' + facts['user_id']))

    def anchor(self, *image_ids):
        """Anchor the images' records as the plugins wrote them.

        Each by the user 'u<id>' of the owner's project.
        """
        for image_id in image_ids:
            self.anchors.rows[image_id] = {
                'sealed': records.fingerprint(image_id,
                                              self.repo.props(image_id)),
                'writing': None,
                'caller': {'user_id': 'u' + image_id,
                           'project_id': OWNER}}

    def refuse(self, *image_ids, error=None):
        # Glance's ImageAPIPolicy.check answers False; some raise.
        def check(context, image, rule):
            if image.image_id in image_ids and error:
                raise error
            return image.image_id not in image_ids
        self.policy.side_effect = check

    def plan(self, new, keep=0, lineage=None, **kwargs):
        lineage = lineage or V.Lineage(OWNER, {'name': 'img'})
        return V.Rotation('ctx', self.repo.get(new), lineage, keep, NOW,
                          **kwargs).plan(self.repo)

    def changes(self, rotation):
        return [(c.image_id, c.records, c.hide, c.deactivate)
                for c in rotation.changes]


class TestLineage(VersionsCase):

    def test_name_rule(self):
        lineage = V.Lineage.of_image(make(uid(1), name='ubuntu'), 'name', [])
        self.assertEqual((OWNER, {'name': 'ubuntu'}),
                         (lineage.owner, lineage.key))
        self.assertIsNone(V.Lineage.of_image(make(uid(1), name=''), 'name',
                                             []))
        self.assertIsNone(V.Lineage.of_image(make(uid(1), name=None), 'name',
                                             []))

    def test_properties_rule(self):
        keys = ['os_distro', 'os_version', 'architecture']
        full = {'os_distro': 'ubuntu', 'os_version': '24.04',
                'architecture': 'x86_64'}
        lineage = V.Lineage.of_image(make(uid(1), props=full), 'properties',
                                     keys)
        self.assertEqual(full, lineage.key)
        self.assertIsNone(V.Lineage.of_image(
            make(uid(1), props={'os_version': ''}), 'properties', keys))
        exc = self.assertRaises(
            V.VersionError, V.Lineage.of_image,
            make(uid(1), props={'os_distro': 'ubuntu', 'os_version': ''}),
            'properties', keys)
        self.assertIn('has os_distro but not architecture, os_version',
                      str(exc))
        self.assertIn('replaces=<id>', str(exc))

    def test_replaces_wins_over_the_rules(self):
        image = make(uid(1), props={'replaces': uid(2).upper(),
                                    'os_distro': 'ubuntu'})
        for rule, keys in (('name', []), ('properties', ['os_distro', 'x'])):
            lineage = V.Lineage.of_image(image, rule, keys)
            self.assertEqual({'replaces': uid(2)}, lineage.key)

    def test_bad_replaces(self):
        exc = self.assertRaises(V.VersionError, V.Lineage.of_image,
                                make(uid(1), props={'replaces': 'nope'}),
                                'name', [])
        self.assertIn("replaces='nope' is not an image id", str(exc))
        exc = self.assertRaises(V.VersionError, V.Lineage.of_image,
                                make(uid(1), props={'replaces': uid(1)}),
                                'name', [])
        self.assertIn('names the image itself', str(exc))

    def test_record_is_stable_and_round_trips(self):
        one = V.Lineage(OWNER, {'os_version': '24.04', 'os_distro': 'u'})
        two = V.Lineage(OWNER, {'os_distro': 'u', 'os_version': '24.04'})
        self.assertEqual('{"os_distro":"u","os_version":"24.04"}', one.record)
        self.assertEqual(one.record, two.record)
        back = V.Lineage.of_record(OWNER, one.record)
        self.assertEqual((OWNER, one.key), (back.owner, back.key))
        self.assertEqual('os_distro=\'u\', os_version=\'24.04\'',
                         one.describe())

    def test_unreadable_records(self):
        for text in (None, '', 'x', '[]', '{}', '{"a": 1}', '"s"'):
            self.assertRaises(V.VersionError, V.Lineage.of_record, OWNER,
                              text)

    def test_lock_name(self):
        key = {'name': 'n' * 10000}
        mine, theirs = V.Lineage(OWNER, key), V.Lineage(OTHER, key)
        self.assertLessEqual(len(mine.lock_name), 64)
        self.assertNotEqual(mine.lock_name, theirs.lock_name)
        self.assertEqual(mine.lock_name, V.Lineage(OWNER, key).lock_name)

    def test_members_of_a_name_lineage_are_the_owners_only(self):
        self.repo.add(make(uid(1)), make(uid(2), status='deactivated'),
                      make(uid(3), owner=OTHER), make(uid(4), name='else'))
        members = V.Lineage(OWNER, {'name': 'img'}).members(self.repo)
        self.assertEqual([uid(1), uid(2)],
                         sorted(m.image_id for m in members))

    def test_members_of_a_properties_lineage(self):
        key = {'os_distro': 'u', 'os_version': '1'}
        self.repo.add(make(uid(1), name='a', props=key),
                      make(uid(2), name='b', props=dict(key, os_version='2')),
                      make(uid(3), owner=OTHER, props=key))
        members = V.Lineage(OWNER, key).members(self.repo)
        self.assertEqual([uid(1)], [m.image_id for m in members])

    def test_members_of_a_replaces_lineage(self):
        lineage = V.Lineage(OWNER, {'replaces': uid(1)})
        self.repo.add(make(uid(1), name='named'),
                      make(uid(2), name='x',
                           props={V.LINEAGE: lineage.record}),
                      make(uid(3), props={V.LINEAGE: '{"name":"img"}'}),
                      make(uid(4), owner=OTHER,
                           props={V.LINEAGE: lineage.record}))
        self.assertEqual([uid(1), uid(2)], sorted(
            m.image_id for m in lineage.members(self.repo)))

    def test_another_owners_named_image_is_no_member(self):
        self.repo.add(make(uid(1), owner=OTHER))
        lineage = V.Lineage(OWNER, {'replaces': uid(1)})
        self.assertEqual([], lineage.members(self.repo))
        self.assertEqual([], V.Lineage(OWNER, {'replaces': uid(9)})
                         .members(self.repo))


class TestExactLineage(VersionsCase):
    """The database narrows the search; Python's str == decides."""

    def setUp(self):
        super().setUp()
        self.repo = CollatingRepo()
        self.db = FakeDB(self.repo)

    def ids(self, lineage):
        return sorted(m.image_id for m in lineage.members(self.repo))

    def test_name_differing_in_case_or_trailing_blank_is_another(self):
        self.repo.add(make(uid(1), name='Rt-Web_x'),
                      make(uid(2), name='RT-WEB_X'),
                      make(uid(3), name='rt-web_x'),
                      make(uid(4), name='Rt-Web_x '),
                      make(uid(5), name='Rt-Web_x', owner=OTHER))
        self.assertEqual([uid(1)], self.ids(
            V.Lineage(OWNER, {'name': 'Rt-Web_x'})))
        self.assertEqual([uid(4)], self.ids(
            V.Lineage(OWNER, {'name': 'Rt-Web_x '})))

    def test_unicode_forms_are_not_normalised(self):
        composed, decomposed = 'caf\u00e9', 'cafe\u0301'
        self.repo.add(make(uid(1), name=composed),
                      make(uid(2), name=decomposed))
        self.assertEqual([uid(1)], self.ids(
            V.Lineage(OWNER, {'name': composed})))
        self.assertEqual([uid(2)], self.ids(
            V.Lineage(OWNER, {'name': decomposed})))

    def test_property_values_and_names_are_exact(self):
        key = {'os_distro': 'Ubuntu', 'os_version': '24.04'}
        self.repo.add(
            make(uid(1), props=key),
            make(uid(2), props=dict(key, os_distro='UBUNTU')),
            make(uid(3), props=dict(key, os_version='24.04 ')),
            make(uid(4), props={'OS_DISTRO': 'Ubuntu', 'os_version': '24.04'}))
        self.assertEqual([uid(1)], self.ids(V.Lineage(OWNER, key)))

    def test_replaces_lineage_record_is_exact_the_id_is_a_uuid(self):
        lineage = V.Lineage(OWNER, {'replaces': uid(10)})
        other = lineage.record.replace('replaces', 'REPLACES')
        self.repo.add(
            make(uid(10).upper(), name='named'),
            make(uid(2), props={V.LINEAGE: lineage.record}),
            make(uid(3), props={V.LINEAGE: other}),
            make(uid(4), props={V.LINEAGE: lineage.record + ' '}))
        self.assertEqual([uid(2), uid(10).upper()], self.ids(lineage))

    def test_rotation_hides_only_the_exact_name(self):
        self.repo.add(make(uid(1), name='RT-WEB_X'),
                      make(uid(2), name='rt-web_x'),
                      make(uid(3), name='Rt-Web_x '),
                      make(uid(4), name='Rt-Web_x'))
        self.repo.add(make(uid(9), age=1, name='Rt-Web_x'))
        rotation = self.plan(uid(9), lineage=V.Lineage.of_image(
            self.repo.get(uid(9)), 'name', []))
        self.assertEqual([uid(4)], [c.image_id for c in rotation.changes
                                    if c.hide])


class TestRotationPlan(VersionsCase):

    def test_hides_and_links_every_visible_version(self):
        self.repo.add(make(uid(1), age=1), make(uid(2), age=2),
                      make(uid(5), age=5, props=pending()))
        rotation = self.plan(uid(5))
        superseded = {V.SUPERSEDED_BY: uid(5), V.STATE: V.SUPERSEDED,
                      V.SUPERSEDED_AT: '2026-02-01T12:00:00Z'}
        self.assertEqual(
            [(uid(1), superseded, True, False),
             (uid(2), superseded, True, False),
             (uid(5), {V.STATE: V.CURRENT, V.PREVIOUS: uid(2)}, False,
              False)],
            sorted(self.changes(rotation)[:2]) + self.changes(rotation)[2:])
        self.assertEqual([], rotation.refused)
        self.assertIsNone(rotation.refusal_message())
        self.assertEqual(uid(2), rotation.previous.image_id)
        self.assertEqual(['modify_image'] * 2,
                         [c[0][2] for c in self.policy.call_args_list])

    def test_hidden_deactivated_and_foreign_versions_are_untouched(self):
        self.repo.add(make(uid(1), hidden=True,
                           props={V.SUPERSEDED_BY: uid(2)}),
                      make(uid(2), status='deactivated'),
                      make(uid(3), owner=OTHER),
                      make(uid(5), age=5, props=pending()))
        self.assertEqual([(uid(5), {V.STATE: V.CURRENT}, False, False)],
                         self.changes(self.plan(uid(5))))

    def test_more_widely_visible_version_stays_visible(self):
        self.repo.add(make(uid(1), visibility='public'),
                      make(uid(2), visibility='shared'),
                      make(uid(5), age=5, visibility='shared',
                           props=pending()))
        rotation = self.plan(uid(5))
        self.assertEqual([uid(2), uid(5)],
                         [c.image_id for c in rotation.changes])
        self.assertEqual([uid(1)], [m.image_id for m in rotation.kept])
        self.assertEqual(
            "left visible: %s ('img') is public, this image only shared"
            % uid(1), rotation.changes[-1].records[V.NOTE])

    def test_refused_by_policy(self):
        self.repo.add(make(uid(1)), make(uid(2)),
                      make(uid(5), age=5, props=pending()))
        self.refuse(uid(1))
        rotation = self.plan(uid(5))
        [(refused, why)] = rotation.refused
        self.assertEqual(uid(1), refused.image_id)
        self.assertIn('modify_image', why)
        self.assertEqual([uid(2), uid(5)],
                         [c.image_id for c in rotation.changes])
        message = rotation.refusal_message()
        self.assertIn('replace version %s' % uid(1), message)
        self.assertIn("lineage name='img'", message)
        self.assertIn(why, message)
        self.assertIn('nothing was changed', message)
        self.assertIn('not replaced: %s' % uid(1),
                      rotation.changes[-1].records[V.NOTE])
        for error in (exception.Forbidden(), exception.ImageNotFound()):
            self.refuse(uid(1), uid(2), error=error)
            rotation = self.plan(uid(5))
            self.assertEqual([uid(5)], [c.image_id for c in rotation.changes])
            self.assertIn('(and 1 more)', rotation.refusal_message())

    def test_previous_is_a_replaced_version(self):
        self.repo.add(make(uid(1), age=1), make(uid(2), age=2),
                      make(uid(5), age=5, props=pending()))
        self.refuse(uid(2))
        rotation = self.plan(uid(5))
        self.assertIn('not replaced: %s' % uid(2),
                      rotation.changes[-1].records[V.NOTE])
        self.assertEqual(uid(1), rotation.changes[-1].records[V.PREVIOUS])

    def test_keep_versions_retires_the_older_superseded(self):
        self.repo.add(
            make(uid(1), age=1, hidden=True, props={V.SUPERSEDED_BY: uid(2)}),
            make(uid(2), age=2, hidden=True, props={V.SUPERSEDED_BY: uid(3)}),
            make(uid(3), age=3), make(uid(4), age=4, hidden=True),
            make(uid(5), age=5, props=pending()))
        rotation = self.plan(uid(5), keep=2)
        got = {c[0]: c[1:] for c in self.changes(rotation)}
        self.assertEqual(
            {uid(1): ({V.STATE: V.RETIRED}, False, True),
             uid(2): ({V.STATE: V.RETIRED}, False, True),
             uid(5): ({V.STATE: V.CURRENT, V.PREVIOUS: uid(3)}, False,
                      False)}, {k: v for k, v in got.items() if k != uid(3)})
        self.assertEqual((V.SUPERSEDED, True, False),
                         (got[uid(3)][0][V.STATE],) + got[uid(3)][1:])
        self.assertEqual(uid(5), rotation.changes[-1].image_id)
        self.assertEqual(
            [(uid(3), 'modify_image'), (uid(2), 'deactivate_image'),
             (uid(1), 'deactivate_image')],
            [(c[0][1].image_id, c[0][2]) for c in self.policy.call_args_list])

    def test_versions_created_in_one_second_are_kept_in_lineage_order(self):
        # MySQL keeps created_at to the second: the image ids alone would
        # order these, the newer versions having the smaller ids.
        self.repo.add(
            make(uid(9), hidden=True, props={V.SUPERSEDED_BY: uid(8)}),
            make(uid(8), hidden=True, props={V.SUPERSEDED_BY: uid(7)}),
            make(uid(7)), make(uid(1), props=pending()))
        rotation = self.plan(uid(1), keep=2)
        got = {c[0]: c[1][V.STATE] for c in self.changes(rotation)}
        self.assertEqual({uid(9): V.RETIRED, uid(8): V.RETIRED,
                          uid(7): V.SUPERSEDED, uid(1): V.CURRENT}, got)

    def test_keep_one_retires_the_version_just_hidden(self):
        self.repo.add(make(uid(3), age=3),
                      make(uid(5), age=5, props=pending()))
        rotation = self.plan(uid(5), keep=1)
        self.assertEqual(
            [(uid(3), True, True, V.RETIRED),
             (uid(5), False, False, V.CURRENT)],
            [(c.image_id, c.hide, c.deactivate, c.records[V.STATE])
             for c in rotation.changes])

    def test_every_plan_asks_the_policy(self):
        self.repo.add(make(uid(1)), make(uid(5), age=5, props=pending()))
        self.refuse(uid(1))
        rotation = self.plan(uid(5), keep=1)
        self.assertEqual([uid(1)], [i.image_id for i, _ in rotation.refused])
        self.assertEqual([uid(5)], [c.image_id for c in rotation.changes])

    def test_apply_skips_a_version_changed_meanwhile(self):
        self.repo.add(make(uid(1)), make(uid(2)), make(uid(3)),
                      make(uid(5), age=5, props=pending()))
        rotation = self.plan(uid(5))
        del self.repo.images[uid(2)]
        self.repo.add(make(uid(3), status='deactivated'))
        done = [c.image_id for c in rotation.apply()]
        self.assertIn(uid(1), done)
        self.assertNotIn(uid(2), done)
        self.assertEqual(uid(5), done[-1])
        self.assertEqual(V.CURRENT, self.repo.props(uid(5))[V.STATE])
        self.assertFalse(self.repo.images[uid(3)].os_hidden)


class TestWrite(VersionsCase):

    def setUp(self):
        super().setUp()
        self.repo.add(make(uid(1), props={'os_distro': 'u', V.NS + 'x': 'y'}))

    def write(self, records_set, **kwargs):
        V.write('ctx', V.Change(self.repo.get(uid(1)), records_set,
                                **kwargs))
        [update] = self.db.updates
        return update

    def test_records_only(self):
        self.assertEqual(
            (uid(1), {'properties': {V.STATE: V.CURRENT}}, False, None),
            self.write({V.STATE: V.CURRENT}))
        self.assertEqual({'os_distro': 'u', V.NS + 'x': 'y',
                          V.STATE: V.CURRENT}, self.repo.props(uid(1)))

    def test_hide_and_deactivate_from_the_stored_state(self):
        _, values, purge, from_state = self.write(
            {V.STATE: V.RETIRED}, hide=True, deactivate=True)
        self.assertEqual({'properties': {V.STATE: V.RETIRED},
                          'os_hidden': True, 'status': 'deactivated'},
                         values)
        self.assertEqual((False, 'active'), (purge, from_state))
        self.assertTrue(self.repo.images[uid(1)].os_hidden)

    def test_seal_covers_every_record(self):
        self.conf.config(group='glance_import_ext', record_key='k')
        props = self.repo.props(uid(1))
        props[records.SEAL] = records.seal(uid(1), props)
        self.repo.add(make(uid(1), props=props))
        self.anchor(uid(1))
        _, values, _, _ = self.write({V.STATE: V.CURRENT})
        self.assertEqual({V.STATE, records.SEAL}, set(values['properties']))
        self.assertEqual(records.VALID, records.verify(
            uid(1), self.repo.props(uid(1)))[0])

    def test_records_the_plugins_did_not_write_are_never_sealed(self):
        # The owner set import_ext_x on an image no import wrote records
        # on; a rotation that hides it does not vouch for them.
        self.conf.config(group='glance_import_ext', record_key='k')
        _, values, _, _ = self.write({V.STATE: V.SUPERSEDED}, hide=True)
        self.assertEqual({V.STATE}, set(values['properties']))
        self.assertNotIn(uid(1), self.anchors.rows)
        self.assertEqual(records.UNSEALED, records.verify(
            uid(1), self.repo.props(uid(1)))[0])

    def test_conflict_when_the_status_changes_during_the_write(self):
        change = V.Change(self.repo.get(uid(1)), {V.STATE: V.SUPERSEDED},
                          hide=True)
        read = self.db.image_get('ctx', uid(1))
        self.repo.add(make(uid(1), status='deactivated'))
        self.db.image_get = mock.Mock(return_value=read)
        self.assertRaises(exception.Conflict, V.write, 'ctx', change)
        self.assertFalse(self.repo.images[uid(1)].os_hidden)


class TestRotate(VersionsCase):

    def rotate(self, image_id=uid(5), **kwargs):
        return V.rotate('ctx', image_id, 0, 30, NOW, **kwargs)

    def test_not_pending_or_not_active(self):
        self.repo.add(make(uid(1)), make(uid(2), age=2, props={
            V.STATE: V.CURRENT}), make(uid(3), age=3, status='importing',
                                       props=pending()))
        self.assertEqual([], self.rotate(uid(2)))
        self.assertEqual([], self.rotate(uid(3)))
        self.assertEqual([], self.db.updates)

    def test_pending_and_active_rotates_under_the_lineage_lock(self):
        self.repo.add(make(uid(1)), make(uid(5), age=5, props=pending()))
        [rotation] = self.rotate()
        self.assertEqual([uid(1), uid(5)], [u[0] for u in self.db.updates])
        self.assertEqual([uid(1), uid(5)], [c.image_id for c in rotation.done])
        self.assertTrue(self.repo.images[uid(1)].os_hidden)
        self.assertEqual(uid(5), self.repo.props(uid(1))[V.SUPERSEDED_BY])
        self.assertEqual((V.CURRENT, uid(1)), (
            self.repo.props(uid(5))[V.STATE],
            self.repo.props(uid(5))[V.PREVIOUS]))
        self.lock.assert_called_once_with(
            V.Lineage(OWNER, {'name': 'img'}).lock_name, 30)
        self.assertEqual([], self.rotate())  # idempotent: no longer pending

    def test_hidden_new_image_replaces_nothing(self):
        self.repo.add(make(uid(1)), make(uid(5), age=5, hidden=True,
                                         props=pending()))
        [rotation] = self.rotate()
        self.assertEqual(
            [(uid(5), {'properties': {
                V.STATE: V.NOT_CURRENT,
                V.NOTE: 'hidden when it became active: replaced nothing'}},
              False, None)], self.db.updates)
        self.assertFalse(self.repo.images[uid(1)].os_hidden)
        self.assertEqual([uid(5)], [c.image_id for c in rotation.done])

    def test_dry_run_changes_nothing(self):
        self.repo.add(make(uid(1)), make(uid(2), age=2, props=pending()),
                      make(uid(5), age=5, props=pending()))
        rotations = self.rotate(apply=False)
        self.assertEqual([uid(5)], [r.image.image_id for r in rotations])
        # uid(2)'s own rotation is pending: the real run does it first.
        self.assertEqual([uid(1), uid(5)],
                         [c.image_id for c in rotations[0].changes])
        self.assertEqual([], rotations[0].done)
        self.assertEqual([], self.db.updates)

    def test_stranded_versions_are_rotated_first(self):
        self.db.task('live-task')
        self.repo.add(make(uid(1), age=1),
                      make(uid(2), age=2, props=pending()),     # task gone
                      make(uid(3), age=3, hidden=True,
                           props=pending(task='live-task')),
                      make(uid(5), age=5, props=pending(task='new-task')))
        self.anchor(uid(2), uid(3), uid(5))
        self.db.task('new-task', status='success')
        rotations = self.rotate()
        self.assertEqual(uid(2), rotations[0].image.image_id)
        # Each rotation acts as its own import's caller.
        self.assertEqual(['as:u' + uid(2), 'ctx'],
                         [r.context for r in rotations])
        self.assertEqual(V.PENDING, self.repo.props(uid(3))[V.STATE])
        self.assertEqual(uid(2), self.repo.props(uid(1))[V.SUPERSEDED_BY])
        self.assertEqual([uid(2), uid(5)],
                         [r.image.image_id for r in rotations])
        self.assertFalse(self.repo.images[uid(5)].os_hidden)
        self.assertEqual(uid(5), self.repo.props(uid(2))[V.SUPERSEDED_BY])
        self.assertTrue(self.repo.images[uid(2)].os_hidden)
        self.assertEqual(uid(5), self.db.updates[-1][0])

    def test_concurrent_imports_end_with_the_one_ended_last(self):
        self.db.task('task-a', status='success')
        self.db.task('task-b')
        self.repo.add(make(uid(1), age=1),
                      make(uid(4), age=4, props=pending(task='task-a')),
                      make(uid(5), age=5, props=pending(task='task-b')))
        self.rotate(uid(4))
        self.db.task('task-b', status='success')
        self.rotate(uid(5))
        visible = [i for i in self.repo.images.values() if not i.os_hidden]
        self.assertEqual(1, len(visible))
        self.assertEqual(uid(5), visible[0].image_id)


class TestStranded(VersionsCase):

    def setUp(self):
        super().setUp()
        self.db.task('alive')
        self.db.task('ended', status='success')
        self.db.task('stale', age=3600)
        self.db.task('short', age=40, result=json.dumps(
            {keepalive.RESULT_KEY: {'interval': 1}}))
        self.repo.add(
            make(uid(1), age=1, props=pending(task='alive')),
            make(uid(2), age=2, props=pending(task='ended')),
            make(uid(3), age=3, props=pending(task='stale')),
            make(uid(4), age=4, props=pending(task='short')),
            make(uid(5), age=5, props=pending(task='gone')),
            make(uid(6), age=6, status='importing', props=pending()),
            make(uid(7), age=7, props={V.STATE: V.CURRENT}),
            make(uid(8), age=8, name='else', props=pending()))
        self.anchor(*(uid(n) for n in range(1, 9)))

    def test_everywhere(self):
        self.assertEqual([uid(2), uid(3), uid(4), uid(5), uid(8)], [
            i.image_id for i in V.stranded('ctx', self.repo, now=NOW)])

    def test_of_a_lineage(self):
        lineage = V.Lineage(OWNER, {'name': 'img'})
        self.assertEqual([uid(2), uid(3), uid(4), uid(5)], [
            i.image_id for i in V.stranded('ctx', self.repo, lineage, NOW)])

    def test_why_a_pending_version_waits(self):
        def why(image_id):
            return V.waits_for_rotation('ctx', self.repo.images[image_id],
                                        NOW)
        self.assertEqual('its import is still running', why(uid(1)))
        for image_id in (uid(2), uid(3), uid(4), uid(5)):
            self.assertIsNone(why(image_id))
        self.assertEqual('no rotation pending', why(uid(6)))
        self.assertEqual('no rotation pending', why(uid(7)))
        self.db.task('failed', status='failure')
        self.repo.add(make(uid(9), age=9, props=pending(task='failed')))
        self.assertEqual('its import failed', why(uid(9)))
        self.repo.add(make(uid(10), age=9, props=pending(task='ended')))
        self.assertIn('its records are not anchored', why(uid(10)))
        self.assertEqual({'interval': 1}, keepalive.task_facts(
            self.db.task_get('ctx', 'short')))
        self.assertIsNone(keepalive.task_facts({'result': 'not json'}))

    def test_forged_intent_is_never_acted_on_with_a_record_key(self):
        self.useFixture(fixtures.MockPatchObject(
            V.records, 'sealing', return_value=True))
        refused = []
        self.assertEqual([], V.stranded('ctx', self.repo, now=NOW,
                                        refused=refused))
        self.assertEqual([uid(2), uid(3), uid(4), uid(5), uid(8)],
                         sorted(i.image_id for i, _ in refused))
        self.assertIn('not as the plugins wrote them (unsealed)',
                      refused[0][1])

    def test_a_stranded_intent_put_back_is_never_acted_on(self):
        # The owner restores a pending intent the plugins sealed once,
        # after its rotation made it current.
        image = self.repo.images[uid(2)]
        self.repo.add(copy(image, props=dict(pending(task='ended'),
                                             **{V.STATE: V.CURRENT})))
        self.anchor(uid(2))
        self.repo.add(image)
        refused = []
        self.assertNotIn(uid(2), [i.image_id for i in V.stranded(
            'ctx', self.repo, now=NOW, refused=refused)])
        self.assertIn((uid(2), 'its records are not as the plugins wrote '
                               'them (forged)'),
                      [(i.image_id, why) for i, why in refused])

    def test_import_caller_from_the_anchor_only(self):
        self.assertEqual('as:u' + uid(2), V.import_caller(uid(2)))
        self.assertIsNone(V.import_caller(uid(9)))
        self.anchors.rows[uid(2)]['caller'] = None
        self.assertIsNone(V.import_caller(uid(2)))


class TestPlugin(fakes.PluginTestCase):

    def setUp(self):
        super().setUp()
        self.repo = FakeRepo(make(uid(1)), make(uid(2), owner=OTHER))
        self.policy = self.useFixture(fixtures.MockPatchObject(
            glance_internals, 'check_image_policy', return_value=True)).mock
        self.when_done = self.useFixture(fixtures.MockPatchObject(
            keepalive.KEEPALIVE, 'when_done')).mock

    def run_intent(self, name='img', **props):
        props[fakes.LOCK_KEY] = fakes.TASK_ID
        self.repo.add(make(fakes.IMAGE_ID, age=5, status='importing',
                           name=name, props=props))
        p = fakes.make_plugin(self.repo, name=NAME)
        return image_versions.RecordIntent(p).execute()

    def records(self):
        return records.records_of(self.repo.props(fakes.IMAGE_ID))

    def assertRefused(self, fragment, **props):
        exc = self.assertRaises(errors.ImportFailed, self.run_intent, **props)
        self.assertTrue(str(exc).startswith(NAME + ': '), exc)
        self.assertIn(fragment, str(exc))
        self.assertEqual({}, self.records())
        self.when_done.assert_not_called()
        return exc

    def load(self, **raw):
        conf = cfg.ConfigOpts()
        conf.register_opts(image_versions.image_versions_opts, group=NAME)
        self.useFixture(config_fixture.Config(conf)).load_raw_values(
            group=NAME, **raw)
        return conf[NAME]

    def test_check_lineage_properties(self):
        image_versions.check_lineage_properties(self.load())
        image_versions.check_lineage_properties(self.load(
            lineage='name', lineage_properties=''))
        image_versions.check_lineage_properties(self.load(
            lineage='properties'))
        for bad, fragment in (('', 'at least one'), ('a,,b', 'no empty'),
                              (',a', 'no empty'),
                              ('a,os_glance_x', 'has os_glance_x'),
                              ('import_ext_x', 'has import_ext_x')):
            exc = self.assertRaises(
                errors.ConfigError, image_versions.check_lineage_properties,
                self.load(lineage='properties', lineage_properties=bad))
            self.assertIn('[image_versions] lineage_properties', str(exc))
            self.assertIn(fragment, str(exc))

    def test_records_the_intent_and_waits_for_the_task(self):
        self.conf.config(group=NAME, rotation_poll_interval=0.5)
        self.run_intent()
        self.assertEqual({V.STATE: V.PENDING, V.LINEAGE: '{"name":"img"}',
                          V.TASK: fakes.TASK_ID}, self.records())
        self.assertFalse(self.repo.images[uid(1)].os_hidden)
        [(args, kwargs)] = self.when_done.call_args_list
        self.assertEqual((fakes.TASK_ID, {'poll': 0.5}),
                         (args[0], kwargs))
        self.assertTrue(callable(args[1]))
        self.policy.assert_called_once_with(None, mock.ANY, 'modify_image')

    def test_image_without_lineage(self):
        self.run_intent(name=None, replaces='')
        self.assertEqual({}, self.records())
        self.when_done.assert_not_called()
        self.policy.assert_not_called()

    def test_replaces_another_projects_image(self):
        exc = self.assertRefused('only images of the same project',
                                 replaces=uid(2))
        self.assertIn('replaces=%s: your project has no such image'
                      % uid(2), str(exc))
        self.assertRefused('your project has no such image',
                           replaces=uid(9))

    def test_bad_lineage_and_policy_refusal(self):
        self.assertRefused('is not an image id', replaces='x')
        self.policy.return_value = False
        exc = self.assertRefused('nothing was changed')
        self.assertIn('replace version %s' % uid(1), str(exc))

    def test_after_import(self):
        rotate = self.useFixture(fixtures.MockPatchObject(
            V, 'rotate')).mock
        self.conf.config(group=NAME, keep_versions=3, lock_timeout=7)
        callback = image_versions._after_import('ctx', uid(5), 't')
        for status in ('failure', None, 'processing'):
            callback(status)
        rotate.assert_not_called()
        callback('success')
        rotate.assert_called_once_with('ctx', uid(5), 3, 7)
        rotate.side_effect = RuntimeError('db')
        callback('success')  # logged, not raised
