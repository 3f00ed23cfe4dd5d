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

"""The release facts of the docs, from glance_internals/releases.py.

- ``.. release-facts::`` renders the table: each supported Glance release
  with its series, the Python versions the library runs on with it, and
  its upper-constraints URL;
- substitutions for the prose, appended to ``rst_epilog``:
  ``|glance-support|`` (Glance 28 (2024.1) to 33 (2026.2)),
  ``|python-support|`` (3.10 to 3.14), ``|newest-glance|`` (33),
  ``|newest-series|`` (2026.2).

Literal blocks take no substitutions: commands there write ``<series>``
and point at the table.
"""

from docutils import nodes
from docutils import statemachine
from sphinx.util import docutils

from glance_import_ext.glance_internals import releases


def table_lines():
    """The table as reStructuredText lines (a list-table)."""
    lines = ['.. list-table::', '   :header-rows: 1', '',
             '   * - Glance (tested release)', '     - Series',
             '     - Python', '     - Upper constraints']
    for row in releases.TABLE:
        lines += [
            '   * - %d (%s)' % (releases.major(row), row.version),
            '     - %s (%s)' % (row.series, row.codename),
            '     - %s' % ', '.join(releases.python_versions(row)),
            '     - %s' % releases.constraints_url(row)]
    return lines


def substitutions():
    """The ``rst_epilog`` lines of the substitutions."""
    newest = releases.TABLE[-1]
    values = {
        'glance-support': releases.support_statement(),
        'python-support': releases.span(releases.all_python_versions()),
        'newest-glance': str(releases.major(newest)),
        'newest-series': newest.series,
    }
    return ''.join('\n.. |%s| replace:: %s' % item
                   for item in sorted(values.items()))


class ReleaseFacts(docutils.SphinxDirective):
    """``.. release-facts::``: the table of supported releases."""

    def run(self):
        content = statemachine.StringList(
            table_lines(), source='glance_internals/releases.py')
        node = nodes.container()
        self.state.nested_parse(content, self.content_offset, node)
        return node.children


def _epilog(app, config):
    config.rst_epilog = (config.rst_epilog or '') + substitutions() + '\n'


def setup(app):
    app.add_directive('release-facts', ReleaseFacts)
    app.connect('config-inited', _epilog)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
