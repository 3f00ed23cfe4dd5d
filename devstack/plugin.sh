#!/bin/bash
#
# devstack/plugin.sh - devstack plugin for glance-import-ext
#
# stack.sh calls it as ``source plugin.sh <mode> [phase]``:
#
# - stack install:     install this repository into Glance's Python
#                      environment (editable, with devstack's constraints)
# - stack post-config: enable GLANCE_IMPORT_EXT_PLUGINS in
#                      $GLANCE_IMAGE_IMPORT_CONF, add the paste filter
#                      stage_host_check to the pipeline glance-api uses,
#                      optionally set Glance's enabled_import_methods
# - stack extra:       glance-api is running: check that its live
#                      configuration (after local.conf's post-config and
#                      extra sections) still has our plugins and filter,
#                      and warn in the stack log if not; then run the
#                      pre-flight check (glance-import-ext-status upgrade
#                      check) on it: a failure stops stack.sh
# - stack test-config: tempest's image import options
# - unstack, clean:    nothing to do (no service of our own)

# Save trace setting
_XTRACE_GLANCE_IMPORT_EXT=$(set +o | grep xtrace)
set -o xtrace

GLANCE_IMPORT_EXT_NAMESPACE=glance.image_import.plugins
GLANCE_IMPORT_EXT_FILTER=stage_host_check
GLANCE_IMPORT_EXT_FILTER_FACTORY=glance_import_ext.middleware.stage_host_check:filter_factory
# What Glance 33 accepts in [DEFAULT] enabled_import_methods.
GLANCE_IMPORT_EXT_KNOWN_METHODS=glance-direct,web-download,copy-image,glance-download


# _glance_import_ext_noglob <command> [args...] - run a command with
# pathname expansion off. devstack's iniset and iniget expand the value
# unquoted (``echo $value``), so a bracketed list such as
# ``[staging_owner,metadata_copy]`` is a glob: with a one-character file
# named ``s``, ``a``, ``,``... in the current directory, that file name
# would be written (or read) instead of the list.
function _glance_import_ext_noglob {
    local noglob rc=0
    noglob=$(set +o | grep noglob)
    set -f
    "$@" || rc=$?
    $noglob
    return $rc
}

# _glance_import_ext_split <comma list> - the items, one per line, without
# blanks, brackets, quotes or empty items. Reads our own variables and
# oslo.config list values ("[a, 'b',c]") alike.
function _glance_import_ext_split {
    local value=$1 item
    local noglob
    noglob=$(set +o | grep noglob)
    set -f
    value=${value//[\[\]\'\"]/ }
    for item in ${value//,/ }; do
        echo "$item"
    done
    $noglob
}

# _glance_import_ext_join <items...> - comma-joined
function _glance_import_ext_join {
    local IFS=,
    echo "$*"
}

# _glance_import_ext_normalize <comma list> - "a,b,c" (no blanks, brackets,
# quotes or empty items)
function _glance_import_ext_normalize {
    local items=()
    mapfile -t items < <(_glance_import_ext_split "$1")
    _glance_import_ext_join "${items[@]}"
}

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
# comma-separated names without blanks or empty entries (brackets and
# quotes, as in Glance's own "['a', 'b']", are dropped). Empty stays empty:
# no plugin. Dies on anything that is not a plugin name.
function _glance_import_ext_plugin_list {
    local name names=()
    while read -r name; do
        [[ -n "$name" ]] || continue
        if [[ ! "$name" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]]; then
            die $LINENO "GLANCE_IMPORT_EXT_PLUGINS: '$name' is not an import plugin name (give comma-separated names)"
        fi
        names+=("$name")
    done < <(_glance_import_ext_split "${GLANCE_IMPORT_EXT_PLUGINS-}")
    _glance_import_ext_join "${names[@]}"
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

# _glance_import_ext_flavor() - the paste flavor glance-api.conf selects
# (devstack's lib/glance sets keystone+cachemanagement); Glance's
# pipeline_factory uses 'default' when it is unset.
function _glance_import_ext_flavor {
    local flavor
    flavor=$(_glance_import_ext_noglob iniget $GLANCE_API_CONF paste_deploy flavor)
    echo "${flavor:-default}"
}

# _glance_import_ext_pipeline_location <paste ini> <flavor> - "section
# option" holding the pipeline glance-api runs for this flavor: Glance's
# [composite:api] (glance.api:pipeline_factory, one option per flavor) or
# an older [pipeline:glance-api-<flavor>]. Nothing if neither exists.
function _glance_import_ext_pipeline_location {
    local paste=$1 flavor=$2
    if ini_has_option "$paste" composite:api "$flavor"; then
        echo "composite:api $flavor"
    elif [[ "$flavor" == default ]] && ini_has_option "$paste" pipeline:glance-api pipeline; then
        echo "pipeline:glance-api pipeline"
    elif ini_has_option "$paste" "pipeline:glance-api-$flavor" pipeline; then
        echo "pipeline:glance-api-$flavor pipeline"
    fi
}

# configure_glance_import_ext_paste() - add the stage_host_check filter
# right after ``context`` in the pipeline of the flavor glance-api uses
function configure_glance_import_ext_paste {
    local paste=${GLANCE_API_PASTE_INI:-$GLANCE_CONF_DIR/glance-api-paste.ini}
    local flavor location section option pipeline word words=() new=() placed=""

    flavor=$(_glance_import_ext_flavor)
    location=$(_glance_import_ext_pipeline_location "$paste" "$flavor")
    if [[ -z "$location" ]]; then
        die $LINENO "No pipeline for paste flavor '$flavor' in $paste: cannot add $GLANCE_IMPORT_EXT_FILTER (set GLANCE_IMPORT_EXT_STAGE_HOST_CHECK=False to go without it)"
    fi
    read -r section option <<< "$location"

    _glance_import_ext_noglob iniset $paste filter:$GLANCE_IMPORT_EXT_FILTER \
        paste.filter_factory $GLANCE_IMPORT_EXT_FILTER_FACTORY

    pipeline=$(_glance_import_ext_noglob iniget $paste $section $option)
    if [[ " $pipeline " == *" $GLANCE_IMPORT_EXT_FILTER "* ]]; then
        return 0
    fi
    # After the request context: Glance's ``context`` (keystone flavors) or
    # ``unauthenticated-context`` (the others).
    read -r -a words <<< "$pipeline"
    for word in "${words[@]}"; do
        new+=("$word")
        if [[ -z "$placed" && ( "$word" == context || "$word" == unauthenticated-context ) ]]; then
            new+=("$GLANCE_IMPORT_EXT_FILTER")
            placed=$word
        fi
    done
    if [[ -z "$placed" ]]; then
        die $LINENO "[$section] $option in $paste has no context filter to put $GLANCE_IMPORT_EXT_FILTER after: $pipeline"
    fi
    _glance_import_ext_noglob iniset $paste $section $option "${new[*]}"
}

# configure_glance_import_ext_methods() - GLANCE_IMPORT_EXT_IMPORT_METHODS,
# if set, becomes Glance's [DEFAULT] enabled_import_methods
function configure_glance_import_ext_methods {
    local method methods=()
    while read -r method; do
        [[ -n "$method" ]] || continue
        if [[ ",$GLANCE_IMPORT_EXT_KNOWN_METHODS," != *",$method,"* ]]; then
            die $LINENO "GLANCE_IMPORT_EXT_IMPORT_METHODS: unknown import method '$method' (Glance knows $GLANCE_IMPORT_EXT_KNOWN_METHODS)"
        fi
        methods+=("$method")
    done < <(_glance_import_ext_split "${GLANCE_IMPORT_EXT_IMPORT_METHODS-}")
    if [[ ${#methods[@]} -eq 0 ]]; then
        return 0  # leave Glance's (and devstack's) choice alone
    fi
    _glance_import_ext_noglob iniset $GLANCE_API_CONF DEFAULT \
        enabled_import_methods "[$(_glance_import_ext_join "${methods[@]}")]"
}

# configure_glance_import_ext() - enable the import plugins in Glance
function configure_glance_import_ext {
    local conf=${GLANCE_IMAGE_IMPORT_CONF:-$GLANCE_CONF_DIR/glance-image-import.conf}
    local names
    names=$(_glance_import_ext_plugin_list) || exit $?

    if [[ -z "$names" ]]; then
        warn $LINENO "glance-import-ext: GLANCE_IMPORT_EXT_PLUGINS is empty: Glance runs no import plugin (image_import_plugins = [])"
    else
        _glance_import_ext_check_plugins "$names"
        if [[ ,$names, =~ ,staging_owner, && $names != staging_owner* ]]; then
            warn $LINENO "glance-import-ext: staging_owner should come first in GLANCE_IMPORT_EXT_PLUGINS"
        fi
    fi

    # Glance reads this option as a bracketed list: no globbing.
    _glance_import_ext_noglob iniset $conf image_import_opts image_import_plugins "[$names]"

    if [[ "$GLANCE_IMPORT_EXT_STAGE_HOST_CHECK" == "True" ]]; then
        configure_glance_import_ext_paste
    fi
    configure_glance_import_ext_methods
}

# _glance_import_ext_warn <message> - a warning that stands out in the
# stack log (devstack's warn writes to stdout, i.e. the log) and a pointer
# to it in the summary on the console
function _glance_import_ext_warn {
    warn $LINENO "glance-import-ext: $1"
    echo_summary "WARNING glance-import-ext: $1"
}

# _glance_import_ext_check_live <image import conf> <paste ini> <api conf>
# - warn if what glance-api reads lacks our plugins or filter
function _glance_import_ext_check_live {
    local conf=$1 paste=$2 api_conf=$3
    local live names name missing=() flavor location section option pipeline

    names=$(_glance_import_ext_plugin_list) || exit $?
    if [[ ! -f "$conf" ]]; then
        _glance_import_ext_warn "$conf does not exist: glance-api runs no import plugin"
        return 0
    fi
    live=$(_glance_import_ext_noglob iniget $conf image_import_opts image_import_plugins)
    live=$(_glance_import_ext_normalize "$live")
    while read -r name; do
        if [[ -n "$name" && ",$live," != *",$name,"* ]]; then
            missing+=("$name")
        fi
    done < <(_glance_import_ext_split "$names")
    if [[ ${#missing[@]} -gt 0 ]]; then
        _glance_import_ext_warn "$conf lists image_import_plugins = [$live]: $(_glance_import_ext_join "${missing[@]}") of GLANCE_IMPORT_EXT_PLUGINS=$names not enabled (a local.conf post-config section replaced the list?)"
    elif [[ -n "$names" && ,$names, == *,staging_owner,* && $live != staging_owner* ]]; then
        _glance_import_ext_warn "$conf lists image_import_plugins = [$live]: staging_owner is not first"
    else
        echo "glance-import-ext: $conf: image_import_plugins = [$live]"
    fi

    if [[ "$GLANCE_IMPORT_EXT_STAGE_HOST_CHECK" != "True" ]]; then
        return 0
    fi
    flavor=$(GLANCE_API_CONF=$api_conf _glance_import_ext_flavor)
    location=$(_glance_import_ext_pipeline_location "$paste" "$flavor")
    if [[ -z "$location" ]]; then
        _glance_import_ext_warn "$paste has no pipeline for paste flavor '$flavor': $GLANCE_IMPORT_EXT_FILTER is not in use"
        return 0
    fi
    read -r section option <<< "$location"
    pipeline=$(_glance_import_ext_noglob iniget $paste $section $option)
    if [[ " $pipeline " != *" $GLANCE_IMPORT_EXT_FILTER "* ]]; then
        _glance_import_ext_warn "paste flavor '$flavor' runs [$section] $option = $pipeline: no $GLANCE_IMPORT_EXT_FILTER"
    elif ! ini_has_option "$paste" filter:$GLANCE_IMPORT_EXT_FILTER paste.filter_factory; then
        _glance_import_ext_warn "$paste: [$section] $option uses $GLANCE_IMPORT_EXT_FILTER but [filter:$GLANCE_IMPORT_EXT_FILTER] has no paste.filter_factory"
    else
        echo "glance-import-ext: $paste: [$section] $option = $pipeline"
    fi
}

# _glance_import_ext_preflight <api conf> - the pre-flight check
# (glance-import-ext-status upgrade check) with glance-api's Python, on the
# configuration glance-api runs with (glance-image-import.conf and the paste
# file beside <api conf>): die on a failure (exit 2, or a crash), warn on
# warnings (exit 1). Its table goes to the stack log.
function _glance_import_ext_preflight {
    local api_conf=$1 python rc=0
    python=$(_glance_import_ext_python)
    if ! $python -c 'import glance_import_ext.cmd.status' 2> /dev/null; then
        die $LINENO "glance-import-ext: $python cannot import glance_import_ext: it is not installed where glance-api runs"
    fi
    $python -m glance_import_ext.cmd.status --config-file "$api_conf" \
        upgrade check || rc=$?
    case $rc in
        0)
            echo "glance-import-ext: pre-flight check of $api_conf passed"
            ;;
        1)
            _glance_import_ext_warn "pre-flight check of $api_conf: warnings (the table above in the stack log says what to do)"
            ;;
        *)
            die $LINENO "glance-import-ext: pre-flight check of $api_conf failed (exit $rc): every import would fail or run unchecked; the table above in the stack log says what to fix"
            ;;
    esac
}

# check_glance_import_ext() - in the extra phase glance-api (and g-api-r,
# which copied $GLANCE_CONF_DIR when it started) run with their final
# configuration: local.conf's post-config and extra sections are merged.
function check_glance_import_ext {
    local conf=${GLANCE_IMAGE_IMPORT_CONF:-$GLANCE_CONF_DIR/glance-image-import.conf}
    local paste=${GLANCE_API_PASTE_INI:-$GLANCE_CONF_DIR/glance-api-paste.ini}
    local remote=False
    if is_service_enabled g-api-r && type -t glance_remote_conf > /dev/null; then
        remote=True
    fi
    _glance_import_ext_check_live "$conf" "$paste" "$GLANCE_API_CONF"
    if [[ "$remote" == "True" ]]; then
        _glance_import_ext_check_live "$(glance_remote_conf "$conf")" \
            "$(glance_remote_conf "$paste")" "$(glance_remote_conf "$GLANCE_API_CONF")"
    fi
    if [[ "$GLANCE_IMPORT_EXT_PREFLIGHT" != "True" ]]; then
        return 0
    fi
    _glance_import_ext_preflight "$GLANCE_API_CONF"
    if [[ "$remote" == "True" ]]; then
        _glance_import_ext_preflight "$(glance_remote_conf "$GLANCE_API_CONF")"
    fi
}

# configure_tempest_glance_import_ext() - tempest's image import options.
# Runs after devstack's configure_tempest (extras.d goes first in every
# phase), which sets import_image from GLANCE_USE_IMPORT_WORKFLOW (False by
# default: tempest would skip every import test). Tempest has no option for
# the import methods: it asks Glance (GET /v2/info/import) and skips the
# tests of a method Glance does not offer.
function configure_tempest_glance_import_ext {
    local methods names
    iniset $TEMPEST_CONFIG image-feature-enabled import_image True
    # Glance reserves the os_glance_ namespace since Wallaby.
    iniset $TEMPEST_CONFIG image-feature-enabled os_glance_reserved True
    if is_service_enabled g-api-r; then
        # as devstack's configure_tempest: test_remote_import proxies
        iniset $TEMPEST_CONFIG image alternate_image_endpoint image_remote
    fi

    methods=$(_glance_import_ext_noglob iniget $GLANCE_API_CONF DEFAULT enabled_import_methods)
    methods=$(_glance_import_ext_normalize "$methods")
    if [[ -z "$methods" ]]; then
        methods="glance-direct,web-download,copy-image (Glance's default)"
    fi
    echo "glance-import-ext: tempest will find Glance's import methods: $methods"
    names=$(_glance_import_ext_plugin_list) || exit $?
    if [[ ,$names, == *,glance_download_verify,* && ,$methods, != *,glance-download,* ]]; then
        _glance_import_ext_warn "glance_download_verify is enabled but Glance's enabled_import_methods lack glance-download: tempest skips the glance-download tests (set GLANCE_IMPORT_EXT_IMPORT_METHODS)"
    fi
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
        # Nothing to start (the plugins run inside glance-api): check what
        # it runs with.
        echo_summary "Checking glance-import-ext's configuration"
        check_glance_import_ext

    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        if is_service_enabled tempest; then
            echo_summary "Configuring tempest for glance-import-ext"
            configure_tempest_glance_import_ext
        fi
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
