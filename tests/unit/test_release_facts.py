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

"""The release facts everywhere agree with the one table (releases.py).

setup.cfg's python_requires and Python classifiers, the pins of
constraints/ and test-requirements.txt, and what README.rst, devstack's
README and the docs say about series, Python versions and upper
constraints.
"""

import configparser
import glob
import os
import re

import testtools

from glance_import_ext.glance_internals import releases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# "Glance 33 (2026.2)", "33.x (2025.2)", "28 (2024.1) to 33 (2026.2)".
MAJOR_SERIES = re.compile(r'\b(\d{2})(?:\.x)? \((20\d\d\.\d)\)')
CONSTRAINTS = re.compile(r'constraints/upper/([^\s`\'"<>]*)')
PYTHON_SPAN = re.compile(r'Python (3\.\d+) to (3\.\d+)')


def read(*path):
    with open(os.path.join(ROOT, *path), encoding='utf-8') as f:
        return f.read()


def documents():
    """The rst the release facts may appear in (not release notes)."""
    paths = [os.path.join(ROOT, 'README.rst'),
             os.path.join(ROOT, 'devstack', 'README.rst')]
    paths += sorted(glob.glob(os.path.join(ROOT, 'doc', 'source', '**',
                                           '*.rst'), recursive=True))
    return [(os.path.relpath(p, ROOT), read(p)) for p in paths]


class TestTable(testtools.TestCase):

    def test_one_row_per_major_in_order(self):
        majors = [releases.major(r) for r in releases.TABLE]
        self.assertEqual(list(range(majors[0], majors[-1] + 1)), majors)
        self.assertEqual(releases.RELEASES,
                         tuple(r.version for r in releases.TABLE))

    def test_series_follow_each_other(self):
        series = [tuple(map(int, r.series.split('.')))
                  for r in releases.TABLE]
        for (year, half), after in zip(series, series[1:]):
            self.assertEqual((year, 2) if half == 1 else (year + 1, 1),
                             after)

    def test_the_library_runs_with_every_release(self):
        for row in releases.TABLE:
            self.assertTrue(releases.python_versions(row), row.version)

    def test_derived_values(self):
        caracal = releases.TABLE[0]
        self.assertEqual(('3.10', '3.11'), releases.python_versions(caracal))
        self.assertEqual(
            'https://releases.openstack.org/constraints/upper/2024.1',
            releases.constraints_url(caracal))
        self.assertEqual('3.10 to 3.12', releases.span(('3.10', '3.11',
                                                       '3.12')))
        self.assertEqual('3.11', releases.span(('3.11',)))
        self.assertIn('28.2.0, 29.2.1', releases.EVERY)


class TestSetupCfg(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cfg = configparser.ConfigParser()
        self.cfg.read_string(read('setup.cfg'))

    def test_python_requires(self):
        self.assertEqual(
            '>=%d.%d' % releases.MIN_PYTHON,
            self.cfg.get('metadata', 'python_requires').replace(' ', ''))

    def test_python_classifiers(self):
        prefix = 'Programming Language :: Python :: '
        found = tuple(
            line.strip()[len(prefix):] for line in
            self.cfg.get('metadata', 'classifier').splitlines()
            if re.fullmatch(re.escape(prefix) + r'3\.\d+', line.strip()))
        self.assertEqual(releases.all_python_versions(), found)


class TestPins(testtools.TestCase):

    def test_older_releases_pinned(self):
        for row in releases.TABLE[:-1]:
            text = read('constraints', 'glance-%d.txt' % releases.major(row))
            self.assertIn('\nglance==%s\n' % row.version, '\n' + text)

    def test_newest_release_in_test_requirements(self):
        newest = releases.TABLE[-1]
        self.assertIn('glance>=%s,<%d' % (newest.version,
                                          releases.major(newest) + 1),
                      read('test-requirements.txt'))

    def test_functional_range(self):
        self.assertIn('glance>=%d.0.0,<%d' % (
            releases.major(releases.TABLE[0]),
            releases.major(releases.TABLE[-1]) + 1),
            read('constraints', 'functional.txt'))


class TestDocuments(testtools.TestCase):

    def test_readme_support_statement(self):
        self.assertIn(releases.support_statement(),
                      ' '.join(read('README.rst').split()))

    def test_install_page_shows_the_table(self):
        self.assertIn('.. release-facts::',
                      read('doc', 'source', 'install', 'index.rst'))

    def test_series_of_a_release(self):
        series = {releases.major(r): r.series for r in releases.TABLE}
        for path, text in documents():
            for major, said in MAJOR_SERIES.findall(' '.join(text.split())):
                if int(major) in series:
                    self.assertEqual(series[int(major)], said,
                                     '%s: Glance %s' % (path, major))

    def test_constraints_urls(self):
        known = {r.series for r in releases.TABLE}
        for path, text in documents():
            for target in CONSTRAINTS.findall(text):
                # A command writes <series> and points at the table.
                self.assertIn(target, known | {''}, path)

    def test_python_spans(self):
        expected = tuple(releases.all_python_versions()[i] for i in (0, -1))
        for path, text in documents():
            for span in PYTHON_SPAN.findall(' '.join(text.split())):
                self.assertEqual(expected, span, path)

    def test_rules_catch_the_old_mistakes(self):
        old = ('It is tested with Glance 33.x (2025.2) on Python 3.10 to '
               '3.12: pip install -c https://releases.openstack.org/'
               'constraints/upper/2025.1 glance-import-ext')
        self.assertEqual([('33', '2025.2')], MAJOR_SERIES.findall(old))
        self.assertEqual([('3.10', '3.12')], PYTHON_SPAN.findall(old))
        self.assertEqual(['2025.1'], CONSTRAINTS.findall(old))
