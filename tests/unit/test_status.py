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

"""glance-import-ext-status upgrade check: each check, good and bad."""

import argparse
import importlib.metadata
import os
import time

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance_import_ext.cmd.manage import config as manage_config
from glance_import_ext.cmd.manage import errors as manage_errors
from glance_import_ext.cmd import status
from glance_import_ext.common import options
from glance_import_ext import glance_internals
from glance_import_ext.plugins.manifest_verify import openpgp
from tests import pgp
from tests import protections

SUCCESS = status.SUCCESS
WARNING = status.WARNING
FAILURE = status.FAILURE
GOOD_LIST = ['staging_owner', 'metadata_copy', 'checksum_verify',
             'image_versions']

PROTECTION_RULES = protections.RECORDS_PROTECTED

CATCH_ALL_ONLY = """\
[.*]
create = admin,member
read = @
update = admin,member
delete = admin,member
"""

PASTE = """\
[composite:glance-api-keystone]
paste.composite_factory = glance.api:root_app_factory
/: api

[composite:api]
paste.composite_factory = glance.api:pipeline_factory
default = cors versionnegotiation unauthenticated-context %(default)s rootapp
keystone = cors versionnegotiation authtoken %(keystone)s rootapp

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory

[filter:stage_host_check]
paste.filter_factory = glance_import_ext.middleware.stage_host_check:filter_factory

[filter:stage_digests]
paste.filter_factory = glance_import_ext.middleware.stage_digests:filter_factory
"""  # noqa: E501


class StatusTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        manage_config.register_glance_options(cfg.CONF)
        glance_internals.register_preflight_options(cfg.CONF)
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.plugins(GOOD_LIST)

    def plugins(self, names):
        self.conf.config(group=glance_internals.IMPORT_PLUGINS_GROUP,
                         image_import_plugins=list(names))

    def run_check(self, name, **kwargs):
        kwargs.setdefault('glance_version', '33.0.0')
        checks = status.Checks(cfg.CONF, **kwargs)
        return getattr(checks, name)()

    def assertResult(self, code, texts, res):
        self.assertEqual(code, res.code, res.details)
        for text in ([texts] if isinstance(texts, str) else texts):
            self.assertIn(text, res.details)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path


class TestRelease(StatusTestCase):

    def test_supported(self):
        self.assertResult(SUCCESS, 'Glance 33.0.0 (supported: 28 to 33)',
                          self.run_check('check_release'))

    def test_oldest_supported(self):
        self.assertResult(SUCCESS, 'Glance 28.2.0', self.run_check(
            'check_release', glance_version='28.2.0'))

    def test_too_new(self):
        self.assertResult(FAILURE, ['Glance 34.0.0 is not a release',
                                    'Hint: install a glance-import-ext'],
                          self.run_check('check_release',
                                         glance_version='34.0.0'))

    def test_glance_missing(self):
        self.assertResult(FAILURE, ['Glance is not installed',
                                    "Hint: run this command with "
                                    "glance-api's Python"],
                          self.run_check('check_release', glance_version=''))

    def test_read_from_the_environment(self):
        self.assertEqual(importlib.metadata.version('glance'),
                         status.Checks(cfg.CONF).glance_version())


class TestPluginsLoad(StatusTestCase):

    def test_every_name_loads(self):
        self.assertResult(SUCCESS, 'every listed plugin loads',
                          self.run_check('check_plugins_load'))

    def test_misspelt_library_name_fails(self):
        self.plugins(['staging_owner', 'checksum_verfy'])
        self.assertResult(FAILURE, ['checksum_verfy',
                                    'did you mean checksum_verify',
                                    'Hint: fix the name'],
                          self.run_check('check_plugins_load'))

    def test_other_package_plugin_is_not_built(self):
        self.plugins(['checksum_verify', 'image_conversion'])
        self.assertResult(SUCCESS, ['image_conversion of other packages',
                                    'get_flow is not called'],
                          self.run_check('check_plugins_load'))

    def broken_other_package(self):
        eps = dict(status.plugin_list.installed())
        eps['vendor_check'] = importlib.metadata.EntryPoint(
            name='vendor_check', value='no_such_vendor_module:get_flow',
            group=glance_internals.PLUGIN_NAMESPACE)
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin_list.installed',
            return_value=eps))
        self.plugins(['checksum_verify', 'vendor_check'])

    def test_broken_other_package_fails(self):
        self.broken_other_package()
        self.assertResult(FAILURE, ['vendor_check: its module does not load',
                                    'ModuleNotFoundError'],
                          self.run_check('check_plugins_load'))

    def test_broken_other_package_warns_when_not_required(self):
        self.broken_other_package()
        self.conf.config(group=options.GROUP, require_every_plugin=False)
        self.assertResult(WARNING, ['vendor_check: its module does not load',
                                    'require_every_plugin = false'],
                          self.run_check('check_plugins_load'))

    def test_empty_list_warns(self):
        self.plugins([])
        self.assertResult(WARNING, 'image_import_plugins is empty',
                          self.run_check('check_plugins_load'))

    def test_no_library_plugin_warns(self):
        self.plugins(['image_conversion'])
        self.assertResult(WARNING, 'no plugin of glance-import-ext',
                          self.run_check('check_plugins_load'))


class TestOptions(StatusTestCase):

    def test_defaults_are_valid(self):
        self.assertResult(SUCCESS, 'every option of groups glance_import_ext',
                          self.run_check('check_options'))

    def test_bad_type_in_a_listed_group_fails(self):
        self.conf.load_raw_values(group=options.GROUP,
                                  heartbeat_interval='often')
        self.assertResult(FAILURE, ['[glance_import_ext] heartbeat_interval',
                                    'Hint: fix it in '
                                    'glance-image-import.conf'],
                          self.run_check('check_options'))

    def test_plugin_validation_of_a_listed_plugin_fails(self):
        self.conf.config(group='metadata_copy',
                         extra_properties_prefixes=['hw_', 'os_glance_x'])
        self.assertResult(FAILURE, '[metadata_copy] extra_properties_prefixes',
                          self.run_check('check_options'))

    def test_lineage_properties_checked(self):
        self.conf.config(group='image_versions', lineage='properties',
                         lineage_properties=['os_glance_x'])
        self.assertResult(FAILURE, '[image_versions] lineage_properties',
                          self.run_check('check_options'))

    def test_bad_group_of_an_unlisted_plugin_warns(self):
        self.conf.config(group='manifest_verify',
                         trust_rule=['not a rule at all'])
        self.assertResult(WARNING, ['[manifest_verify] trust_rule',
                                    '(not listed)'],
                          self.run_check('check_options'))

    def test_stage_digests_algorithms_checked(self):
        self.conf.config(group='stage_digests', algorithms=['sha257'])
        self.assertResult(FAILURE, '[stage_digests] algorithms',
                          self.run_check('check_options'))


class TestOrder(StatusTestCase):

    def test_good_order(self):
        self.assertResult(SUCCESS, 'the order keeps every rule',
                          self.run_check('check_order'))

    def test_verifying_after_a_change_fails(self):
        self.plugins(['staging_owner', 'image_decompression',
                      'checksum_verify'])
        self.assertResult(FAILURE, ['checksum_verify is listed after '
                                    'image_decompression',
                                    'Hint: reorder image_import_plugins'],
                          self.run_check('check_order'))

    def test_staging_owner_not_first_fails(self):
        self.plugins(['checksum_verify', 'staging_owner'])
        self.assertResult(FAILURE, 'staging_owner must be listed first',
                          self.run_check('check_order'))

    def test_image_versions_before_a_check_fails(self):
        self.plugins(['image_versions', 'checksum_verify'])
        self.assertResult(FAILURE, 'image_versions must be listed after',
                          self.run_check('check_order'))

    def test_twice_fails(self):
        self.plugins(['checksum_verify', 'checksum_verify'])
        self.assertResult(FAILURE, 'listed 2 times',
                          self.run_check('check_order'))

    def test_verify_changed_data_warns(self):
        self.plugins(['staging_owner', 'image_decompression',
                      'checksum_verify'])
        self.conf.config(group=options.GROUP, verify_changed_data=True)
        self.assertResult(WARNING, [
            'verify_changed_data = true: the verifying plugins check '
            'changed data on purpose',
            '(checksum_verify after image_decompression)'],
            self.run_check('check_order'))


class TestKeyrings(StatusTestCase):

    def key(self, name, **kwargs):
        key = pgp.make_key(self.dir, name, **kwargs)
        self.addCleanup(pgp.cleanup, key)
        return key

    def rules(self, *keyrings):
        self.conf.config(group='manifest_verify', trust_rule=[
            'https://vendor%d.example/ %s .gpg' % (i, path)
            for i, path in enumerate(keyrings)])
        self.plugins(['manifest_verify'])

    def test_no_rule(self):
        self.assertResult(SUCCESS, 'no [manifest_verify] trust_rule',
                          self.run_check('check_keyrings'))

    def test_key_without_expiry(self):
        key = self.key('Forever', in_past=True)
        self.rules(key.keyring_path, key.armored_path)
        res = self.run_check('check_keyrings')
        self.assertResult(SUCCESS, [key.keyring_path, key.armored_path,
                                    '1 key(s), none expired'], res)

    def test_expired_key_fails(self):
        key = self.key('Expired', expired=True)
        self.rules(key.keyring_path)
        self.assertResult(FAILURE, [
            'expired: %s (2020-01-02)' % key.fingerprint,
            'no key can verify a signature',
            "Hint: install the vendor's current public key"],
            self.run_check('check_keyrings'))

    def test_expired_key_of_an_unlisted_plugin_warns(self):
        key = self.key('Expired', expired=True)
        self.rules(key.keyring_path)
        self.plugins(['checksum_verify'])
        self.assertResult(WARNING, '(manifest_verify is not listed)',
                          self.run_check('check_keyrings'))

    def test_expiring_soon_warns(self):
        key = self.key('Soon')  # valid one day
        self.rules(key.keyring_path)
        self.assertResult(WARNING, ['expiring within 30 days: %s' %
                                    key.fingerprint,
                                    "Hint: get the vendor's renewed key"],
                          self.run_check('check_keyrings'))

    def test_expired_key_beside_a_good_one_warns(self):
        good = self.key('Good', in_past=True)
        old = self.key('Old', expired=True)
        with open(old.keyring_path, 'rb') as f:
            old_key = f.read()
        with open(good.keyring_path, 'ab') as f:
            f.write(old_key)
        self.rules(good.keyring_path)
        self.assertResult(WARNING, ['2 key(s)', 'expired: %s' %
                                    old.fingerprint],
                          self.run_check('check_keyrings'))

    def test_revoked_key_fails(self):
        key = pgp.revoke(self.key('Revoked', in_past=True))
        self.rules(key.keyring_path)
        self.assertResult(FAILURE, 'revoked: %s' % key.fingerprint,
                          self.run_check('check_keyrings'))

    def test_missing_keyring_fails(self):
        self.rules(os.path.join(self.dir, 'nowhere.gpg'))
        self.assertResult(FAILURE, 'nowhere.gpg does not exist',
                          self.run_check('check_keyrings'))

    def test_unparseable_keyring_fails(self):
        self.rules(self.write('junk.gpg', 'not a key'))
        self.assertResult(FAILURE, 'is not an OpenPGP public keyring',
                          self.run_check('check_keyrings'))

    def test_expiry_is_judged_at_now(self):
        key = self.key('Forever', in_past=True)
        self.rules(key.keyring_path)
        res = status.Checks(cfg.CONF, now=time.time()).check_keyrings()
        self.assertEqual(SUCCESS, res.code, res.details)


class TestGpgv(StatusTestCase):

    def test_not_needed_without_manifest_verify(self):
        self.assertResult(SUCCESS, 'gpgv not needed',
                          self.run_check('check_gpgv'))

    def test_runs(self):
        self.plugins(['manifest_verify'])
        self.assertResult(SUCCESS, ['gpgv runs', 'gpgv (GnuPG)'],
                          self.run_check('check_gpgv'))

    def test_missing_fails(self):
        self.plugins(['manifest_verify'])
        self.useFixture(fixtures.MockPatchObject(
            openpgp, 'gpgv_path',
            side_effect=openpgp.SignatureError('gpgv not found')))
        self.assertResult(FAILURE, ['gpgv not found', "Hint: install "
                                                      "Debian's gpgv"],
                          self.run_check('check_gpgv'))

    def test_not_runnable_fails(self):
        self.plugins(['manifest_verify'])
        self.useFixture(fixtures.MockPatchObject(
            openpgp, 'gpgv_path', return_value='/bin/false'))
        self.assertResult(FAILURE, '/bin/false --version exited 1',
                          self.run_check('check_gpgv'))


class TestRecordKey(StatusTestCase):

    def test_set_and_never_shown(self):
        self.conf.config(group=options.GROUP, record_key='s3cr3t-key',
                         previous_record_keys=['old-s3cr3t'])
        res = self.run_check('check_record_key')
        self.assertResult(SUCCESS, 'record_key is set (and 1 previous', res)
        self.assertNotIn('s3cr3t', res.details)

    def test_invalid_and_never_shown(self):
        self.conf.load_raw_values(group=options.GROUP,
                                  previous_record_keys='"s3cr3t')
        res = self.run_check('check_record_key')
        self.assertResult(FAILURE, 'invalid value (not shown: secret)', res)
        self.assertNotIn('s3cr3t', res.details)
        res = self.run_check('check_options')
        self.assertResult(FAILURE, 'previous_record_keys has an invalid '
                                   'value: (not shown: secret)', res)
        self.assertNotIn('s3cr3t', res.details)

    def test_unset_warns(self):
        self.assertResult(WARNING, ['record_key is not set',
                                    'cannot be sealed', 'Hint: set the '
                                                        'same secret'],
                          self.run_check('check_record_key'))


class TestPropertyProtections(StatusTestCase):

    def protect(self, text, rule_format='roles'):
        self.conf.config(property_protection_file=self.write(
            'property-protections.conf', text),
            property_protection_rule_format=rule_format)

    def test_not_in_use(self):
        self.assertResult(SUCCESS, 'property_protection_file not set',
                          self.run_check('check_property_protections'))

    def test_rule_present(self):
        self.protect(PROTECTION_RULES)
        self.assertResult(SUCCESS, [
            'only admin may create, update or delete import_ext_plugins',
            'import_ext_dry_run is writable by users (@)'],
            self.run_check('check_property_protections'))

    def test_rule_missing_warns(self):
        self.protect(CATCH_ALL_ONLY)
        self.assertResult(WARNING, [
            'import_ext_plugins: rule [.*] lets member',
            "users can forge the library's records",
            'Hint: add, before the catch-all rule'],
            self.run_check('check_property_protections'))

    def test_rule_after_the_catch_all_warns(self):
        # Glance uses the first section that matches, in file order.
        rules = PROTECTION_RULES.split('\n\n')
        self.protect(rules[1] + '\n\n' + rules[0])
        self.assertResult(WARNING, 'rule [.*] lets @',
                          self.run_check('check_property_protections'))

    def test_policies_format_not_checked(self):
        self.protect(PROTECTION_RULES, rule_format='policies')
        self.assertResult(WARNING, 'only the roles format is checked',
                          self.run_check('check_property_protections'))

    def test_unreadable_file_fails(self):
        self.conf.config(property_protection_file=os.path.join(
            self.dir, 'missing.conf'))
        self.assertResult(FAILURE, 'cannot read property_protection_file',
                          self.run_check('check_property_protections'))


class TestPastePipeline(StatusTestCase):

    def paste(self, keystone='context stage_host_check stage_digests',
              default='stage_digests', flavor='keystone'):
        path = self.write('glance-api-paste.ini', PASTE % {
            'keystone': keystone, 'default': default})
        self.conf.config(group='paste_deploy', config_file=path,
                         flavor=flavor)
        return path

    def test_filters_after_context(self):
        path = self.paste()
        self.assertResult(SUCCESS, [
            '[composite:api] keystone = cors versionnegotiation authtoken '
            'context stage_host_check stage_digests rootapp', path],
            self.run_check('check_paste_pipeline'))

    def test_default_flavor_and_unauthenticated_context(self):
        self.paste(flavor=None)
        self.assertResult(SUCCESS, ['[composite:api] default =',
                                    'stage_host_check not in it: optional'],
                          self.run_check('check_paste_pipeline'))

    def test_missing_filters_are_optional_on_33(self):
        self.paste(keystone='context')
        self.assertResult(SUCCESS, 'stage_host_check, stage_digests not in '
                                   'it: optional here',
                          self.run_check('check_paste_pipeline'))

    def test_filter_before_context_fails(self):
        self.paste(keystone='stage_host_check context')
        self.assertResult(FAILURE, ['stage_host_check before context',
                                    'Hint: move it right after context'],
                          self.run_check('check_paste_pipeline'))

    def needs_filter(self, keystonemiddleware='13.0.1'):
        versions = {'keystonemiddleware': keystonemiddleware}
        self.useFixture(fixtures.MockPatchObject(
            status, 'installed_version', side_effect=versions.get))

    def test_glance_32_with_keystonemiddleware_13_needs_it(self):
        self.needs_filter()
        self.paste(keystone='context stage_digests')
        self.assertResult(FAILURE, [
            'no stage_host_check',
            'Glance 32.0.0 with keystonemiddleware 13.0.1 answers 500',
            'staging_owner is listed',
            'Hint: add stage_host_check after context'],
            self.run_check('check_paste_pipeline', glance_version='32.0.0'))

    def test_worker_self_reference_url_needs_it_too(self):
        self.needs_filter()
        self.plugins(['checksum_verify'])
        self.conf.config(worker_self_reference_url='http://g1:9292')
        self.paste(keystone='context')
        self.assertResult(FAILURE, 'worker_self_reference_url is set',
                          self.run_check('check_paste_pipeline',
                                         glance_version='32.0.0'))

    def test_glance_32_with_it(self):
        self.needs_filter()
        self.paste()
        self.assertResult(SUCCESS, 'stage_host_check', self.run_check(
            'check_paste_pipeline', glance_version='32.0.0'))

    def test_older_keystonemiddleware_does_not_need_it(self):
        self.needs_filter('12.0.0')
        self.paste(keystone='context')
        self.assertResult(SUCCESS, 'optional here', self.run_check(
            'check_paste_pipeline', glance_version='32.0.0'))

    def test_no_pipeline_for_the_flavor_fails(self):
        self.paste(flavor='keystone+caching')
        self.assertResult(FAILURE, 'no pipeline for paste flavor '
                                   'keystone+caching',
                          self.run_check('check_paste_pipeline'))

    def test_older_pipeline_section(self):
        path = self.write('old-paste.ini', (
            '[pipeline:glance-api-keystone]\n'
            'pipeline = versionnegotiation authtoken context '
            'stage_host_check rootapp\n\n[filter:stage_host_check]\n'
            'paste.filter_factory = glance_import_ext.middleware.'
            'stage_host_check:filter_factory\n'))
        self.conf.config(group='paste_deploy', config_file=path,
                         flavor='keystone')
        self.assertResult(SUCCESS, '[pipeline:glance-api-keystone] pipeline',
                          self.run_check('check_paste_pipeline'))

    def test_missing_paste_file_fails(self):
        self.conf.config(group='paste_deploy', config_file=os.path.join(
            self.dir, 'gone.ini'))
        self.assertResult(FAILURE, 'no paste file found',
                          self.run_check('check_paste_pipeline'))


class TestLineageLock(StatusTestCase):

    def connection(self, url, kind=None):
        self.conf.config(group='database', connection=url)
        if kind:
            # What a connection to the server would tell (a Galera node?).
            self.useFixture(fixtures.MockPatchObject(
                glance_internals, 'database_lock_kind_at',
                return_value=kind))

    def test_mariadb(self):
        self.connection('mysql+pymysql://glance:pw@db/glance', 'mysql')
        res = self.run_check('check_lineage_lock')
        self.assertResult(SUCCESS, "Glance's database (mysql) serializes",
                          res)
        self.assertNotIn('pw', res.details)

    def test_galera_fails_without_coordination_url(self):
        self.connection('mysql+pymysql://glance:pw@db/glance', 'galera')
        self.assertResult(FAILURE, ['MariaDB Galera node', 'that node only',
                                    'Hint: set [image_versions] '
                                    'coordination_url'],
                          self.run_check('check_lineage_lock'))

    def test_unreachable_mariadb_fails(self):
        self.connection('mysql+pymysql://glance:pw@db.invalid/glance')
        res = self.run_check('check_lineage_lock')
        self.assertResult(FAILURE, 'the database could not say which lock',
                          res)
        self.assertNotIn('pw', res.details)

    def test_sqlite_fails(self):
        self.connection('sqlite:////var/lib/glance/glance.sqlite')
        self.assertResult(FAILURE, ["Glance's database (sqlite) has no lock "
                                    'every glance-api shares',
                                    'Hint: set [image_versions] '
                                    'coordination_url'],
                          self.run_check('check_lineage_lock'))

    def test_postgresql_advisory_locks(self):
        # The dialect says it: no connection is needed.
        self.connection('postgresql+psycopg2://glance:pw@db.invalid/glance')
        res = self.run_check('check_lineage_lock')
        self.assertResult(SUCCESS, "Glance's database (postgresql)", res)
        self.assertNotIn('pw', res.details)

    def test_coordination_url_is_probed(self):
        self.connection('sqlite://')
        self.conf.config(group='image_versions',
                         coordination_url='file://' + self.dir)
        self.assertResult(SUCCESS, 'coordination_url (file) gives the '
                                   'lineage lock',
                          self.run_check('check_lineage_lock'))

    def test_coordination_url_that_fails(self):
        self.conf.config(group='image_versions',
                         coordination_url='nosuchdriver://user:pw@host')
        res = self.run_check('check_lineage_lock')
        self.assertResult(FAILURE, ['coordination_url (nosuchdriver) does '
                                    'not give a lock',
                                    'Hint: start the backend'], res)
        self.assertNotIn('pw', res.details)

    def test_not_needed_without_image_versions(self):
        self.plugins(['checksum_verify'])
        self.connection('sqlite://')
        self.assertResult(SUCCESS, 'no lock needed',
                          self.run_check('check_lineage_lock'))


class TestStagingDir(StatusTestCase):

    def test_writable(self):
        self.conf.config(node_staging_uri='file://' + self.dir)
        self.assertResult(SUCCESS, '%s is writable' % self.dir,
                          self.run_check('check_staging_dir'))

    def test_missing_but_creatable(self):
        self.conf.config(node_staging_uri='file://%s/a/b' % self.dir)
        self.assertResult(SUCCESS, ['b does not exist yet; Glance creates '
                                    'it (%s is writable)' % self.dir],
                          self.run_check('check_staging_dir'))

    def test_missing_and_not_creatable_fails(self):
        self.conf.config(node_staging_uri='file://%s/gone' % self.dir)
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.cmd.status.os.access', return_value=False))
        self.assertResult(FAILURE, ['gone does not exist and this user',
                                    'Hint: create it'],
                          self.run_check('check_staging_dir'))

    def test_not_a_directory_fails(self):
        path = self.write('staging', '')
        self.conf.config(node_staging_uri='file://' + path)
        self.assertResult(FAILURE, 'is not a directory',
                          self.run_check('check_staging_dir'))

    def test_not_writable_fails(self):
        self.conf.config(node_staging_uri='file://' + self.dir)
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.cmd.status.os.access', return_value=False))
        self.assertResult(FAILURE, ['is not writable by this user',
                                    'Hint: run this check as the user '
                                    'glance-api runs as'],
                          self.run_check('check_staging_dir'))

    def test_not_a_file_uri_warns(self):
        self.conf.config(node_staging_uri='http://elsewhere/')
        self.assertResult(WARNING, 'no file staging directory',
                          self.run_check('check_staging_dir'))


class TestCheckRun(StatusTestCase):

    def test_a_check_that_raises_is_a_failure_line(self):
        self.useFixture(fixtures.MockPatch(
            'glance_import_ext.common.plugin_list.order_problems',
            side_effect=RuntimeError('boom')))
        self.assertResult(FAILURE, 'the check could not run: RuntimeError: '
                                   'boom', self.run_check('check_order'))

    def test_every_check_is_listed_once(self):
        names = [n for n, _ in status.Checks._upgrade_checks]
        self.assertEqual(11, len(set(names)))

    def test_config_files_include_the_import_conf(self):
        api = self.write('glance-api.conf', '[DEFAULT]\n')
        extra = self.write('glance-image-import.conf', '[DEFAULT]\n')
        argv, files = status._config_args(
            ['--config-file', api, 'upgrade', 'check', '--json'])
        self.assertEqual(['upgrade', 'check', '--json'], argv)
        self.assertEqual([extra, api], files)
        self.assertEqual(files, manage_config.config_files(
            argparse.Namespace(config_file=[api])))

    def test_missing_config_file_is_one_line(self):
        self.assertRaises(manage_errors.CommandError, status._config_args,
                          ['--config-file', os.path.join(self.dir, 'x'),
                           'upgrade', 'check'])

    def test_help_needs_no_config(self):
        self.assertEqual((['--help'], None), status._config_args(['--help']))
