#!/usr/bin/env bash
# Start a local cloud (Keystone, two Glance regions, the plugins enabled),
# import images through it and print what each plugin did.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
exec .venv-tools/bin/tox -e demo -- "$@"
