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

"""Sphinx configuration of the glance-import-ext release notes.

Build with ``sphinx-build -a -E -W -b html releasenotes/source
releasenotes/build/html``; reno.sphinxext reads the notes from git.
"""

# -- General configuration ------------------------------------------------

extensions = [
    'reno.sphinxext',
]

# openstackdocstheme is used when it is installed, as in OpenStack's own
# docs jobs; otherwise Sphinx's default theme.
try:
    import openstackdocstheme  # noqa: F401
except ImportError:
    html_theme = 'alabaster'
else:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    openstackdocs_auto_name = False
    openstackdocs_bug_tag = 'releasenotes'

templates_path = ['_templates']
source_suffix = '.rst'
master_doc = 'index'

project = 'glance-import-ext Release Notes'
copyright = '2026, glance-import-ext developers'

# Release notes are not versioned: reno lists every release itself.
version = ''
release = ''

exclude_patterns = []
pygments_style = 'native'

# -- Options for HTML output ----------------------------------------------

html_static_path = ['_static']
html_use_index = False
htmlhelp_basename = 'GlanceImportExtReleaseNotesdoc'

# -- Options for Internationalization output ------------------------------

locale_dirs = ['locale/']
