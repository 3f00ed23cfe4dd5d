#!/usr/bin/env bash
# Prepare a machine that has only python3: tox and bindep in .venv-tools,
# then the distribution packages bindep.txt lists for the tests (MariaDB,
# Galera and PostgreSQL for the functional tests' databases, gpgv and
# gnupg), installed with apt as root or through sudo. Idempotent: a second
# run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=''
[ "$(id -u)" -eq 0 ] || sudo='sudo'

apt_install() {
    echo "Installing $* (Debian packages)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null
}

# Debian's python3 makes virtualenvs only with python3-venv (ensurepip);
# bindep.txt lists it too, but bindep itself needs a virtualenv first.
if [ ! -x .venv-tools/bin/python ] && ! python3 -c 'import ensurepip' \
        2>/dev/null; then
    apt_install python3-venv
fi

if [ ! -x .venv-tools/bin/tox ] || [ ! -x .venv-tools/bin/bindep ]; then
    [ -x .venv-tools/bin/python ] || python3 -m venv .venv-tools
    .venv-tools/bin/pip install -q --disable-pip-version-check \
        'tox>=4' 'bindep>=2.11.0'
fi

# bindep -b prints the missing packages of the profile, one a line, and
# exits 1 when there are some; another status is an error of its own.
status=0
missing=$(.venv-tools/bin/bindep -b -f bindep.txt test) || status=$?
if [ "$status" -gt 1 ]; then
    echo "bindep failed (exit $status): $missing" >&2
    exit "$status"
fi
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086  # one package name a word
    apt_install $missing
fi
