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

"""Sphinx directive ``manage-reference``: the CLI reference of the command.

Parses the reStructuredText glance_import_ext.cmd.manage.reference
generates from the command's argparse parser, at every docs build.
"""

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils import statemachine
from sphinx.util import nodes as sphinx_nodes

from glance_import_ext.cmd.manage import reference


class ManageReference(Directive):
    """Every category and action of glance-import-ext-manage."""

    has_content = False

    def run(self):
        """The sections of the reference, as docutils nodes."""
        source = self.state_machine.input_lines.source(
            self.lineno - self.state_machine.input_offset - 1)
        content = statemachine.StringList(reference.lines(), source=source)
        holder = nodes.section()
        holder.document = self.state.document
        sphinx_nodes.nested_parse_with_titles(self.state, content, holder)
        return holder.children


def setup(app):
    """Register the directive.

    :param app: the Sphinx application.
    """
    app.add_directive('manage-reference', ManageReference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
