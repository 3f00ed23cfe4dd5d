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

"""check_options: a bad option value becomes a ConfigError naming it."""

import fixtures
from oslo_config import cfg
import testtools

from glance_import_ext.common import errors
from glance_import_ext.common import options

OPTS = [cfg.IntOpt('level', default=3, min=1, max=10),
        cfg.StrOpt('mode', default='fast', choices=['fast', 'slow'])]


class TestCheckOptions(testtools.TestCase):

    def load(self, *lines):
        """A ConfigOpts with OPTS read from a real config file."""
        path = self.useFixture(fixtures.TempDir()).join('import.conf')
        with open(path, 'w') as f:
            f.write('\n'.join(('[fake_plugin]',) + lines) + '\n')
        conf = cfg.ConfigOpts()
        conf.register_opts(OPTS, group='fake_plugin')
        conf(args=[], default_config_files=[path])
        self.addCleanup(conf.reset)
        return conf

    def test_valid_values_pass(self):
        conf = self.load('level = 10', 'mode = slow')
        options.check_options('fake_plugin', OPTS, conf)

    def test_defaults_pass(self):
        options.check_options('fake_plugin', OPTS, self.load())

    def test_out_of_range_value_is_named_with_reason(self):
        conf = self.load('level = 0')
        exc = self.assertRaises(errors.ConfigError, options.check_options,
                                'fake_plugin', OPTS, conf)
        self.assertEqual(
            'option [fake_plugin] level has an invalid value: Should be '
            'greater than or equal to 1; fix it in glance-image-import.conf '
            'and restart glance-api', str(exc))

    def test_wrong_type_is_named(self):
        conf = self.load('level = many')
        exc = self.assertRaises(errors.ConfigError, options.check_options,
                                'fake_plugin', OPTS, conf)
        self.assertIn('option [fake_plugin] level has an invalid value: ',
                      str(exc))
        self.assertNotIn('is not valid', str(exc))

    def test_secret_value_is_never_quoted(self):
        secret = [options.ListOpt('old_keys', secret=True)]
        conf = self.load('old_keys = "s3cret')
        conf.register_opts(secret, group='fake_plugin')
        exc = self.assertRaises(errors.ConfigError, options.check_options,
                                'fake_plugin', secret, conf)
        self.assertIn('option [fake_plugin] old_keys has an invalid value: '
                      '(not shown: secret)', str(exc))
        self.assertNotIn('s3cret', str(exc))

    def test_invalid_choice_is_named(self):
        conf = self.load('mode = medium')
        exc = self.assertRaises(errors.ConfigError, options.check_options,
                                'fake_plugin', OPTS, conf)
        self.assertIn('option [fake_plugin] mode has an invalid value',
                      str(exc))

    def test_config_error_is_a_value_error(self):
        self.assertTrue(issubclass(errors.ConfigError, ValueError))

    def test_common_options_have_sane_defaults(self):
        conf = cfg.ConfigOpts()
        conf.register_opts(options.common_opts, group=options.GROUP)
        options.check_options(options.GROUP, options.common_opts, conf)
        self.assertLess(conf[options.GROUP].heartbeat_interval, 60 * 60)
