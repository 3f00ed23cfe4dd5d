#!/usr/bin/env bash
# Run every test: style and sample config (pep8), unit (py3), the
# functional tests against real glance-api 33, Keystone and MariaDB
# (functional), and CI's release matrix: on each older Glance release the
# library supports, 28 to 32, the functional tests that exercise the
# Glance internals whose shape differs between releases (release-glanceN,
# tests/functional/release-matrix.txt); and on a three-node MariaDB Galera
# cluster and on PostgreSQL, the tests the database's kind matters to
# (functional-galera, functional-postgresql: tests/functional/databases.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
exec .venv-tools/bin/tox \
    -e pep8,py3,functional,release-glance28,release-glance29,release-glance30,release-glance31,release-glance32,functional-galera,functional-postgresql \
    -- "$@"
