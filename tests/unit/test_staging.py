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

"""StagedData, and the Snapshot of the staged file the guard compares."""

import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.common import options
from glance_import_ext.common import staging


class TestStagedData(testtools.TestCase):

    def staged(self, data):
        path = self.useFixture(fixtures.TempDir()).join('image')
        with open(path, 'wb') as f:
            f.write(data)
        return staging.StagedData('file://' + path)

    def test_rejects_uris_that_are_not_local_files(self):
        for uri in (None, '', '/var/lib/glance/staging/x',
                    'http://example.com/x', 'rbd://pool/image'):
            self.assertRaises(ValueError, staging.StagedData, uri)

    def test_path_is_the_uri_without_scheme(self):
        data = staging.StagedData('file:///var/lib/glance/staging/abc')
        self.assertEqual('/var/lib/glance/staging/abc', data.path)

    def test_exists_and_size(self):
        data = self.staged(b'12345')
        self.assertTrue(data.exists())
        self.assertEqual(5, data.size())

    def test_missing_file_does_not_exist(self):
        self.assertFalse(staging.StagedData('file:///nonexistent/x').exists())

    def test_chunks_of_given_size(self):
        self.assertEqual([b'abc', b'def', b'gh'],
                         list(self.staged(b'abcdefgh').chunks(3)))

    def test_chunks_of_exact_multiple(self):
        self.assertEqual([b'ab', b'cd'],
                         list(self.staged(b'abcd').chunks(2)))

    def test_empty_file_has_no_chunks(self):
        self.assertEqual([], list(self.staged(b'').chunks(4)))

    def test_default_chunk_size_comes_from_options(self):
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(group=options.GROUP, read_chunk_size=64 * 1024)
        chunks = list(self.staged(b'x' * (64 * 1024 + 1)).chunks())
        self.assertEqual([64 * 1024, 1], [len(c) for c in chunks])


class TestSnapshot(testtools.TestCase):
    """What the failure guard knows of the staged file (guards)."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir())
        self.path = self.dir.join('image')
        self.write(self.path, b'compressed bytes')

    def write(self, path, data):
        with open(path, 'wb') as f:
            f.write(data)

    def test_untouched_file_is_intact(self):
        snapshot = staging.Snapshot(self.path)
        self.assertTrue(snapshot.known)
        self.assertEqual(staging.Snapshot.INTACT, snapshot.state())

    def test_file_replaced_as_image_decompression_does(self):
        snapshot = staging.Snapshot(self.path)
        self.write(self.path + '.uc', b'decompressed bytes, more of them')
        os.replace(self.path + '.uc', self.path)
        self.assertEqual(staging.Snapshot.REPLACED, snapshot.state())

    def test_rewritten_in_place_with_same_size(self):
        snapshot = staging.Snapshot(self.path)
        self.write(self.path, b'tampered  bytes!')
        st = os.stat(self.path)
        os.utime(self.path, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))
        self.assertEqual(staging.Snapshot.REPLACED, snapshot.state())

    def test_removed_file_is_gone(self):
        snapshot = staging.Snapshot(self.path)
        os.remove(self.path)
        self.assertEqual(staging.Snapshot.GONE, snapshot.state())

    def test_file_that_appeared_later_is_not_vouched_for(self):
        os.remove(self.path)
        snapshot = staging.Snapshot(self.path)
        self.write(self.path, b'new')
        self.assertEqual(staging.Snapshot.REPLACED, snapshot.state())

    def test_directory_at_the_path_is_not_the_file(self):
        snapshot = staging.Snapshot(self.path)
        os.remove(self.path)
        os.mkdir(self.path)
        self.assertEqual(staging.Snapshot.REPLACED, snapshot.state())
        self.assertFalse(snapshot.remove())

    def test_remove(self):
        snapshot = staging.Snapshot(self.path)
        self.assertTrue(snapshot.remove())
        self.assertFalse(os.path.exists(self.path))
        self.assertTrue(snapshot.remove())  # already gone: fine

    def test_unknown_path_records_nothing(self):
        snapshot = staging.Snapshot(None)
        self.assertFalse(snapshot.known)
        self.assertIsNone(snapshot.identity)


class TestStagedPath(testtools.TestCase):

    def staged_path(self, backends=None, datadir=None, node_uri=None):
        conf = cfg.ConfigOpts()
        fixture = self.useFixture(config_fixture.Config(conf))
        conf.register_opts([cfg.DictOpt('enabled_backends'),
                            cfg.StrOpt('node_staging_uri')])
        conf.register_opts([cfg.StrOpt('filesystem_store_datadir')],
                           group='os_glance_staging_store')
        fixture.config(enabled_backends=backends, node_staging_uri=node_uri)
        fixture.config(filesystem_store_datadir=datadir,
                       group='os_glance_staging_store')
        return staging.staged_path('abc', conf)

    def test_node_staging_uri(self):
        for uri in ('file:///var/lib/glance/staging/',
                    'file:///var/lib/glance/staging'):
            self.assertEqual('/var/lib/glance/staging/abc',
                             self.staged_path(node_uri=uri))

    def test_staging_store_with_enabled_backends(self):
        self.assertEqual('/srv/staging/abc', self.staged_path(
            {'local': 'file'}, '/srv/staging', 'file:///other'))

    def test_no_local_staging(self):
        self.assertIsNone(self.staged_path(node_uri='http://example.com/x'))
