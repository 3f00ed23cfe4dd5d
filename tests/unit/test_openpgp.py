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

"""openpgp: real gpgv, real keys and signatures made by gpg at run time."""

import os
import subprocess
import tempfile
from unittest import mock

import fixtures
import testtools

from glance_import_ext.plugins.manifest_verify import openpgp
from tests import pgp

MANIFEST = (b'0123abcd *disk.qcow2\n'
            b'-- a line that starts with dashes\n'
            b'- and another\n'
            b'-----BEGIN PGP SIGNED MESSAGE-----\n'
            b'last line  \n')
# Clearsigning ignores trailing blanks (RFC 4880 7.1): gpgv drops them.
SIGNED_BODY = MANIFEST.replace(b'  \n', b'\n')


class Base(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def key(self, name='Vendor', **kwargs):
        key = pgp.make_key(self.tmp, name, **kwargs)
        self.addCleanup(pgp.cleanup, key)
        return key

    def file(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def assertFails(self, pattern, func, *args, **kwargs):
        e = self.assertRaises(openpgp.SignatureError, func, *args, **kwargs)
        self.assertRegex(str(e), pattern)
        self.assertLess(len(str(e)), 300)
        return e


class TestDetached(Base):

    def setUp(self):
        super().setUp()
        self.vendor = self.key()

    def test_binary_signature_binary_keyring(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        self.assertEqual(self.vendor.fingerprint, openpgp.verify_detached(
            MANIFEST, sig, self.vendor.keyring_path))

    def test_armored_signature_armored_keyring(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST, armor=True)
        self.assertTrue(sig.startswith(b'-----BEGIN PGP SIGNATURE-----'))
        self.assertEqual(self.vendor.fingerprint, openpgp.verify_detached(
            MANIFEST, sig, self.vendor.armored_path))

    def test_mixed_formats(self):
        binary = pgp.sign_detached(self.vendor, MANIFEST)
        armored = pgp.sign_detached(self.vendor, MANIFEST, armor=True)
        for sig, ring in ((binary, self.vendor.armored_path),
                          (armored, self.vendor.keyring_path)):
            self.assertEqual(self.vendor.fingerprint,
                             openpgp.verify_detached(MANIFEST, sig, ring))

    def test_fingerprint_is_uppercase_hex(self):
        fpr = openpgp.verify_detached(
            MANIFEST, pgp.sign_detached(self.vendor, MANIFEST),
            self.vendor.keyring_path)
        self.assertRegex(fpr, '^[0-9A-F]{40}$')

    def test_keyring_of_several_armored_keys(self):
        other = self.key('Other')
        with open(other.armored_path, 'rb') as f:
            first = f.read()
        with open(self.vendor.armored_path, 'rb') as f:
            second = f.read()
        ring = self.file('both.asc', b'Two keys:\n' + first + b'\n' + second)
        for key in (self.vendor, other):
            sig = pgp.sign_detached(key, MANIFEST)
            self.assertEqual(key.fingerprint,
                             openpgp.verify_detached(MANIFEST, sig, ring))

    def test_keybox_keyring(self):
        ring = os.path.join(self.vendor.homedir, 'pubring.kbx')
        openpgp.check_keyring(ring)
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        self.assertEqual(self.vendor.fingerprint,
                         openpgp.verify_detached(MANIFEST, sig, ring))

    def test_empty_data(self):
        sig = pgp.sign_detached(self.vendor, b'')
        self.assertEqual(self.vendor.fingerprint, openpgp.verify_detached(
            b'', sig, self.vendor.keyring_path))

    def test_wrong_key(self):
        other = self.key('Other')
        sig = pgp.sign_detached(other, MANIFEST)
        e = self.assertFails(
            'not signed by a key of keyring .*vendor.gpg', openpgp.
            verify_detached, MANIFEST, sig, self.vendor.keyring_path)
        self.assertIn(other.fingerprint, str(e))

    def test_tampered_data(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        self.assertFails(
            r'does not match the manifest \(tampered\?\)',
            openpgp.verify_detached, MANIFEST.replace(b'0123', b'0124'),
            sig, self.vendor.keyring_path)

    def test_garbage_signature(self):
        for garbage in (b'not a signature', os.urandom(200), b'',
                        b'-----BEGIN PGP SIGNATURE-----\n\nAAAA\n'
                        b'-----END PGP SIGNATURE-----\n'):
            self.assertFails('no signature found', openpgp.verify_detached,
                             MANIFEST, garbage, self.vendor.keyring_path)

    def test_inline_signed_message_is_not_a_detached_signature(self):
        inline = pgp._gpg(self.vendor.homedir, '--sign', '--output', '-',
                          data=b'other data')
        # gpgv: "not a detached signature", before any NEWSIG.
        self.assertFails('no signature found', openpgp.verify_detached,
                         MANIFEST, inline, self.vendor.keyring_path)

    def test_expired_key(self):
        old = self.key('Old', expired=True)
        sig = pgp.sign_detached(old, MANIFEST)
        self.assertFails('signing key %s of keyring .* has expired'
                         % old.fingerprint[-16:], openpgp.verify_detached,
                         MANIFEST, sig, old.keyring_path)

    def test_revoked_key(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        pgp.revoke(self.vendor)
        self.assertFails('was revoked', openpgp.verify_detached,
                         MANIFEST, sig, self.vendor.keyring_path)

    def test_expired_signature(self):
        key = self.key('Past', in_past=True)
        sig = pgp.sign_detached(key, MANIFEST, expire='1d')
        self.assertFails('signature of the manifest .* has expired',
                         openpgp.verify_detached, MANIFEST, sig,
                         key.keyring_path)

    def test_long_keyring_path_keeps_message_bounded(self):
        deep = os.path.join(self.tmp, *(['d' * 50] * 5))
        os.makedirs(deep)
        ring = os.path.join(deep, 'vendor.gpg')
        with open(self.vendor.keyring_path, 'rb') as f:
            self.file(ring, f.read())
        sig = pgp.sign_detached(self.key('Other'), MANIFEST)
        self.assertFails('add the vendor\'s public key',
                         openpgp.verify_detached, MANIFEST, sig, ring)

    def test_temporary_files_removed_and_home_untouched(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        home = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable('HOME', home))
        self.useFixture(fixtures.EnvironmentVariable('GNUPGHOME'))
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        with mock.patch.object(tempfile, 'tempdir', tmp):
            openpgp.verify_detached(MANIFEST, sig, self.vendor.keyring_path)
            self.assertFails('does not match', openpgp.verify_detached,
                             b'x', sig, self.vendor.keyring_path)
        self.assertEqual([], os.listdir(tmp))
        self.assertEqual([], os.listdir(home))

    def test_gpgv_missing(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        with mock.patch('shutil.which', return_value=None):
            self.assertFails("install Debian's 'gpgv' package",
                             openpgp.verify_detached, MANIFEST, sig,
                             self.vendor.keyring_path)

    def test_timeout(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST)
        with mock.patch('subprocess.run', side_effect=subprocess.
                        TimeoutExpired(['gpgv'], 7)):
            self.assertFails('did not finish within 7 s',
                             openpgp.verify_detached, MANIFEST, sig,
                             self.vendor.keyring_path, timeout=7)

    def test_bad_timeout(self):
        self.assertRaises(ValueError, openpgp.verify_detached, b'', b'',
                          self.vendor.keyring_path, timeout=0)


class TestClearsigned(Base):

    def setUp(self):
        super().setUp()
        self.vendor = self.key()
        self.signed = pgp.clearsign(self.vendor, MANIFEST)

    def test_good(self):
        self.assertIn(b'\n- -- a line', self.signed)  # dash-escaped
        for ring in (self.vendor.keyring_path, self.vendor.armored_path):
            body, fpr = openpgp.verify_clearsigned(self.signed, ring)
            self.assertEqual(SIGNED_BODY, body)
            self.assertEqual(self.vendor.fingerprint, fpr)

    def test_crlf_line_endings(self):
        signed = self.signed.replace(b'\n', b'\r\n')
        body, fpr = openpgp.verify_clearsigned(signed,
                                               self.vendor.keyring_path)
        self.assertEqual(self.vendor.fingerprint, fpr)
        self.assertEqual(SIGNED_BODY.replace(b'\n', b'\r\n'), body)

    def test_wrong_key(self):
        other = self.key('Other')
        self.assertFails('not signed by a key of keyring',
                         openpgp.verify_clearsigned, self.signed,
                         other.keyring_path)

    def test_tampered_body(self):
        self.assertFails(r'does not match the manifest \(tampered\?\)',
                         openpgp.verify_clearsigned,
                         self.signed.replace(b'0123', b'0124'),
                         self.vendor.keyring_path)

    def test_unsigned_text(self):
        self.assertFails('no signature found: the manifest is not '
                         'clearsigned', openpgp.verify_clearsigned,
                         MANIFEST.replace(b'-----BEGIN', b''),
                         self.vendor.keyring_path)
        self.assertFails('no signature found', openpgp.verify_clearsigned,
                         b'', self.vendor.keyring_path)

    def test_detached_signature_is_not_clearsigned(self):
        sig = pgp.sign_detached(self.vendor, MANIFEST, armor=True)
        self.assertFails('no signature found', openpgp.verify_clearsigned,
                         sig, self.vendor.keyring_path)

    def test_text_outside_the_signed_part(self):
        for text in (b'unsigned: evil *x\n' + self.signed,
                     self.signed + b'unsigned: evil *x\n'):
            self.assertFails('unsigned text before or after',
                             openpgp.verify_clearsigned, text,
                             self.vendor.keyring_path)
        body, _ = openpgp.verify_clearsigned(
            b'\n \n' + self.signed + b'\n\n', self.vendor.keyring_path)
        self.assertEqual(SIGNED_BODY, body)

    def test_two_signed_messages(self):
        other = pgp.clearsign(self.vendor, b'other *x\n')
        self.assertFails('several signed messages',
                         openpgp.verify_clearsigned, self.signed + other,
                         self.vendor.keyring_path)

    def test_broken_signature_block(self):
        head, _, _ = self.signed.partition(b'-----BEGIN PGP SIGNATURE-----')
        broken = (head + b'-----BEGIN PGP SIGNATURE-----\n\nAAAA\n'
                  b'-----END PGP SIGNATURE-----\n')
        self.assertFails('no signature found', openpgp.verify_clearsigned,
                         broken, self.vendor.keyring_path)

    def test_expired_key(self):
        old = self.key('Old', expired=True)
        self.assertFails('has expired', openpgp.verify_clearsigned,
                         pgp.clearsign(old, MANIFEST), old.keyring_path)


class TestKeyring(Base):

    def test_good_keyrings(self):
        key = self.key()
        openpgp.check_keyring(key.keyring_path)
        openpgp.check_keyring(key.armored_path)
        with open(key.armored_path, 'rb') as f:
            armored = f.read()
        # A byte-order mark and CRLF lines, as an editor may save it.
        path = self.file('edited.asc', b'\xef\xbb\xbf' + armored.replace(
            b'\n', b'\r\n'))
        openpgp.check_keyring(path)
        sig = pgp.sign_detached(key, MANIFEST)
        self.assertEqual(key.fingerprint,
                         openpgp.verify_detached(MANIFEST, sig, path))

    def test_missing(self):
        self.assertFails('keyring .*nothing.gpg does not exist',
                         openpgp.check_keyring,
                         os.path.join(self.tmp, 'nothing.gpg'))
        self.assertFails('no keyring configured', openpgp.check_keyring, '')

    def test_directory(self):
        self.assertFails('not a regular file', openpgp.check_keyring,
                         self.tmp)

    def test_unreadable(self):
        if os.geteuid() == 0:
            self.skipTest('root reads every file')
        path = self.file('locked.gpg', b'x')
        os.chmod(path, 0)
        self.assertFails('cannot read keyring .*readable by the glance-api',
                         openpgp.check_keyring, path)

    def test_not_a_keyring(self):
        key = self.key()
        sig = pgp.sign_detached(key, b'x')
        armored_sig = pgp.sign_detached(key, b'x', armor=True)
        # Random bytes after a byte no OpenPGP packet starts with (bit 7
        # clear): random ones alone may read as a secret key's header.
        for data in (b'', b'just some text\n', b'\x00' + os.urandom(64),
                     b'\x99\x01\x00' + b'short', sig, armored_sig,
                     b'-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n'
                     b'-----END PGP PUBLIC KEY BLOCK-----\n'):
            path = self.file('bad', data)
            self.assertFails('not an OpenPGP public keyring',
                             openpgp.check_keyring, path)

    def test_corrupted_armor(self):
        key = self.key()
        with open(key.armored_path, 'rb') as f:
            lines = f.read().split(b'\n')
        # Change one base64 character of the body: the CRC-24 catches it.
        i = next(i for i, line in enumerate(lines) if len(line) == 64)
        lines[i] = (b'B' if lines[i][:1] != b'B' else b'C') + lines[i][1:]
        path = self.file('bad.asc', b'\n'.join(lines))
        self.assertFails('armor checksum mismatch', openpgp.check_keyring,
                         path)

    def test_secret_key_refused(self):
        key = self.key()
        for armor in ([], ['--armor']):
            secret = pgp._gpg(key.homedir, *armor, '--export-secret-keys',
                              key.fingerprint)
            path = self.file('secret', secret)
            self.assertFails('holds a secret key: give only the public',
                             openpgp.check_keyring, path)

    def test_verify_checks_the_keyring(self):
        self.assertFails('does not exist', openpgp.verify_detached,
                         b'x', b'y', os.path.join(self.tmp, 'missing'))
        self.assertFails('not an OpenPGP public keyring',
                         openpgp.verify_clearsigned, b'x',
                         self.file('text', b'text'))


class TestStatus(testtools.TestCase):
    """What gpg cannot be made to produce cheaply: read from status lines."""

    FPR = '0123456789ABCDEF0123456789ABCDEF01234567'

    def judge(self, lines, returncode=0):
        status = [line.split(' ') for line in lines]
        return openpgp._judge(returncode, status, b'', '/etc/k.gpg',
                              'manifest')

    def test_weak_digest(self):
        e = self.assertRaises(openpgp.SignatureError, self.judge, [
            'NEWSIG', 'GOODSIG 89ABCDEF01234567 V',
            'VALIDSIG %s 2024-01-01 1 0 4 0 1 2 00 %s' % (self.FPR,
                                                          self.FPR)])
        self.assertIn('weak SHA-1 digest', str(e))

    def test_primary_fingerprint_from_subkey_signature(self):
        subkey = 'F' * 40
        self.assertEqual(self.FPR, self.judge([
            'NEWSIG', 'GOODSIG 89ABCDEF01234567 V',
            'VALIDSIG %s 2024-01-01 1 0 4 0 22 8 00 %s' % (subkey,
                                                           self.FPR)]))

    def test_every_signature_must_be_good(self):
        e = self.assertRaises(openpgp.SignatureError, self.judge, [
            'NEWSIG', 'GOODSIG 89ABCDEF01234567 V',
            'VALIDSIG %s 2024-01-01 1 0 4 0 22 8 00 %s' % (self.FPR,
                                                           self.FPR),
            'NEWSIG', 'ERRSIG 1111222233334444 22 8 00 1 9 %s' % ('1' * 40),
            'NO_PUBKEY 1111222233334444'], returncode=2)
        self.assertIn('signed by key ' + '1' * 40, str(e))

    def test_unsupported_algorithm(self):
        e = self.assertRaises(openpgp.SignatureError, self.judge, [
            'NEWSIG', 'ERRSIG 1111222233334444 99 8 00 1 4 -'],
            returncode=2)
        self.assertIn('gpgv error 4', str(e))
