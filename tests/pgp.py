# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Real OpenPGP keys and signatures for tests, made with ``gpg --batch``.

Each key lives in its own GnuPG homedir under /tmp with a short name (the
gpg-agent socket must fit the ~107 character unix socket limit). Signing
starts a gpg-agent for that homedir; ``cleanup(key)`` kills it and removes
the homedir, and anything left at exit is cleaned up the same way. Keys
are ed25519 without passphrase: a key takes a few tens of milliseconds.

    key = pgp.make_key(self.useFixture(fixtures.TempDir()).path, 'Vendor')
    self.addCleanup(pgp.cleanup, key)
    sig = pgp.sign_detached(key, b'data')
"""

import atexit
import collections
import os
import shutil
import subprocess
import tempfile

GPG = shutil.which('gpg') or '/usr/bin/gpg'
GPGCONF = shutil.which('gpgconf') or '/usr/bin/gpgconf'
# Expired keys are made and used in the past: valid for one day from then.
PAST = '20200101T000000'
PAST_SIGNING = '20200101T010000'

Key = collections.namedtuple(
    'Key', 'keyring_path armored_path fingerprint homedir faked_time')

_HOMEDIRS = set()


def _gpg(homedir, *args, data=None, faked_time=None):
    cmd = [GPG, '--batch', '--quiet', '--no-tty', '--homedir', homedir,
           '--pinentry-mode', 'loopback', '--passphrase', '']
    if faked_time:
        cmd += ['--faked-system-time', faked_time]
    proc = subprocess.run(
        cmd + list(args), input=data or b'', stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=60,
        env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
             'LC_ALL': 'C'})
    if proc.returncode:
        raise RuntimeError('gpg %s failed: %s' % (
            ' '.join(args), proc.stderr.decode('utf-8', 'replace')))
    return proc.stdout


def _export(key_home, fingerprint, tmpdir, name):
    slug = ''.join(c if c.isalnum() else '-' for c in name.lower())
    keyring = os.path.join(tmpdir, slug + '.gpg')
    armored = os.path.join(tmpdir, slug + '.asc')
    with open(keyring, 'wb') as f:
        f.write(_gpg(key_home, '--export', fingerprint))
    with open(armored, 'wb') as f:
        f.write(_gpg(key_home, '--armor', '--export', fingerprint))
    return keyring, armored


def make_key(tmpdir, name, expired=False, in_past=False):
    """A new signing key: its keyring files are written into ``tmpdir``.

    ``keyring_path`` is a binary keyring (``gpg --export``) and
    ``armored_path`` the same key ASCII-armored (.asc). With ``expired``
    the key is made on 2020-01-01, valid one day, and signs with that
    date, so its signatures are by an expired key today. With ``in_past``
    the key is made on 2020-01-01 too but never expires (for signatures
    that expire: ``sign_detached(..., expire='1d')``).
    """
    homedir = tempfile.mkdtemp(prefix='gpg', dir='/tmp')
    _HOMEDIRS.add(homedir)
    in_past = in_past or expired
    email = ''.join(c for c in name.lower() if c.isalnum()) or 'key'
    _gpg(homedir, '--quick-gen-key', '%s <%s@example.org>' % (name, email),
         'ed25519', 'sign', '1d' if expired or not in_past else 'never',
         faked_time=PAST if in_past else None)
    listing = _gpg(homedir, '--with-colons', '--list-keys').decode()
    fingerprint = next(line.split(':')[9] for line in listing.splitlines()
                       if line.startswith('fpr:'))
    keyring, armored = _export(homedir, fingerprint, tmpdir, name)
    return Key(keyring, armored, fingerprint, homedir,
               PAST_SIGNING if in_past else None)


def revoke(key):
    """Revoke ``key`` and export it again (same files, now revoked)."""
    cert = os.path.join(key.homedir, 'openpgp-revocs.d',
                        key.fingerprint + '.rev')
    with open(cert, 'rb') as f:
        text = f.read().replace(b'\n:-----BEGIN', b'\n-----BEGIN')
    _gpg(key.homedir, '--import', data=text)
    _export(key.homedir, key.fingerprint, os.path.dirname(key.keyring_path),
            os.path.basename(key.keyring_path)[:-len('.gpg')])
    return key


def sign_detached(key, data, armor=False, expire=None):
    """A detached signature of ``data`` by ``key`` (binary or armored).

    ``expire`` (a gpg period such as '1d') makes a signature that expires;
    with a key made ``in_past`` it has expired today.
    """
    args = ['--local-user', key.fingerprint, '--detach-sign',
            '--output', '-']
    if armor:
        args.insert(0, '--armor')
    if expire:
        args[:0] = ['--default-sig-expire', expire]
    return _gpg(key.homedir, *args, data=data, faked_time=key.faked_time)


def clearsign(key, text):
    """``text`` clearsigned by ``key``."""
    return _gpg(key.homedir, '--local-user', key.fingerprint, '--clearsign',
                '--output', '-', data=text, faked_time=key.faked_time)


def cleanup(key):
    """Kill the key's gpg-agent and remove its homedir."""
    _remove(key.homedir)


def _remove(homedir):
    if homedir not in _HOMEDIRS:
        return
    _HOMEDIRS.discard(homedir)
    try:
        subprocess.run([GPGCONF, '--homedir', homedir, '--kill', 'all'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)
    finally:
        shutil.rmtree(homedir, ignore_errors=True)


@atexit.register
def _cleanup_all():
    for homedir in list(_HOMEDIRS):
        _remove(homedir)
