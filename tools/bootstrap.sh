#!/usr/bin/env bash
# Prepare a machine that has only python3: MariaDB (Debian's package, for
# the functional tests' database) and tox in .venv-tools.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    sudo=''
    [ "$(id -u)" -eq 0 ] || sudo='sudo'
    echo "Installing mariadb-server (Debian package) for the functional tests"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends mariadb-server >/dev/null
fi

if [ ! -x .venv-tools/bin/tox ]; then
    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -q --disable-pip-version-check 'tox>=4'
fi
