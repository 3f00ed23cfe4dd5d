#!/usr/bin/env bash
# The functional tests against each older Glance release the library
# supports (28 to 32; tools/test.sh runs them on 33), one tox env each
# (functional-glanceN, pinned by constraints/glance-N.txt).
#
#   tools/test-releases.sh                 # 28 29 30 31 32, whole suite
#   tools/test-releases.sh 28 32           # some releases
#   tools/test-releases.sh 29 -- test_staging_owner   # stestr arguments
#
# FUNCTIONAL_CONCURRENCY (default 2) sets stestr's --concurrency.
set -euo pipefail
cd "$(dirname "$0")/.."
releases=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
        28|29|30|31|32) releases+=("$1") ;;
        33) echo "Glance 33: tox -e functional (tools/test.sh)" >&2; exit 2 ;;
        *) echo "unknown Glance release '$1' (28 to 32)" >&2; exit 2 ;;
    esac
    shift
done
[ "${1:-}" != "--" ] || shift
[ "${#releases[@]}" -gt 0 ] || releases=(28 29 30 31 32)
tools/bootstrap.sh
envs=$(printf 'functional-glance%s,' "${releases[@]}")
exec .venv-tools/bin/tox -e "${envs%,}" -- "$@"
