#!/usr/bin/env bash
#
# tools/devstack_check.sh - run devstack/plugin.sh's phases against
# devstack's real functions, in a sandbox, and check what they write.
#
#   tools/devstack_check.sh DEVSTACK_DIR GLANCE_DIR [PYTHON]
#
# DEVSTACK_DIR  a devstack checkout (functions, inc/, lib/glance,
#               lib/tempest, extras.d/80-tempest.sh are used as they are)
# GLANCE_DIR    a Glance checkout: devstack's real configure_glance installs
#               its etc/glance-api-paste.ini, schema and metadefs
# PYTHON        a Python where glance-import-ext is installed (the
#               plugin's entry-point check runs it); default python3
#
# Not part of tox or CI (it needs both checkouts; exit 77 without them).
# Each scenario is a fresh bash process that follows stack.sh's order:
# [[local|localrc]] extracted by devstack's extract_localrc_section and
# sourced, lib/glance sourced, ``run_phase source`` (our settings),
# devstack's real configure_glance, ``run_phase stack install``,
# ``run_phase stack post-config``, merge_config_group post-config, g-api-r's
# real start_glance_remote_clone when enabled, merge_config_group extra,
# ``run_phase stack extra``, ``run_phase stack test-config`` (80-tempest.sh
# first) and merge_config_group test-config. Stubbed: sudo (runs the
# command), database/keystone/rpc/logging/uwsgi/systemd helpers,
# setup_develop, tempest's install and, in configure_tempest, everything
# but the image-import lines of devstack's lib/tempest (those are run).
#
# SHOW=0 hides the resulting ini snippets.

set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
DEVSTACK_DIR=${1:-${DEVSTACK_DIR:-}}
GLANCE_DIR=${2:-${GLANCE_DIR:-}}
CHECK_PYTHON=${3:-${CHECK_PYTHON:-python3}}
SHOW=${SHOW:-1}

if [[ ! -f "$DEVSTACK_DIR/functions" || ! -f "$DEVSTACK_DIR/lib/glance" ||
      ! -f "$GLANCE_DIR/etc/glance-api-paste.ini" ]]; then
    echo "usage: $0 DEVSTACK_DIR GLANCE_DIR [PYTHON] (skipped)" >&2
    exit 77
fi
DEVSTACK_DIR=$(cd "$DEVSTACK_DIR" && pwd)
GLANCE_DIR=$(cd "$GLANCE_DIR" && pwd)
CHECK_PYTHON=$(command -v "$CHECK_PYTHON") || { echo "no $CHECK_PYTHON" >&2; exit 77; }
[[ "$CHECK_PYTHON" == /* ]] || CHECK_PYTHON=$PWD/$CHECK_PYTHON

WORK=$(mktemp -d)
[[ "${KEEP:-0}" == 1 ]] && echo "work dir: $WORK" || trap 'rm -rf "$WORK"' EXIT
FAILED=0
SCENARIO=""
W=""

# The driver: one stack.sh run, cut down to what concerns Glance.
cat > "$WORK/driver.sh" <<'DRIVER'
W=$1 REPO=$2 TOP_DIR=$3 GLANCE_SRC=$4 CHECK_PYTHON=$5
RUN_DIR=${6:-$W}
source $TOP_DIR/functions

DEST=$W/opt DATA_DIR=$W/data STACK_USER=$(whoami)
SERVICE_HOST=127.0.0.1 SERVICE_LISTEN_ADDRESS=127.0.0.1 SERVICE_PROTOCOL=http
HOST_IP=127.0.0.1 REGION_NAME=RegionOne
GLANCE_CONF_DIR=$W/etc/glance SYSTEMD_DIR=$W/systemd SYSTEMCTL=true
ENABLE_DEBUG_LOG_LEVEL=True SYSLOG=False SERVICE_GRACEFUL_SHUTDOWN_TIMEOUT=60
LOGDIR=""
mkdir -p $DEST $DATA_DIR $SYSTEMD_DIR $W/etc
ln -s $REPO $DEST/glance-import-ext
ln -s $GLANCE_SRC $DEST/glance
ENABLED_SERVICES=g-api
DISABLED_SERVICES=""
PYTHON=$CHECK_PYTHON

# stack.sh: extract [[local|localrc]], then stackrc sources it
extract_localrc_section $W/local.conf $W/localrc $W/.localrc.auto
source $W/.localrc.auto

source $TOP_DIR/lib/glance
run_phase source
set -o errexit

# --- stubs for what would touch the system ---
function sudo { "$@"; }
function database_connection_url { echo "mysql+pymysql://root:pw@127.0.0.1/$1"; }
function configure_keystone_authtoken_middleware { iniset $1 keystone_authtoken auth_type password; }
function iniset_rpc_backend { :; }
function setup_logging { :; }
function write_local_uwsgi_http_config {
    printf '[uwsgi]\nhttp-socket = 127.0.0.1:60999\n' > $1
}
function write_uwsgi_user_unit_file { printf '[Service]\n' > $SYSTEMD_DIR/$1; }
function get_random_port { echo 60998; }
function get_or_create_service { :; }
function get_or_create_endpoint { :; }
function setup_develop { echo "STUB setup_develop $* (PIP_VIRTUAL_ENV=${PIP_VIRTUAL_ENV:-})"; }
function async_wait { :; }
function async_runfunc { echo "STUB async_runfunc $*"; }
function install_tempest_plugins { :; }
function configure_tempest {
    # the image-import lines of devstack's real configure_tempest
    local lines
    lines=$(sed -n '/iniset \$TEMPEST_CONFIG image-feature-enabled import_image/,/^    fi$/p' $TOP_DIR/lib/tempest)
    [[ -n "$lines" ]] || die $LINENO "lib/tempest changed: no import_image line"
    mkdir -p $TEMPEST_CONFIG_DIR
    eval "$lines"
}

cd $RUN_DIR
configure_glance
run_phase stack install
run_phase stack post-config
merge_config_group $W/local.conf post-config
if is_service_enabled g-api-r; then
    start_glance_remote_clone
fi
merge_config_group $W/local.conf extra
run_phase stack extra
merge_config_group $W/local.conf post-extra
run_phase stack test-config
merge_config_group $W/local.conf test-config
echo "DRIVER DONE"
DRIVER

# run <name> <local.conf> [run dir]: a fresh stack.sh-like run
function run {
    SCENARIO=$1
    W=$WORK/$1
    mkdir -p $W
    printf '%s\n' "$2" > $W/local.conf
    echo
    echo "=== $SCENARIO"
    (cd $W && bash $WORK/driver.sh $W $REPO $DEVSTACK_DIR $GLANCE_DIR \
        $CHECK_PYTHON "${3:-}" > $W/out 2> $W/trace)
    echo "exit status $?" >> $W/out
    grep -E 'WARNING|ERROR|glance-import-ext:|STUB|exit status|DRIVER DONE' $W/out | sed 's/^/  | /'
}

function iniget_py {
    "$CHECK_PYTHON" - "$@" <<'PYEOF'
import configparser, sys
path, section, option = sys.argv[1:4]
p = configparser.RawConfigParser(strict=False)
p.optionxform = str
p.read(path)
print(p.get(section, option, fallback='<absent>'))
PYEOF
}

# expect <description> <actual> <expected>
function expect {
    if [[ "$2" == "$3" ]]; then
        echo "  ok   $1"
    else
        echo "  FAIL $1: got [$2], expected [$3]"
        FAILED=$((FAILED + 1))
    fi
}

# expect_grep <description> <pattern> <file>
function expect_grep {
    if grep -qE -- "$2" "$3"; then
        echo "  ok   $1"
    else
        echo "  FAIL $1: no /$2/ in $3"
        FAILED=$((FAILED + 1))
    fi
}

function expect_no_grep {
    if ! grep -qE -- "$2" "$3"; then
        echo "  ok   $1"
    else
        echo "  FAIL $1: /$2/ in $3"
        FAILED=$((FAILED + 1))
    fi
}

# show <file> <section>...: the sections as written
function show {
    local file=$1 section
    shift
    [[ "$SHOW" == 1 ]] || return 0
    for section in "$@"; do
        echo "  --- ${file#$W/} [$section]"
        awk -v s="[$section]" '$0 == s {p=1; print; next} /^\[/ {p=0} p && NF' "$file" | sed 's/^/  /'
    done
}

CONF=etc/glance
PLUGINS_DEFAULT='[staging_owner,metadata_copy,glance_download_verify,checksum_verify]'
PIPE_WITH='cors http_proxy_to_wsgi versionnegotiation osprofiler authtoken context stage_host_check cache cachemanage rootapp'
FACTORY='glance_import_ext.middleware.stage_host_check:filter_factory'

# 1. defaults, with tempest
run default "[[local|localrc]]
enable_service tempest
enable_plugin glance-import-ext file://$REPO
[[post-config|\$GLANCE_IMAGE_IMPORT_CONF]]
[glance_import_ext]
heartbeat_interval = 30
[[post-config|\$GLANCE_API_PASTE_INI]]
[filter:stage_host_check]
retry_after = 10"
expect_grep "stack.sh ran to the end" 'DRIVER DONE' $W/out
expect "image_import_plugins" "$(iniget_py $W/$CONF/glance-image-import.conf image_import_opts image_import_plugins)" "$PLUGINS_DEFAULT"
expect "paste flavor (devstack's)" "$(iniget_py $W/$CONF/glance-api.conf paste_deploy flavor)" "keystone+cachemanagement"
expect "pipeline keystone+cachemanagement" "$(iniget_py $W/$CONF/glance-api-paste.ini composite:api keystone+cachemanagement)" "$PIPE_WITH"
expect "other pipelines untouched" "$(iniget_py $W/$CONF/glance-api-paste.ini composite:api keystone)" "$(iniget_py $GLANCE_DIR/etc/glance-api-paste.ini composite:api keystone)"
expect "filter section" "$(iniget_py $W/$CONF/glance-api-paste.ini filter:stage_host_check paste.filter_factory)" "$FACTORY"
expect "enabled_import_methods untouched" "$(iniget_py $W/$CONF/glance-api.conf DEFAULT enabled_import_methods)" "<absent>"
expect "post-config filter option" "$(iniget_py $W/$CONF/glance-api-paste.ini filter:stage_host_check retry_after)" "10"
expect "post-config option kept" "$(iniget_py $W/$CONF/glance-image-import.conf glance_import_ext heartbeat_interval)" "30"
expect "tempest import_image" "$(iniget_py $W/opt/tempest/etc/tempest.conf image-feature-enabled import_image)" "True"
expect "tempest os_glance_reserved" "$(iniget_py $W/opt/tempest/etc/tempest.conf image-feature-enabled os_glance_reserved)" "True"
expect_no_grep "no warning at extra" 'WARNING.*(not enabled|no stage_host_check|not first)' $W/out
expect_grep "warns: glance-download not enabled" 'WARNING.*lack glance-download' $W/out
expect_grep "pre-flight ran at extra: warnings only (no record_key)" 'WARNING glance-import-ext: pre-flight check of .*/glance-api.conf: warnings' $W/out
expect_grep "pre-flight table in the log" 'record_key is not set' $W/out
show $W/$CONF/glance-image-import.conf image_import_opts glance_import_ext
show $W/$CONF/glance-api.conf paste_deploy
show $W/$CONF/glance-api-paste.ini composite:api filter:stage_host_check
show $W/opt/tempest/etc/tempest.conf image-feature-enabled image

# Glance's own paste loading of the file devstack installed and we edited:
# the middleware chain glance-api builds for devstack's flavor
if "$CHECK_PYTHON" -c 'import glance.api, paste.deploy' 2> /dev/null; then
    CHAIN=$(cd $WORK && "$CHECK_PYTHON" - $W/$CONF/glance-api-paste.ini $WORK/cache <<'PYEOF' 2> $W/paste.log
import os
import sys

from oslo_config import cfg
from paste.deploy import loadapp

from glance.common import config  # noqa: F401 (paste_deploy options)
import glance.image_cache  # noqa: F401 (cache options)

ini, cache = sys.argv[1:3]
os.makedirs(cache, exist_ok=True)
CONF = cfg.CONF
CONF([], project='glance', default_config_files=[])
CONF.set_override('flavor', 'keystone+cachemanagement', 'paste_deploy')
CONF.set_override('image_cache_dir', cache)
CONF.set_override('image_cache_driver', 'sqlite')
app = loadapp('config:' + ini, name='glance-api-keystone+cachemanagement')
app = dict((path, sub) for (_, path), sub in app.applications)['']
names = []
while app is not None:
    names.append(type(app).__name__)
    app = next((getattr(app, a) for a in ('application', 'app', '_app')
                if getattr(app, a, None) is not None), None)
print(' '.join(names))
PYEOF
)
    echo "  (glance-api's middleware chain, as paste builds it: $CHAIN)"
    expect "StageHostCheck right after Glance's ContextMiddleware" \
        "$(grep -o 'ContextMiddleware [A-Za-z]*' <<< "$CHAIN")" "ContextMiddleware StageHostCheck"
else
    echo "  (skipped: $CHECK_PYTHON has no glance to load the paste pipeline)"
fi

# 2. idempotent: post-config twice (as after a re-run of the phase)
W2=$W
(
    cd $W2 && bash -c '
    source '"$DEVSTACK_DIR"'/functions
    GLANCE_API_CONF='"$W2/$CONF"'/glance-api.conf
    GLANCE_API_PASTE_INI='"$W2/$CONF"'/glance-api-paste.ini
    GLANCE_IMPORT_EXT_FILTER=stage_host_check
    source '"$REPO"'/devstack/plugin.sh none 2>/dev/null
    configure_glance_import_ext_paste' 2>/dev/null
)
expect "second post-config adds no second filter" "$(iniget_py $W2/$CONF/glance-api-paste.ini composite:api keystone+cachemanagement)" "$PIPE_WITH"

# 3. one-character file names in the directory the phases run in: devstack's
# iniset globs [staging_owner,...] unless set -f
mkdir -p $WORK/globdir
for f in s t a g i n o w e r m d c p y l u k h v f _ , ; do : > "$WORK/globdir/$f"; done
run glob "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO" $WORK/globdir
expect "image_import_plugins with s, t, a... files around" "$(iniget_py $W/$CONF/glance-image-import.conf image_import_opts image_import_plugins)" "$PLUGINS_DEFAULT"
expect "pipeline with them around" "$(iniget_py $W/$CONF/glance-api-paste.ini composite:api keystone+cachemanagement)" "$PIPE_WITH"
expect_no_grep "extra reads the list right with them around" 'WARNING.*not enabled' $W/out
# control: devstack's iniset without the guard, same directory
(cd $WORK/globdir && bash -c "source $DEVSTACK_DIR/functions; iniset $WORK/control.conf x y '$PLUGINS_DEFAULT'")
CONTROL=$(iniget_py $WORK/control.conf x y)
echo "  (control: devstack's iniset alone wrote y = $CONTROL)"
[[ "$CONTROL" != "$PLUGINS_DEFAULT" ]]
expect "control: devstack's iniset alone globs" "$?" "0"

# 4. set but empty: no plugin, said so
run empty "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
GLANCE_IMPORT_EXT_PLUGINS="
expect_grep "stack.sh ran to the end" 'DRIVER DONE' $W/out
expect "empty means empty" "$(iniget_py $W/$CONF/glance-image-import.conf image_import_opts image_import_plugins)" "[]"
expect_grep "warns at post-config" 'WARNING.*GLANCE_IMPORT_EXT_PLUGINS is empty' $W/out
show $W/$CONF/glance-image-import.conf image_import_opts

# 5. local.conf post-config replaces the list
run replaced "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
[[post-config|\$GLANCE_IMAGE_IMPORT_CONF]]
[image_import_opts]
image_import_plugins = ['image_conversion', 'checksum_verify']"
# checksum_verify after image_conversion: every import would fail, so the
# pre-flight stops stack.sh
expect_no_grep "stack.sh stopped at extra" 'DRIVER DONE' $W/out
expect_grep "the pre-flight names the rule" 'checksum_verify is listed after image_conversion' $W/out
expect_grep "the pre-flight failure stops it" 'ERROR.*pre-flight check of .*/glance-api.conf failed \(exit 2\)' $W/trace
expect_grep "warns at extra, naming what is missing" 'WARNING.*image_import_plugins = \[image_conversion,checksum_verify\]: staging_owner,metadata_copy,glance_download_verify of GLANCE_IMPORT_EXT_PLUGINS' $W/out
expect_grep "the console summary too" 'WARNING glance-import-ext: .*not enabled' $W/out
show $W/$CONF/glance-image-import.conf image_import_opts

run reordered "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
[[post-config|\$GLANCE_IMAGE_IMPORT_CONF]]
[image_import_opts]
image_import_plugins = [metadata_copy,staging_owner,glance_download_verify,checksum_verify]"
expect_grep "warns: staging_owner not first" 'WARNING.*staging_owner is not first' $W/out
expect_grep "the pre-flight fails it" 'staging_owner must be listed first' $W/out
expect_no_grep "and stops stack.sh" 'DRIVER DONE' $W/out

run no-preflight "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
GLANCE_IMPORT_EXT_PREFLIGHT=False
[[post-config|\$GLANCE_IMAGE_IMPORT_CONF]]
[image_import_opts]
image_import_plugins = [metadata_copy,staging_owner]"
expect_grep "GLANCE_IMPORT_EXT_PREFLIGHT=False: no pre-flight" 'DRIVER DONE' $W/out
expect_no_grep "nothing of it in the log" 'pre-flight' $W/out

# 6. local.conf post-config switches the paste flavor away from ours
run flavor "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
[[post-config|\$GLANCE_API_CONF]]
[paste_deploy]
flavor = keystone"
expect_grep "warns: filter not in the live pipeline" "WARNING.*paste flavor 'keystone' runs \[composite:api\] keystone = .*: no stage_host_check" $W/out

# 7. unknown plugin name, and a bracketed value: stack.sh stops
run unknown "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
GLANCE_IMPORT_EXT_PLUGINS=staging_owner,no_such_plugin"
expect_grep "dies" 'ERROR.*unknown import plugins: no_such_plugin' $W/trace
expect_no_grep "does not get to the end" 'DRIVER DONE' $W/out
run badname "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
GLANCE_IMPORT_EXT_PLUGINS='staging_owner checksum*'"
expect_grep "dies" "ERROR.*'checksum\*' is not an import plugin name" $W/trace
# Glance's own list syntax is read as the names it lists
run bracketed "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
GLANCE_IMPORT_EXT_PLUGINS=\"['staging_owner', 'checksum_verify']\""
expect "bracketed, quoted: the names" "$(iniget_py $W/$CONF/glance-image-import.conf image_import_opts image_import_plugins)" "[staging_owner,checksum_verify]"

# 8. g-api-r, multiple stores, glance-download enabled, tempest
run remote "[[local|localrc]]
enable_service tempest g-api-r
GLANCE_ENABLE_MULTIPLE_STORES=True
enable_plugin glance-import-ext file://$REPO
GLANCE_IMPORT_EXT_IMPORT_METHODS=glance-direct,web-download,copy-image,glance-download"
expect_grep "stack.sh ran to the end" 'DRIVER DONE' $W/out
expect "enabled_import_methods" "$(iniget_py $W/$CONF/glance-api.conf DEFAULT enabled_import_methods)" "[glance-direct,web-download,copy-image,glance-download]"
expect "g-api-r copied the plugin list" "$(iniget_py $W/etc/glance-remote/glance-image-import.conf image_import_opts image_import_plugins)" "$PLUGINS_DEFAULT"
expect "g-api-r copied the pipeline" "$(iniget_py $W/etc/glance-remote/glance-api-paste.ini composite:api keystone+cachemanagement)" "$PIPE_WITH"
expect "g-api-r stages on its own dir" "$(iniget_py $W/etc/glance-remote/glance-api.conf os_glance_staging_store filesystem_store_datadir)" "$W/data/glance-remote/os_glance_staging_store"
expect "g-api stages elsewhere" "$(iniget_py $W/$CONF/glance-api.conf os_glance_staging_store filesystem_store_datadir)" "$W/data/glance/os_glance_staging_store/"
expect_grep "extra checked g-api-r's copy" 'glance-import-ext: .*glance-remote/glance-image-import.conf: image_import_plugins' $W/out
expect_grep "the pre-flight checked g-api-r's copy" 'pre-flight check of .*glance-remote/glance-api.conf' $W/out
expect "tempest alternate endpoint" "$(iniget_py $W/opt/tempest/etc/tempest.conf image alternate_image_endpoint)" "image_remote"
expect_no_grep "no glance-download warning" 'lack glance-download' $W/out
show $W/$CONF/glance-api.conf DEFAULT os_glance_staging_store
show $W/etc/glance-remote/glance-api.conf os_glance_staging_store
show $W/opt/tempest/etc/tempest.conf image-feature-enabled image

# 9. g-api-r without multiple stores: both stage in node_staging_uri
run remote-single "[[local|localrc]]
enable_service g-api-r
enable_plugin glance-import-ext file://$REPO"
expect "no enabled_backends" "$(iniget_py $W/etc/glance-remote/glance-api.conf DEFAULT enabled_backends)" "<absent>"
expect "no node_staging_uri: Glance's default file:///tmp/staging/ for both" "$(iniget_py $W/etc/glance-remote/glance-api.conf DEFAULT node_staging_uri)/$(iniget_py $W/$CONF/glance-api.conf DEFAULT node_staging_uri)" "<absent>/<absent>"

# 10. disable_service glance-import-ext: nothing written
run disabled "[[local|localrc]]
enable_plugin glance-import-ext file://$REPO
disable_service glance-import-ext"
expect "devstack's own empty list" "$(iniget_py $W/$CONF/glance-image-import.conf image_import_opts image_import_plugins)" "[]"
expect "pipeline as Glance ships it" "$(iniget_py $W/$CONF/glance-api-paste.ini composite:api keystone+cachemanagement)" "$(iniget_py $GLANCE_DIR/etc/glance-api-paste.ini composite:api keystone+cachemanagement)"

echo
if [[ $FAILED -gt 0 ]]; then
    echo "$FAILED check(s) failed (logs: re-run with the work dir kept)"
    exit 1
fi
echo "all checks passed"
