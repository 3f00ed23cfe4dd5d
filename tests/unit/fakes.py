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

"""Fakes shared by the unit tests: an image repo, a task repo, a clock.

The images are Glance's real domain ``Image`` objects (with their status
state machine and ``ExtraProperties``), and changes go through Glance's real
``ImportActionWrapper``; only the storage behind the repos is faked.
"""

import datetime

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.async_.flows import api_image_import
from glance.common import exception
from glance import domain

from glance_import_ext.common import import_state
from glance_import_ext.common import keepalive
from glance_import_ext.common import plugin

IMAGE_ID = '11111111-2222-3333-4444-555555555555'
TASK_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
OTHER_TASK_ID = 'ffffffff-0000-0000-0000-000000000000'
TASK_TYPE = 'api_image_import'
PLUGIN_NAME = 'fake_plugin'
LOCK_KEY = 'os_glance_import_task'


def make_image(status='importing', properties=None, lock=TASK_ID, **kwargs):
    """A Glance domain image locked by ``lock`` (no lock if None)."""
    now = datetime.datetime(2024, 1, 1)
    extra = dict(properties or {})
    if lock is not None:
        extra[LOCK_KEY] = lock
    kwargs.setdefault('disk_format', 'raw')
    kwargs.setdefault('container_format', 'bare')
    return domain.Image(IMAGE_ID, status, now, now,
                        extra_properties=extra, **kwargs)


def clone_image(image):
    """A detached copy, as a database read would give.

    copy.deepcopy cannot be used: it copies ExtraProperties through its
    items(), which Glance's ExtraProperties leaves empty.
    """
    return domain.Image(
        image.image_id, image.status, image.created_at, image.updated_at,
        extra_properties=dict(image.extra_properties),
        locations=[dict(loc) for loc in image.locations],
        disk_format=image.disk_format,
        container_format=image.container_format,
        size=image.size, virtual_size=image.virtual_size,
        checksum=image.checksum, os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value, owner=image.owner,
        name=image.name, tags=set(image.tags))


class FakeImageRepo:
    """Holds one image; every get() returns a fresh copy of it."""

    def __init__(self, image):
        self.image = image
        self.saves = []  # the from_state of every save

    def get(self, image_id):
        if self.image is None or image_id != self.image.image_id:
            raise exception.ImageNotFound()
        return clone_image(self.image)

    def save(self, image, from_state=None):
        self.saves.append(from_state)
        self.image = clone_image(image)

    @property
    def properties(self):
        """The stored image's extra properties, without the import lock."""
        props = dict(self.image.extra_properties)
        props.pop(LOCK_KEY, None)
        return props

    def change_behind_our_back(self, **properties):
        """Another actor sets properties on the stored image."""
        self.image.extra_properties.update(properties)

    def steal_lock(self):
        self.change_behind_our_back(**{LOCK_KEY: OTHER_TASK_ID})


class FakeTask:

    def __init__(self, status='processing', message=''):
        self.task_id = TASK_ID
        self.status = status
        self.message = message


class FakeTaskRepo:

    def __init__(self, task=None):
        self.task = task or FakeTask()
        self.saved_messages = []

    def get(self, task_id):
        assert task_id == self.task.task_id, task_id
        return self.task

    def save(self, task):
        self.saved_messages.append(task.message)


class FakeAnchors(fixtures.Fixture):
    """The records' anchors (glance_internals.anchor_*), in memory.

    ``rows``: image id -> {'sealed', 'writing', 'caller'}.
    """

    NAMES = ('anchor_get', 'anchor_begin', 'anchor_confirm', 'anchor_abort',
             'anchored_image_ids')

    def _setUp(self):
        self.rows = {}
        for name in self.NAMES:
            self.useFixture(fixtures.MockPatch(
                'glance_import_ext.glance_internals.' + name,
                getattr(self, name)))

    def anchor_get(self, image_id):
        row = self.rows.get(image_id)
        return dict(row) if row is not None else None

    def anchor_begin(self, image_id, value, caller=None):
        row = self.rows.setdefault(image_id, {'sealed': None,
                                              'writing': None,
                                              'caller': None})
        row['writing'] = value
        if caller is not None:
            row['caller'] = dict(caller)

    def anchor_confirm(self, image_id, value):
        row = self.rows[image_id]
        row['sealed'] = value
        if row['writing'] == value:
            row['writing'] = None

    def anchor_abort(self, image_id, value):
        row = self.rows.get(image_id)
        if row is not None and row['writing'] == value:
            row['writing'] = None

    def anchored_image_ids(self):
        return list(self.rows)


class FakeClock:

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def plugin_kwargs(image_repo, task_repo=None, method='glance-direct',
                  backends=('store1',)):
    """The keyword arguments Glance passes to a plugin's get_flow."""
    return {
        'task_id': TASK_ID,
        'task_type': TASK_TYPE,
        'image_id': IMAGE_ID,
        'import_req': {'method': {'name': method}},
        'action_wrapper': api_image_import.ImportActionWrapper(
            image_repo, IMAGE_ID, TASK_ID),
        'task_repo': task_repo or FakeTaskRepo(),
        'image_repo': image_repo,
        'backend': list(backends),
    }


def make_plugin(image_repo, name=PLUGIN_NAME, same_import_as=None,
                **kwargs):
    """A PluginContext over ``image_repo`` using Glance's real wrapper.

    ``same_import_as``: another plugin's context; this one belongs to the
    same import (Glance's one action wrapper, so one ImportState).
    """
    args = plugin_kwargs(image_repo, **kwargs)
    if same_import_as is not None:
        args['action_wrapper'] = same_import_as.action_wrapper
    context = plugin.PluginContext(name, args)
    context.shared = import_state.of(context.action_wrapper)
    return context


class PluginTestCase(testtools.TestCase):
    """Base for tests that build or run plugin tasks."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.anchors = self.useFixture(FakeAnchors())
        # The library's own door: the same fake storage, no protections.
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin._library_repo',
            side_effect=lambda plugin: plugin.image_repo))
        self.watch = self.useFixture(fixtures.MockPatchObject(
            keepalive.KEEPALIVE, 'watch')).mock
        self.when_done = self.useFixture(fixtures.MockPatchObject(
            keepalive.KEEPALIVE, 'when_done')).mock
