"""Sphinx configuration of the glance-import-ext documentation.

Build with ``tox -e docs`` (``sphinx-build -W -b html doc/source
doc/build/html``).
"""

# -- General configuration ------------------------------------------------

extensions = [
    'openstackdocstheme',
    # Renders the option reference from the oslo.config.opts entry point
    # (``.. show-options:: glance_import_ext``).
    'oslo_config.sphinxext',
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
