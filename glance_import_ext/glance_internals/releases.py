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

"""The Glance releases the library supports: the one table of release facts.

Everything that names a supported release, its series, a Python version or
an upper-constraints URL derives from ``TABLE``: the seam's ``VERIFIED``
tables (``EVERY``), the pre-flight's supported range, the documentation
(``doc/source/conf.py``: substitutions and the ``release-facts`` table)
and setup.cfg's Python classifiers (tests/unit/test_release_facts.py checks
setup.cfg, README.rst, the docs and constraints/ against it).

Each row: the Glance release the tests run (``tox -e functional`` for the
newest, ``constraints/glance-<major>.txt`` for the others), its OpenStack
series as ``deliverables/<codename>/glance.yaml`` of openstack/releases
lists it, and the Python versions that release's own metadata
(setup.cfg or pyproject.toml at its tag) classifies.

"Source" in a ``VERIFIED`` table means the item was read in that release's
published source; "matrix" means it is exercised by the functional tests of
that release only (``tox -e functional-glanceNN``).
"""

import collections

# setup.cfg's python_requires: the library runs on Python 3.10 and later.
MIN_PYTHON = (3, 10)

# releases.openstack.org redirects each series to its requirements branch
# (master before the series' stable branch, the EOL tag after its end).
CONSTRAINTS_URL = 'https://releases.openstack.org/constraints/upper/%s'

Release = collections.namedtuple(
    'Release', ['version', 'series', 'codename', 'glance_python'])

TABLE = (
    Release('28.2.0', '2024.1', 'Caracal', ('3.8', '3.9', '3.10', '3.11')),
    Release('29.2.1', '2024.2', 'Dalmatian', ('3.8', '3.9', '3.10', '3.11')),
    Release('30.2.0', '2025.1', 'Epoxy', ('3.9', '3.10', '3.11')),
    Release('31.1.0', '2025.2', 'Flamingo', ('3.10', '3.11', '3.12')),
    Release('32.0.0', '2026.1', 'Gazpacho',
            ('3.10', '3.11', '3.12', '3.13')),
    Release('33.0.0', '2026.2', 'Hibiscus',
            ('3.11', '3.12', '3.13', '3.14')),
)

RELEASES = tuple(r.version for r in TABLE)
EVERY = 'source of ' + ', '.join(RELEASES)


def _key(version):
    return tuple(int(part) for part in version.split('.'))


def major(release):
    """The Glance major version of a row (``28`` for 28.2.0)."""
    return int(release.version.split('.')[0])


def python_versions(release):
    """The Python versions the library runs on with this Glance release.

    Glance's own classifiers from ``MIN_PYTHON`` on, e.g. ``('3.10',
    '3.11')`` for Glance 28, which also classifies 3.8 and 3.9.
    """
    return tuple(v for v in release.glance_python
                 if _key(v) >= MIN_PYTHON)


def all_python_versions():
    """Every Python version of the table, in order (setup.cfg's)."""
    found = {v for r in TABLE for v in python_versions(r)}
    return tuple(sorted(found, key=_key))


def constraints_url(release):
    """The upper-constraints URL of the row's series."""
    return CONSTRAINTS_URL % release.series


def span(versions):
    """``'3.10 to 3.12'`` (or the one version) for a run of versions."""
    if len(versions) == 1:
        return versions[0]
    return '%s to %s' % (versions[0], versions[-1])


def support_statement():
    """``'Glance 28 (2024.1) to 33 (2026.2)'``, as README.rst says it."""
    first, last = TABLE[0], TABLE[-1]
    return 'Glance %d (%s) to %d (%s)' % (
        major(first), first.series, major(last), last.series)
