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

"""Sphinx configuration of the glance-import-ext documentation.

Build with ``tox -e docs`` (``sphinx-build -W -b html doc/source
doc/build/html``).
"""

import os
import sys

# The local extensions (_exts/): release_facts.py, the release table and
# substitutions, from glance_import_ext/glance_internals/releases.py;
# manage_reference.py, the CLI reference of glance-import-ext-manage.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '_exts'))

# -- General configuration ------------------------------------------------

extensions = [
    'openstackdocstheme',
    # Renders the option reference from the oslo.config.opts entry point
    # (``.. show-options:: glance_import_ext``).
    'oslo_config.sphinxext',
    'release_facts',
    # The CLI reference of glance-import-ext-manage, generated from its
    # argparse parser (``.. manage-reference::``).
    'manage_reference',
]

# openstackdocstheme
openstackdocs_repo_name = 'openstack/glance-import-ext'
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_bug_project = 'glance-import-ext'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False

templates_path = []
source_suffix = '.rst'
master_doc = 'index'

project = 'glance-import-ext'
copyright = '2026, glance-import-ext developers'

exclude_patterns = []
add_module_names = True
pygments_style = 'native'

# -- Options for HTML output ----------------------------------------------

html_theme = 'openstackdocs'
html_static_path = []
htmlhelp_basename = 'glance-import-extdoc'
