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

"""glance-import-ext-status upgrade check on glance-api's real configuration.

The harness writes a glance-api's configuration (glance-api.conf,
glance-image-import.conf, its paste file, test plugins) as for the other
functional tests; the pre-flight runs before glance-api starts, so none is
started here, and it connects to no database.
"""

import configparser
import json
import os
import tempfile

import fixtures
import testtools

from tests.functional.harness import glance
from tests.functional.harness import mariadb
from tests import pgp
from tests import protections

STATUS = 'glance-import-ext-status'
MANAGE = 'glance-import-ext-manage'
GOOD_LIST = ['staging_owner', 'metadata_copy', 'checksum_verify',
             'manifest_verify', 'image_decompression', 'image_versions']
PROTECTIONS = protections.RECORDS_PROTECTED
# Never in the output, whatever the check says.
RECORD_KEY = 'k3y-never-printed'
# A MariaDB that is not there: the lineage lock's check cannot ask it.
GONE_DB_URL = ('mysql+pymysql://glance:db-pw-never-printed@127.0.0.1:9/'
               'glance')


class TestStatus(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.key = pgp.make_key(self.dir, 'Vendor', in_past=True)
        self.addCleanup(pgp.cleanup, self.key)
        # A real MariaDB: the lineage lock's check asks it whether it is
        # a Galera node.
        self.db_url = mariadb.server(tempfile.gettempdir()).create_database(
            'status')

    def worker(self, plugins=GOOD_LIST, record_key=RECORD_KEY, conf=None,
               db_url=None, **kwargs):
        protections = os.path.join(self.dir, 'property-protections.conf')
        with open(protections, 'w') as f:
            f.write(PROTECTIONS)
        import_conf = {'manifest_verify': {'trust_rule': (
            'https://vendor.example/ %s .gpg' % self.key.keyring_path)}}
        if record_key:
            import_conf['glance_import_ext'] = {'record_key': record_key}
        api_conf = {'DEFAULT': {'property_protection_file': protections}}
        api_conf.update(conf or {})
        return glance.GlanceAPI(
            'g1', self.dir, db_url or self.db_url,
            os.path.join(self.dir, 'store'),
            plugins=plugins, import_conf=import_conf, conf=api_conf,
            paste_filters=[glance.STAGE_HOST_CHECK, glance.STAGE_DIGESTS],
            **kwargs)

    def check(self, worker, *args):
        proc = worker.command(STATUS, 'upgrade', 'check', *args, timeout=60)
        self.addDetail('stdout', testtools.content.text_content(proc.stdout))
        self.addDetail('stderr', testtools.content.text_content(proc.stderr))
        for secret in (RECORD_KEY, 'db-pw-never-printed', mariadb.PASSWORD):
            self.assertNotIn(secret, proc.stdout + proc.stderr)
        return proc

    def results(self, worker):
        proc = self.check(worker, '--json')
        out = json.loads(proc.stdout)
        return proc.returncode, {c['check']: (c['result'], c['details'])
                                 for c in out['checks']}

    def test_good_configuration(self):
        code, checks = self.results(self.worker())
        self.assertEqual(0, code, checks)
        self.assertEqual(11, len(checks))
        expected = {
            'Glance release': 'supported: 28 to 33',
            'Plugins load': 'image_decompression of other packages: their '
                            'get_flow is not called here',
            'Options': 'is valid',
            'Plugin order': 'the order keeps every rule',
            'Trust-rule keyrings': self.key.keyring_path + ': 1 key(s), '
                                                           'none expired',
            'gpgv': 'runs',
            'Record key': 'record_key is set',
            'Property protections': 'only admin may create, update or '
                                    'delete import_ext_plugins',
            'Paste pipeline': 'context stage_host_check stage_digests '
                              'rootapp',
            'Lineage lock': "Glance's database (mysql) serializes every "
                            'glance-api of a lineage',
            'Staging directory': 'is writable',
        }
        for name, text in expected.items():
            self.assertEqual(0, checks[name][0], checks[name])
            self.assertIn(text, checks[name][1])

    def test_warnings_only(self):
        worker = self.worker(plugins=['staging_owner', 'checksum_verify'],
                             record_key=None)
        proc = self.check(worker)
        self.assertEqual(1, proc.returncode, proc.stdout)
        self.assertEqual(11, proc.stdout.count('| Check: '))
        self.assertIn('Result: Warning', proc.stdout)
        self.assertIn('record_key is not set', proc.stdout)
        self.assertNotIn('Result: Failure', proc.stdout)

    def test_manage_upgrade_check_is_the_same(self):
        # The same checks and exit code through the admin command, for a
        # configuration with warnings and one with failures.
        for plugins, key in ((['staging_owner', 'checksum_verify'], None),
                             (['checksum_verfy'], RECORD_KEY)):
            worker = self.worker(plugins=plugins, record_key=key)
            by_status = self.check(worker, '--json')
            by_manage = worker.command(MANAGE, 'upgrade', 'check', '--json',
                                       timeout=60)
            self.assertEqual(by_status.returncode, by_manage.returncode,
                             by_manage.stderr)
            self.assertIn(by_manage.returncode, (1, 2))
            self.assertEqual(json.loads(by_status.stdout),
                             json.loads(by_manage.stdout))

    def test_misspelt_name_and_bad_order(self):
        worker = self.worker(plugins=['checksum_verfy', 'image_decompression',
                                      'checksum_verify', 'staging_owner'])
        code, checks = self.results(worker)
        self.assertEqual(2, code, checks)
        result, details = checks['Plugins load']
        self.assertEqual(2, result)
        self.assertIn("'checksum_verfy': no plugin of that name is installed "
                      '(did you mean checksum_verify?)', details)
        result, details = checks['Plugin order']
        self.assertEqual(2, result)
        self.assertIn('staging_owner must be listed first', details)
        self.assertIn('checksum_verify is listed after image_decompression',
                      details)

    def test_plugin_module_that_does_not_import(self):
        worker = self.worker(
            plugins=['checksum_verify', 'vendor_check'],
            test_plugins={'vendor_check':
                          'tests.functional.no_such_module:get_flow'})
        code, checks = self.results(worker)
        self.assertEqual(2, code, checks)
        self.assertIn('vendor_check: its module does not load '
                      '(ModuleNotFoundError', checks['Plugins load'][1])

    def test_filter_before_context_and_sqlite(self):
        worker = self.worker(conf={'database': {
            'connection': 'sqlite:///' + os.path.join(self.dir, 'g.db')}})
        paste_path = os.path.join(worker.conf_dir, 'glance-api-paste.ini')
        paste = configparser.ConfigParser(interpolation=None)
        paste.optionxform = str
        paste.read(paste_path)
        paste['composite:api']['functional'] = (
            'cors versionnegotiation stage_digests testidentity context '
            'rootapp')
        with open(paste_path, 'w') as f:
            paste.write(f)
        code, checks = self.results(worker)
        self.assertEqual(2, code, checks)
        self.assertEqual(2, checks['Paste pipeline'][0])
        self.assertIn('stage_digests before context',
                      checks['Paste pipeline'][1])
        self.assertEqual(2, checks['Lineage lock'][0])
        self.assertIn("Glance's database (sqlite) has no lock every "
                      'glance-api shares', checks['Lineage lock'][1])

    def test_lineage_lock_of_a_database_that_does_not_answer(self):
        code, checks = self.results(self.worker(db_url=GONE_DB_URL))
        self.assertEqual(2, code, checks)
        self.assertEqual(2, checks['Lineage lock'][0])
        self.assertIn('the database could not say which lock it gives',
                      checks['Lineage lock'][1])

    def test_missing_config_is_one_line(self):
        worker = self.worker()
        proc = worker.command(STATUS, 'upgrade', 'check', config_files=[
            os.path.join(self.dir, 'nowhere.conf')], timeout=60)
        self.assertEqual(2, proc.returncode)
        self.assertEqual('', proc.stdout)
        self.assertEqual(1, len(proc.stderr.splitlines()), proc.stderr)
        self.assertIn('nowhere.conf not found. Hint:', proc.stderr)
