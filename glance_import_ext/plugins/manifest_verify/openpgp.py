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

"""OpenPGP signature checks of vendor manifests with Debian's ``gpgv``.

No cryptography here: ``gpgv`` (the verify-only GnuPG tool apt and
simplestreams use) checks every signature; this module only prepares its
inputs and reads its ``--status-fd`` lines. A signature counts only when
``gpgv`` exits 0 and reports ``GOODSIG`` and ``VALIDSIG`` for every
signature it found: an expired or revoked key still exits 0 (with
``EXPKEYSIG``/``REVKEYSIG``), so the exit code alone is not enough.

Every run is isolated: a private temporary directory holds the homedir
(``~/.gnupg`` is never read), a copy of the keyring, the inputs and the
output, and is removed afterwards. Keyrings may be binary OpenPGP keyrings
(``gpg --export``), GnuPG keybox files (``pubring.kbx``) or ASCII-armored
public keys (``.asc``); ``gpgv`` 2.2 rejects armored keyrings ("invalid
packet"), so those are de-armored here (base64 and CRC-24 only).
"""

import base64
import binascii
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile

# A keyring is a handful of public keys; anything larger is a mistake.
MAX_KEYRING = 16 * 1024 * 1024
MAX_MESSAGE = 299
_STATUS = '[GNUPG:] '
# VALIDSIG hash algorithms nobody should sign manifests with (RFC 4880:
# 1 MD5, 2 SHA-1, 3 RIPEMD-160); apt refuses them too.
_WEAK_HASHES = {'1': 'MD5', '2': 'SHA-1', '3': 'RIPEMD-160'}
_HEX_FPR = re.compile(r'^(?:[0-9A-F]{40}|[0-9A-F]{64})$')
_HEX_ID = re.compile(r'^[0-9A-F]{8,64}$')
_ARMOR = re.compile(
    rb'-----BEGIN PGP ([A-Z0-9 ,/]+)-----[ \t]*\r?\n(.*?)'
    rb'-----END PGP \1-----', re.S)
# First byte of a public (0x98-0x9a, 0xc6) or secret (0x94-0x96, 0xc5)
# key packet: a binary keyring starts with one of them.
_KEY_PACKET_STARTS = frozenset((0x94, 0x95, 0x96, 0x98, 0x99, 0x9a, 0xc5,
                                0xc6))
_CLEARSIGN_BEGIN = b'-----BEGIN PGP SIGNED MESSAGE-----'
_SIGNATURE_BEGIN = b'-----BEGIN PGP SIGNATURE-----'
_SIGNATURE_END = b'-----END PGP SIGNATURE-----'


class SignatureError(Exception):
    """A signature or keyring is not good; ``str()`` says what to do."""

    def __init__(self, message):
        message = str(message)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE - 3] + '...'
        super().__init__(message)


def _short(value, limit=80):
    """``value`` as text, its start cut so that it fits in ``limit``."""
    text = str(value)
    if len(text) <= limit:
        return text
    return '...' + text[-(limit - 3):]


def gpgv_path():
    """The ``gpgv`` executable; SignatureError when it is not installed."""
    path = shutil.which('gpgv') or shutil.which('gpgv', path='/usr/bin:/bin')
    if not path:
        raise SignatureError(
            "gpgv not found: install Debian's 'gpgv' package on every "
            "glance-api host to check signed manifests")
    return path


# Keyrings ---------------------------------------------------------------

def _not_keyring(path, why):
    return SignatureError(
        'keyring %s is not an OpenPGP public keyring (%s); give a file '
        "made with 'gpg --export' or an armored public key (.asc)"
        % (_short(path), why))


def _packets(path, data):
    """(tag, body) of each packet of binary OpenPGP data (RFC 4880 4.2)."""
    pos = 0
    while pos < len(data):
        ctb = data[pos]
        if not ctb & 0x80:
            raise _not_keyring(path, 'bad packet header at byte %d' % pos)
        if ctb & 0x40:  # new format
            tag = ctb & 0x3f
            if pos + 1 >= len(data):
                raise _not_keyring(path, 'truncated')
            first_len = data[pos + 1]
            if first_len < 192:
                head, length = 2, first_len
            elif first_len < 224:
                if pos + 2 >= len(data):
                    raise _not_keyring(path, 'truncated')
                head = 3
                length = ((first_len - 192) << 8) + data[pos + 2] + 192
            elif first_len == 255:
                head = 6
                length = int.from_bytes(data[pos + 2:pos + 6], 'big')
            else:
                raise _not_keyring(path, 'partial packet at byte %d' % pos)
        else:  # old format
            tag = (ctb >> 2) & 0x0f
            len_type = ctb & 0x03
            if len_type == 3:
                raise _not_keyring(path, 'indeterminate packet length')
            size = (1, 2, 4)[len_type]
            head = 1 + size
            length = int.from_bytes(data[pos + 1:pos + head], 'big')
        if pos + head + length > len(data):
            raise _not_keyring(path, 'truncated')
        yield tag, data[pos + head:pos + head + length]
        pos += head + length


def _check_packets(path, data):
    """Check the packet framing of a binary keyring (RFC 4880 4.2)."""
    first = True
    for tag, _body in _packets(path, data):
        if first:
            if tag == 5:
                raise SignatureError(
                    'keyring %s holds a secret key: give only the public '
                    "key ('gpg --export KEYID'), never the secret one"
                    % _short(path))
            if tag != 6:
                raise _not_keyring(path, 'it does not start with a key')
            first = False


def _crc24(data):
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _dearmor(path, data):
    """The binary packets of every public key block of an armored file."""
    out = []
    for match in _ARMOR.finditer(data):
        kind = match.group(1)
        if kind.startswith(b'PRIVATE KEY'):
            raise SignatureError(
                'keyring %s holds a secret key: give only the public key '
                "('gpg --armor --export KEYID'), never the secret one"
                % _short(path))
        if kind != b'PUBLIC KEY BLOCK':
            continue
        lines = match.group(2).decode('ascii', 'replace').splitlines()
        lines = [line.strip() for line in lines]
        # Armor headers ("Comment: ...") end at the first blank line.
        if '' in lines and all(':' in line for line in
                               lines[:lines.index('')]):
            lines = lines[lines.index('') + 1:]
        body, checksum = [], None
        for line in lines:
            if not line:
                continue
            if line.startswith('=') and len(line) == 5:
                checksum = line[1:]
                break
            body.append(line)
        try:
            packets = base64.b64decode(''.join(body), validate=True)
            crc = base64.b64decode(checksum, validate=True) if checksum \
                else None
        except (binascii.Error, ValueError):
            raise _not_keyring(path, 'bad base64 in the armored key')
        if crc is not None and int.from_bytes(crc, 'big') != _crc24(
                packets):
            raise _not_keyring(path, 'armor checksum mismatch: corrupted')
        if not packets:
            raise _not_keyring(path, 'empty armored key block')
        _check_packets(path, packets)
        out.append(packets)
    if not out:
        raise _not_keyring(path, 'no PUBLIC KEY BLOCK in the armored file')
    return b''.join(out)


def _check_keybox(path, data):
    """Check a GnuPG keybox (``.kbx``) holds at least one OpenPGP key."""
    pos = 0
    keys = 0
    while pos + 5 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], 'big')
        if length < 5 or pos + length > len(data):
            raise _not_keyring(path, 'corrupted keybox')
        if data[pos + 4] == 2:
            keys += 1
        pos += length
    if not keys:
        raise _not_keyring(path, 'the keybox holds no OpenPGP key')


def _load_keyring(path):
    """The keyring as ``gpgv`` reads it: binary packets or a keybox."""
    if not path:
        raise SignatureError(
            'no keyring configured: set it to a file of the vendor\'s '
            'OpenPGP public keys')
    shown = _short(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise SignatureError(
                'keyring %s is not a regular file; give a file of '
                'OpenPGP public keys' % shown)
        with open(path, 'rb') as f:
            data = f.read(MAX_KEYRING + 1)
    except FileNotFoundError:
        raise SignatureError(
            'keyring %s does not exist; install the vendor\'s public key '
            'file there or fix the keyring option' % shown)
    except OSError as e:
        raise SignatureError(
            'cannot read keyring %s (%s); make it readable by the '
            'glance-api user' % (shown, e.strerror or e))
    if not data:
        raise _not_keyring(path, 'the file is empty')
    if len(data) > MAX_KEYRING:
        raise _not_keyring(path, 'larger than %d MiB' % (MAX_KEYRING >> 20))
    if data[8:12] == b'KBXf' and data[4] == 1:
        _check_keybox(path, data)
        return data
    if data[0] not in _KEY_PACKET_STARTS and \
            b'-----BEGIN PGP ' in data[:65536]:
        return _dearmor(path, data)
    _check_packets(path, data)
    return data


def check_keyring(path):
    """Raise SignatureError unless ``path`` is a readable public keyring.

    Accepts binary keyrings (``gpg --export``), GnuPG keybox files and
    ASCII-armored public keys; refuses secret keys. For option checks.
    """
    _load_keyring(path)


# Key expiry (for the pre-flight check) ----------------------------------
# Read from the packets without checking a signature: gpgv checks them
# when it verifies a manifest; this only tells an operator in advance.

_TAG_SIGNATURE = 2
_TAG_PUBLIC_KEY = 6
_TAG_PUBLIC_SUBKEY = 14
_USER_ID_SELF_SIGNATURES = frozenset((0x10, 0x11, 0x12, 0x13))
_DIRECT_KEY_SIGNATURE = 0x1f
_KEY_REVOCATION = 0x20
_SUB_CREATED, _SUB_KEY_EXPIRES = 2, 9
_SUB_ISSUER, _SUB_ISSUER_FPR = 16, 33


class KeyValidity:
    """A primary key of a keyring: when it expires, whether it is revoked.

    :param fingerprint: the key's fingerprint (upper-case hex), or None for
        a key version this module does not read (v3).
    :param created: when the key was made, seconds since the epoch.
    :param expires: when it expires, seconds since the epoch; None: never,
        or not read.
    :param revoked: the keyring holds the key's own revocation.
    """

    def __init__(self, fingerprint, created, expires=None, revoked=False):
        self.fingerprint = fingerprint
        self.created = created
        self.expires = expires
        self.revoked = revoked


def _subpackets(data):
    """(type, body) of signature subpackets (RFC 4880 5.2.3.1)."""
    pos = 0
    while pos < len(data):
        first = data[pos]
        if first < 192:
            head, length = 1, first
        elif first < 255:
            head = 2
            length = ((first - 192) << 8) + data[pos + 1] + 192
        else:
            head = 5
            length = int.from_bytes(data[pos + 1:pos + 5], 'big')
        body = data[pos + head:pos + head + length]
        if not body or len(body) != length:
            raise ValueError('bad subpacket')
        yield body[0] & 0x7f, body[1:]
        pos += head + length


def _signature(body):
    """(type, created, key expiry, issuers) of a v4-v6 signature, or None.

    Only the hashed area says when and for how long (the unhashed one is
    anyone's to edit); the issuer may be in either.
    """
    if len(body) < 6 or body[0] not in (4, 5, 6):
        return None
    count = 4 if body[0] == 6 else 2
    try:
        pos = 4
        hashed_len = int.from_bytes(body[pos:pos + count], 'big')
        hashed = body[pos + count:pos + count + hashed_len]
        pos += count + hashed_len
        unhashed_len = int.from_bytes(body[pos:pos + count], 'big')
        unhashed = body[pos + count:pos + count + unhashed_len]
        created, expiry, issuers = None, None, set()
        for kind, value in _subpackets(hashed):
            if kind == _SUB_CREATED and len(value) == 4:
                created = int.from_bytes(value, 'big')
            elif kind == _SUB_KEY_EXPIRES and len(value) == 4:
                expiry = int.from_bytes(value, 'big')
            elif kind in (_SUB_ISSUER, _SUB_ISSUER_FPR):
                issuers.add(value.hex().upper())
        for kind, value in _subpackets(unhashed):
            if kind in (_SUB_ISSUER, _SUB_ISSUER_FPR):
                issuers.add(value.hex().upper())
    except (IndexError, ValueError):
        return None
    return body[1], created or 0, expiry, issuers


def _primary_key(body):
    """(fingerprint, issuer forms) of a primary key packet; (None, ())."""
    version = body[0] if body else 0
    if version == 4:
        fpr = hashlib.sha1(b'\x99' + len(body).to_bytes(2, 'big') + body,
                           usedforsecurity=False).hexdigest().upper()
        # Issuer: key id (low 64 bits) or version 4 + fingerprint.
        return fpr, (fpr[-16:], '04' + fpr)
    if version in (5, 6):
        prefix = b'\x9a' if version == 5 else b'\x9b'
        fpr = hashlib.sha256(prefix + len(body).to_bytes(4, 'big') +
                             body).hexdigest().upper()
        return fpr, (fpr[:16], '%02X' % version + fpr)
    return None, ()


def key_validity(path):
    """The primary keys of keyring ``path``: [KeyValidity], or None.

    A key's expiry is the one its newest user-id self-signature states
    (else its newest direct-key signature's), as GnuPG reads it;
    signatures are not checked here. None for a GnuPG keybox (not read
    here). SignatureError as check_keyring.
    """
    data = _load_keyring(path)
    if data[8:12] == b'KBXf':
        return None
    keys = []
    key = None
    issuers = ()
    for tag, body in _packets(path, data):
        if tag == _TAG_PUBLIC_KEY:
            fpr, issuers = _primary_key(body)
            key = KeyValidity(fpr, int.from_bytes(body[1:5], 'big'))
            keys.append(key)
            # (kind, created) -> key expiry, of the newest of each kind
            newest = {}
        elif tag == _TAG_PUBLIC_SUBKEY:
            issuers = ()  # signatures from here on are about a subkey
        elif tag == _TAG_SIGNATURE and key is not None and issuers:
            sig = _signature(body)
            if sig is None or not sig[3] & set(issuers):
                continue
            kind, created, expiry, _ = sig
            if kind == _KEY_REVOCATION:
                key.revoked = True
                continue
            if kind in _USER_ID_SELF_SIGNATURES:
                kind = 'uid'
            elif kind != _DIRECT_KEY_SIGNATURE or expiry is None:
                continue
            if created >= newest.get(kind, (-1, None))[0]:
                newest[kind] = (created, expiry)
            expiry = (newest.get('uid') or newest.get(
                _DIRECT_KEY_SIGNATURE) or (0, None))[1]
            key.expires = key.created + expiry if expiry else None
    return keys


# Running gpgv -----------------------------------------------------------

def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)


def _run(workdir, keyring_path, keyring_data, args, timeout):
    """Run gpgv on files of ``workdir``; (exit code, status lines)."""
    gpgv = gpgv_path()
    home = os.path.join(workdir, 'home')
    os.mkdir(home, 0o700)
    ring = os.path.join(workdir, 'keyring.gpg')
    _write(ring, keyring_data)
    cmd = [gpgv, '--homedir', home, '--status-fd', '1',
           '--keyring', ring] + args
    env = {'PATH': '/usr/bin:/bin', 'LC_ALL': 'C', 'GNUPGHOME': home}
    try:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=workdir, env=env, timeout=timeout,
            close_fds=True, check=False)
    except subprocess.TimeoutExpired:
        raise SignatureError(
            'gpgv did not finish within %s s; check the glance-api host '
            '(load, gpgv) and retry the import' % timeout)
    except OSError as e:
        raise SignatureError(
            'cannot run gpgv (%s); reinstall Debian\'s gpgv package'
            % (e.strerror or e))
    status = []
    for line in proc.stdout.decode('utf-8', 'replace').splitlines():
        if line.startswith(_STATUS):
            status.append(line[len(_STATUS):].split(' '))
    return proc.returncode, status, proc.stderr


def _key_id(fields, index=1):
    value = fields[index].upper() if len(fields) > index else ''
    return value if _HEX_ID.match(value) else 'unknown'


def _judge(returncode, status, stderr, keyring, what):
    """The primary fingerprint of the good signer, or SignatureError."""
    signatures = sum(1 for f in status if f[0] == 'NEWSIG')
    by_word = {}
    for fields in status:
        by_word.setdefault(fields[0], []).append(fields)
    if not signatures or ('NODATA' in by_word and 'GOODSIG' not in by_word):
        raise SignatureError(
            'no signature found in the %s; give the vendor\'s signed file '
            '(or its detached .asc/.gpg/.sig signature)' % what)
    _refuse_bad(by_word, _short(keyring), what)
    good = by_word.get('GOODSIG', [])
    valid = by_word.get('VALIDSIG', [])
    if returncode != 0 or len(good) != signatures or \
            len(valid) != signatures:
        last = stderr.decode('utf-8', 'replace').strip().splitlines()
        raise SignatureError(
            'gpgv did not accept the signature of the %s (exit %d: %s)'
            % (what, returncode, _short(last[-1] if last else 'no output',
                                        120)))
    return _good_signer(valid, what)


def _refuse_bad(by_word, shown, what):
    """SignatureError for the first thing gpgv's status says is wrong."""
    if 'BADSIG' in by_word:
        raise SignatureError(
            'signature does not match the %s (tampered?): key %s signed '
            'other data; download the %s and its signature again'
            % (what, _key_id(by_word['BADSIG'][0]), what))
    for word, state in (('EXPKEYSIG', 'has expired'),
                        ('REVKEYSIG', 'was revoked')):
        if word in by_word:
            raise SignatureError(
                'signing key %s of keyring %s %s; get the vendor\'s '
                'current key and a manifest signed with it'
                % (_key_id(by_word[word][0]), shown, state))
    if 'EXPSIG' in by_word:
        raise SignatureError(
            'the signature of the %s (key %s) has expired; get a freshly '
            'signed %s from the vendor'
            % (what, _key_id(by_word['EXPSIG'][0]), what))
    if 'NO_PUBKEY' in by_word:
        # ERRSIG carries the signer's fingerprint, NO_PUBKEY its key ID.
        errsig = by_word.get('ERRSIG', [[]])[0]
        signer = _key_id(errsig, 7)
        if signer == 'unknown':
            signer = _key_id(by_word['NO_PUBKEY'][0])
        raise SignatureError(
            '%s is not signed by a key of keyring %s (signed by key %s); '
            'add the vendor\'s public key to the keyring if you trust it'
            % (what.capitalize(), shown, signer))
    if 'ERRSIG' in by_word:
        fields = by_word['ERRSIG'][0]
        code = fields[6] if len(fields) > 6 else '?'
        raise SignatureError(
            'signature of the %s by key %s cannot be checked (gpgv error '
            '%s: unsupported algorithm or damaged signature); ask the '
            'vendor for a standard signature'
            % (what, _key_id(fields, 1), _short(code, 10)))


def _good_signer(valid, what):
    """The primary fingerprint of the first VALIDSIG, each one strong."""
    fingerprint = None
    for fields in valid:
        if len(fields) > 8 and fields[8] in _WEAK_HASHES:
            raise SignatureError(
                'the %s is signed with the weak %s digest; ask the vendor '
                'for a SHA-256 (or stronger) signature'
                % (what, _WEAK_HASHES[fields[8]]))
        primary = (fields[10] if len(fields) > 10 else fields[1]).upper()
        if not _HEX_FPR.match(primary):
            raise SignatureError(
                'gpgv reported an unreadable key fingerprint; check the '
                'gpgv installation')
        fingerprint = fingerprint or primary
    return fingerprint


def _check_timeout(timeout):
    if not timeout or timeout <= 0:
        raise ValueError('timeout must be a positive number of seconds')


def verify_detached(data, signature, keyring, timeout=30):
    """Check a detached ``signature`` of ``data`` against ``keyring``.

    Returns the primary-key fingerprint (uppercase hex) of the signer;
    raises SignatureError when the signature is missing, bad, by a key
    not in the keyring, or by an expired or revoked key.
    """
    _check_timeout(timeout)
    ring = _load_keyring(keyring)
    if not signature or not signature.strip():
        raise SignatureError(
            'no signature found: the signature file is empty; give the '
            'vendor\'s detached signature (.asc/.gpg/.sig)')
    with tempfile.TemporaryDirectory(prefix='glance-openpgp-') as tmp:
        sig = os.path.join(tmp, 'signature')
        body = os.path.join(tmp, 'manifest')
        _write(sig, signature)
        _write(body, data)
        code, status, stderr = _run(tmp, keyring, ring, [sig, body],
                                    timeout)
    return _judge(code, status, stderr, keyring, 'manifest')


def _check_clearsigned(text):
    """Refuse anything but one clearsigned message, alone in ``text``."""
    lines = [line.rstrip(b' \t\r') for line in text.split(b'\n')]
    begins = lines.count(_CLEARSIGN_BEGIN)
    if not begins:
        raise SignatureError(
            'no signature found: the manifest is not clearsigned (no '
            "'%s' line); give the vendor's signed manifest"
            % _CLEARSIGN_BEGIN.decode())
    if begins > 1 or lines.count(_SIGNATURE_BEGIN) != 1 or \
            lines.count(_SIGNATURE_END) != 1:
        raise SignatureError(
            'the manifest holds several signed messages; give a manifest '
            'with exactly one clearsigned message')
    content = [i for i, line in enumerate(lines) if line.strip()]
    if lines[content[0]] != _CLEARSIGN_BEGIN or \
            lines[content[-1]] != _SIGNATURE_END:
        raise SignatureError(
            'the manifest has unsigned text before or after its signed '
            'part; give the vendor\'s file unchanged')


def verify_clearsigned(text, keyring, timeout=30):
    """Check a clearsigned ``text`` against ``keyring``.

    Returns ``(body, fingerprint)``: the signed body exactly as ``gpgv``
    writes it (dash-escaping removed; trailing blanks of each line, which
    clearsigning ignores, removed too) and the primary-key fingerprint of
    the signer. Only one clearsigned message, with nothing but blank lines
    around it, is accepted. Raises SignatureError like
    ``verify_detached``.
    """
    _check_timeout(timeout)
    ring = _load_keyring(keyring)
    _check_clearsigned(text)
    with tempfile.TemporaryDirectory(prefix='glance-openpgp-') as tmp:
        # No .asc/.sig suffix: gpgv would look for a detached data file.
        signed = os.path.join(tmp, 'signed')
        out = os.path.join(tmp, 'body')
        _write(signed, text)
        code, status, stderr = _run(tmp, keyring, ring,
                                    ['--output', out, signed], timeout)
        fingerprint = _judge(code, status, stderr, keyring, 'manifest')
        try:
            with open(out, 'rb') as f:
                body = f.read()
        except OSError:
            raise SignatureError(
                'gpgv wrote no signed text; check the gpgv installation')
    return body, fingerprint
