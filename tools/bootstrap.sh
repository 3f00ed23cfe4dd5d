#!/usr/bin/env bash
# Prepare a machine that has only python3: MariaDB (Debian's package, for
# the functional tests' database), gpgv and gnupg, and tox in .venv-tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages still missing: MariaDB for the functional tests' database,
# gpgv (verifies signed manifests) and gnupg (the tests make keys with gpg).
packages=()
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    packages+=(mariadb-server)
fi
command -v gpgv >/dev/null || packages+=(gpgv)
{ command -v gpg && command -v gpg-agent; } >/dev/null || packages+=(gnupg)
if [ "${#packages[@]}" -gt 0 ]; then
    sudo=''
    [ "$(id -u)" -eq 0 ] || sudo='sudo'
    echo "Installing ${packages[*]} (Debian packages)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${packages[@]}" >/dev/null
fi

if [ ! -x .venv-tools/bin/tox ]; then
    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -q --disable-pip-version-check 'tox>=4'
fi
