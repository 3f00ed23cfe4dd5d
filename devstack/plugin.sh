#!/bin/bash
#
# devstack/plugin.sh - devstack plugin for glance-import-ext
#
# stack.sh calls it as ``source plugin.sh <mode> [phase]``:
#
# - stack install:     install this repository into Glance's Python
#                      environment (editable, with devstack's constraints)
# - stack post-config: enable GLANCE_IMPORT_EXT_PLUGINS in
#                      $GLANCE_CONF_DIR/glance-image-import.conf
# - stack extra, unstack, clean: nothing to do (no service of our own)

# Save trace setting
_XTRACE_GLANCE_IMPORT_EXT=$(set +o | grep xtrace)
set -o xtrace

GLANCE_IMPORT_EXT_NAMESPACE=glance.image_import.plugins


# The Python environment Glance runs in: its own venv if lib/glance made one
# (USE_VENV), otherwise the one pip_install installs into (the global devstack
# venv, or the system Python).
function _glance_import_ext_venv {
    local venv=${PROJECT_VENV["glance"]:-}
    if [[ -n "$venv" && -d "$venv" ]]; then
        echo "$venv"
    fi
}

function _glance_import_ext_python {
    local venv
    venv=$(_glance_import_ext_venv)
    if [[ -n "$venv" ]]; then
        echo "$venv/bin/python3"
    else
        echo "${PYTHON:-python3}"
    fi
}

# install_glance_import_ext() - pip install this repository next to Glance
function install_glance_import_ext {
    # pip_install honours PIP_VIRTUAL_ENV; bash's dynamic scoping makes this
    # local value the one it sees.
    local PIP_VIRTUAL_ENV
    PIP_VIRTUAL_ENV=$(_glance_import_ext_venv)
    setup_develop $GLANCE_IMPORT_EXT_DIR
}

# _glance_import_ext_plugin_list() - GLANCE_IMPORT_EXT_PLUGINS as
# comma-separated names without blanks or empty entries
function _glance_import_ext_plugin_list {
    local name names=""
    for name in ${GLANCE_IMPORT_EXT_PLUGINS//,/ }; do
        names+="${names:+,}$name"
    done
    echo "$names"
}

# _glance_import_ext_check_plugins() - die unless every name is an entry
# point Glance can load. Glance's stevedore manager only logs a warning for
# an unknown name and imports without that plugin.
function _glance_import_ext_check_plugins {
    local names=$1
    local missing
    missing=$($(_glance_import_ext_python) - "$GLANCE_IMPORT_EXT_NAMESPACE" "$names" <<'PYEOF'
import sys
from importlib import metadata

group, names = sys.argv[1], sys.argv[2].split(',')
known = {ep.name for ep in metadata.entry_points(group=group)}
print(','.join(n for n in names if n not in known))
PYEOF
) || die $LINENO "Could not list the $GLANCE_IMPORT_EXT_NAMESPACE entry points"
    if [[ -n "$missing" ]]; then
        die $LINENO "GLANCE_IMPORT_EXT_PLUGINS names unknown import plugins: $missing"
    fi
}

# configure_glance_import_ext() - enable the import plugins in Glance
function configure_glance_import_ext {
    local conf=${GLANCE_IMAGE_IMPORT_CONF:-$GLANCE_CONF_DIR/glance-image-import.conf}
    local names
    names=$(_glance_import_ext_plugin_list)

    if [[ -z "$names" ]]; then
        warn $LINENO "GLANCE_IMPORT_EXT_PLUGINS is empty: no import plugin enabled"
    else
        _glance_import_ext_check_plugins "$names"
        if [[ ,$names, =~ ,staging_owner, && $names != staging_owner* ]]; then
            warn $LINENO "staging_owner should come first in GLANCE_IMPORT_EXT_PLUGINS"
        fi
    fi

    # Glance reads this option as a bracketed list.
    iniset $conf image_import_opts image_import_plugins "[$names]"
}


if is_service_enabled glance-import-ext; then

    if ! is_service_enabled g-api; then
        if [[ "$1" == "stack" && "$2" == "install" ]]; then
            warn $LINENO "glance-import-ext needs g-api; Glance is not enabled, nothing to do"
        fi

    elif [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing glance-import-ext"
        install_glance_import_ext

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring glance-import-ext"
        configure_glance_import_ext

    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        # Nothing to start: the plugins run inside glance-api.
        :
    fi

    if [[ "$1" == "unstack" ]]; then
        # No service of our own to stop.
        :
    fi

    if [[ "$1" == "clean" ]]; then
        # Glance's own cleanup removes its configuration; nothing else here.
        :
    fi
fi

# Restore xtrace
$_XTRACE_GLANCE_IMPORT_EXT
