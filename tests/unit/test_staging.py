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

"""StagedData: read-only access to the staged file."""

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
