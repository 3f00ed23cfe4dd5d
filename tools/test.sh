#!/usr/bin/env bash
# Run every test: style and sample config (pep8), unit (py3), and the
# functional tests against real glance-api, Keystone and MariaDB.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
exec .venv-tools/bin/tox -e pep8,py3,functional -- "$@"
