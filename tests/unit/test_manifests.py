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

"""manifests: vendor checksum manifests in every format they come in."""

import hashlib
import json

import testtools

from glance_import_ext.plugins.manifest_verify import manifests


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def sha512(text):
    return hashlib.sha512(text.encode()).hexdigest()


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


UBUNTU_IMG = 'noble-server-cloudimg-amd64.img'
UBUNTU_SHA256SUMS = ''.join('%s *%s\n' % (sha256(n), n) for n in [
    'noble-server-cloudimg-amd64-azure.vhd.tar.gz',
    'noble-server-cloudimg-amd64-lxd.tar.xz',
    'noble-server-cloudimg-amd64-root.tar.xz',
    'noble-server-cloudimg-amd64.img',
    'noble-server-cloudimg-amd64.manifest',
    'noble-server-cloudimg-arm64.img',
])

DEBIAN_IMG = 'debian-12-genericcloud-amd64.qcow2'
DEBIAN_SHA512SUMS = ''.join('%s  %s\n' % (sha512(n), n) for n in [
    'debian-12-genericcloud-amd64.json',
    'debian-12-genericcloud-amd64.qcow2',
    'debian-12-genericcloud-amd64.raw',
    'debian-12-generic-amd64.qcow2',
])

ALMA_IMG = 'AlmaLinux-9-GenericCloud-9.4-20240507.x86_64.qcow2'
ALMA_LATEST = 'AlmaLinux-9-GenericCloud-latest.x86_64.qcow2'
ALMA_CHECKSUM = (
    '%(a)s  AlmaLinux-9-GenericCloud-9.4-20240507.x86_64.qcow2\n'
    '%(a)s  AlmaLinux-9-GenericCloud-latest.x86_64.qcow2\n'
    '%(b)s  AlmaLinux-9-GenericCloud-UEFI-9.4-20240507.x86_64.qcow2\n'
    '%(b)s  AlmaLinux-9-GenericCloud-UEFI-latest.x86_64.qcow2\n'
) % {'a': sha256('alma'), 'b': sha256('alma-uefi')}

CENTOS_IMG = 'CentOS-Stream-GenericCloud-9-20240506.0.x86_64.qcow2'
CENTOS_CHECKSUM = (
    '# CentOS-Stream-GenericCloud-9-20240506.0.x86_64.qcow2: '
    '1034158080 bytes\n'
    'SHA256 (CentOS-Stream-GenericCloud-9-20240506.0.x86_64.qcow2) = %s\n'
    '# CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2: 1034158080 bytes\n'
    'SHA256 (CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2) = %s\n'
) % (sha256('centos'), sha256('centos'))

ROCKY_IMG = 'Rocky-9-GenericCloud-Base-9.4-20240609.1.x86_64.qcow2'
ROCKY_CHECKSUM = (
    '# Rocky-9-GenericCloud-Base-9.4-20240609.1.x86_64.qcow2: '
    '609812480 bytes\n'
    'SHA256 (Rocky-9-GenericCloud-Base-9.4-20240609.1.x86_64.qcow2) = %s\n'
    '# Rocky-9-GenericCloud-LVM-9.4-20240609.1.x86_64.qcow2: '
    '1181089792 bytes\n'
    'SHA256 (Rocky-9-GenericCloud-LVM-9.4-20240609.1.x86_64.qcow2) = %s\n'
) % (sha256('rocky'), sha256('rocky-lvm'))

FEDORA_IMG = 'Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2'
FEDORA_BODY = (
    '# Fedora-Cloud-Base-AmazonEC2-41-1.4.x86_64.raw.xz: 400000000 bytes\n'
    'SHA256 (Fedora-Cloud-Base-AmazonEC2-41-1.4.x86_64.raw.xz) = %s\n'
    '# Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2: 491716608 bytes\n'
    'SHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2) = %s\n'
) % (sha256('fedora-ec2'), sha256('fedora'))

SIGNATURE = (
    '-----BEGIN PGP SIGNATURE-----\n'
    '\n'
    'iQIzBAEBCAAdFiEEl2qyzF2a/example/signature/not/checked/here/AAoJEA\n'
    '=AbCd\n'
    '-----END PGP SIGNATURE-----\n')

ALPINE_IMG = 'nocloud_alpine-3.20.3-x86_64-bios-cloudinit-r0.qcow2'
ALPINE_SHA512 = sha512('alpine') + '\n'

CIRROS_IMG = 'cirros-0.6.2-x86_64-disk.img'
UBUNTU_STREAM_PRODUCT = 'com.ubuntu.cloud:server:24.04:amd64'


def clearsign(body):
    if not body.endswith('\n'):
        body += '\n'
    escaped = ''.join('- ' + line if line.startswith('-') else line
                      for line in body.splitlines(True))
    return ('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n%s%s'
            % (escaped, SIGNATURE))


def cirros_stream():
    items = {}
    for version in ('0.6.1', '0.6.2'):
        items[version] = {'items': {
            'disk.img': {
                'ftype': 'disk.img',
                'path': '%s/cirros-%s-x86_64-disk.img' % (version, version),
                'md5': md5('cirros' + version),
                'sha256': sha256('cirros' + version),
                'size': 21430272},
            'uec.tar.gz': {
                'ftype': 'uec.tar.gz',
                'path': '%s/cirros-%s-x86_64-uec.tar.gz' % (version,
                                                            version),
                'md5': md5('uec' + version),
                'sha256': sha256('uec' + version),
                'size': 9999}}}
    return json.dumps({
        'content_id': 'net.cirros-cloud:released:download',
        'datatype': 'image-downloads',
        'format': 'products:1.0',
        'updated': 'Fri, 27 May 2024 10:00:00 +0000',
        'products': {'net.cirros-cloud.released:standard:0.6:x86_64': {
            'arch': 'x86_64', 'os': 'cirros', 'version': '0.6',
            'versions': items}}}, indent=1)


def ubuntu_stream():
    versions = {}
    for serial in ('20240423', '20240523'):
        versions[serial] = {'label': 'release', 'items': {
            'disk1.img': {
                'ftype': 'disk1.img',
                'path': 'server/releases/noble/release-%s/'
                        'ubuntu-24.04-server-cloudimg-amd64.img' % serial,
                'sha256': sha256('ubuntu' + serial),
                'md5': md5('ubuntu' + serial),
                'size': 587241984}}}
    return json.dumps({
        'content_id': 'com.ubuntu.cloud:released:download',
        'datatype': 'image-downloads',
        'format': 'products:1.0',
        'products': {UBUNTU_STREAM_PRODUCT: {
            'arch': 'amd64', 'release': 'noble', 'versions': versions}}})


class TestFormats(testtools.TestCase):

    def test_ubuntu_sha256sums_binary_marker(self):
        m = manifests.parse(UBUNTU_SHA256SUMS.encode(), 'SHA256SUMS')
        self.assertEqual('gnu', m.format)
        self.assertFalse(m.was_clearsigned)
        self.assertEqual(6, len(m))
        self.assertEqual(({'sha256': sha256(UBUNTU_IMG)}, None),
                         m.lookup(UBUNTU_IMG))

    def test_debian_sha512sums(self):
        m = manifests.parse(DEBIAN_SHA512SUMS, 'SHA512SUMS')
        self.assertEqual('gnu', m.format)
        self.assertEqual(({'sha512': sha512(DEBIAN_IMG)}, None),
                         m.lookup(DEBIAN_IMG))

    def test_almalinux_checksum_aliases_by_length(self):
        m = manifests.parse(ALMA_CHECKSUM, 'CHECKSUM')
        self.assertEqual('gnu', m.format)
        self.assertEqual({'sha256': sha256('alma')}, m.lookup(ALMA_IMG)[0])
        self.assertEqual({'sha256': sha256('alma')},
                         m.lookup(ALMA_LATEST)[0])

    def test_centos_stream_checksum_with_sizes(self):
        m = manifests.parse(CENTOS_CHECKSUM, 'CHECKSUM')
        self.assertEqual('bsd', m.format)
        self.assertEqual(({'sha256': sha256('centos')}, 1034158080),
                         m.lookup(CENTOS_IMG))

    def test_rocky_checksum(self):
        m = manifests.parse(ROCKY_CHECKSUM,
                            ROCKY_IMG + '.CHECKSUM')
        self.assertEqual(({'sha256': sha256('rocky')}, 609812480),
                         m.lookup(ROCKY_IMG))

    def test_fedora_clearsigned_checksum(self):
        data = clearsign(FEDORA_BODY)
        self.assertTrue(manifests.is_clearsigned(data))
        self.assertTrue(manifests.is_clearsigned(data.encode()))
        m = manifests.parse(data, 'Fedora-Cloud-41-1.4-x86_64-CHECKSUM')
        self.assertTrue(m.was_clearsigned)
        self.assertEqual('bsd', m.format)
        self.assertEqual(({'sha256': sha256('fedora')}, 491716608),
                         m.lookup(FEDORA_IMG))

    def test_bsd_other_algorithms(self):
        data = ('SHA3-256 (a.img) = %s\nBLAKE2b (a.img) = %s\n'
                'SHA2-512(a.img)= %s\n' % (
                    hashlib.sha3_256(b'a').hexdigest(),
                    hashlib.blake2b(b'a').hexdigest().upper(),
                    sha512('a')))
        digests, size = manifests.parse(data, 'CHECKSUM').lookup('a.img')
        self.assertEqual({'sha3_256': hashlib.sha3_256(b'a').hexdigest(),
                          'blake2b': hashlib.blake2b(b'a').hexdigest(),
                          'sha512': sha512('a')}, digests)
        self.assertIsNone(size)

    def test_alpine_bare_sha512_applies_to_any_entry(self):
        m = manifests.parse(ALPINE_SHA512.encode(), ALPINE_IMG + '.sha512')
        self.assertEqual('bare', m.format)
        self.assertEqual(({'sha512': sha512('alpine')}, None),
                         m.lookup(ALPINE_IMG))
        self.assertEqual(({'sha512': sha512('alpine')}, None),
                         m.lookup('anything-else.qcow2'))

    def test_bare_with_trailing_whitespace_and_crlf(self):
        m = manifests.parse(sha512('alpine').upper() + '  \r\n\r\n',
                            'x.qcow2.sha512')
        self.assertEqual({'sha512': sha512('alpine')}, m.lookup('x')[0])

    def test_bare_length_gives_algorithm_without_a_named_one(self):
        m = manifests.parse(sha256('x'), 'digest')
        self.assertEqual({'sha256': sha256('x')}, m.lookup('x.img')[0])

    def test_alpine_sidecar_with_name_is_gnu(self):
        m = manifests.parse('%s  %s\n' % (sha512('alpine'), ALPINE_IMG),
                            ALPINE_IMG + '.sha512')
        self.assertEqual('gnu', m.format)
        self.assertEqual({'sha512': sha512('alpine')},
                         m.lookup(ALPINE_IMG)[0])
        self.assertRaises(manifests.ManifestError, m.lookup, 'other.qcow2')

    def test_cirros_simplestreams(self):
        m = manifests.parse(cirros_stream(),
                            'net.cirros-cloud:released:download.json')
        self.assertEqual('simplestreams', m.format)
        self.assertEqual(
            ({'sha256': sha256('cirros0.6.2'), 'md5': md5('cirros0.6.2')},
             21430272),
            m.lookup(CIRROS_IMG))
        self.assertEqual(sha256('cirros0.6.1'),
                         m.lookup('0.6.1/cirros-0.6.1-x86_64-disk.img')[0][
                             'sha256'])

    def test_ubuntu_simplestreams_same_basename_needs_the_path(self):
        m = manifests.parse(ubuntu_stream(),
                            'com.ubuntu.cloud:released:download.json')
        base = 'ubuntu-24.04-server-cloudimg-amd64.img'
        e = self.assertRaises(manifests.ManifestError, m.lookup, base)
        self.assertIn('different', str(e))
        self.assertIn('full name', str(e))
        path = 'server/releases/noble/release-20240523/' + base
        want = ({'sha256': sha256('ubuntu20240523'),
                 'md5': md5('ubuntu20240523')}, 587241984)
        self.assertEqual(want, m.lookup(path))
        self.assertEqual(want, m.lookup('/' + path))
        self.assertEqual(want, m.lookup(
            'https://cloud-images.ubuntu.com/' + path))
        self.assertEqual(want, m.lookup('release-20240523/' + base))

    def test_simplestreams_index_is_refused(self):
        e = self.assertRaises(
            manifests.ManifestError, manifests.parse,
            json.dumps({'format': 'index:1.0', 'index': {}}), 'index.json')
        self.assertIn('index', str(e))

    def test_simplestreams_malformed(self):
        for doc in ({'format': 'products:1.0', 'products': []},
                    {'format': 'other'},
                    {'format': 'products:1.0', 'products': {'p': {
                        'versions': {'v': {'items': {'i': {
                            'path': 'a.img', 'sha256': 'abc'}}}}}}},
                    {'format': 'products:1.0', 'products': {'p': {
                        'versions': {'v': {'items': {'i': {
                            'path': 'a.img', 'sha256': sha256('a'),
                            'size': -1}}}}}}},
                    {'format': 'products:1.0', 'products': {}}):
            self.assertRaises(manifests.ManifestError, manifests.parse,
                              json.dumps(doc), 'streams.json')
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          '{"format": "products:1.0", "format": "x"}',
                          'streams.json')
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          '{"a": ' * 100000, 'streams.json')
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          '[' * 100000, 'streams.json')

    def test_simplestreams_item_without_known_digest(self):
        doc = {'format': 'products:1.0', 'products': {'p': {'versions': {
            'v': {'items': {'i': {'path': 'a/b.img', 'size': 3}}}}}}}
        m = manifests.parse(json.dumps(doc), 'streams.json')
        e = self.assertRaises(manifests.ManifestError, m.lookup, 'b.img')
        self.assertIn('no digest of a known algorithm', str(e))


class TestClearsigned(testtools.TestCase):

    def test_each_format_clearsigned(self):
        cases = [
            (UBUNTU_SHA256SUMS, 'SHA256SUMS', UBUNTU_IMG, 'gnu'),
            (DEBIAN_SHA512SUMS, 'SHA512SUMS', DEBIAN_IMG, 'gnu'),
            (ALMA_CHECKSUM, 'CHECKSUM', ALMA_LATEST, 'gnu'),
            (CENTOS_CHECKSUM, 'CHECKSUM.asc', CENTOS_IMG, 'bsd'),
            (ROCKY_CHECKSUM, 'CHECKSUM', ROCKY_IMG, 'bsd'),
            (ALPINE_SHA512, 'x.sha512', ALPINE_IMG, 'bare'),
            (cirros_stream(), 'streams.sjson', CIRROS_IMG, 'simplestreams'),
        ]
        for body, name, entry, fmt in cases:
            plain = manifests.parse(body, name)
            signed = manifests.parse(clearsign(body).encode(), name)
            self.assertEqual(fmt, signed.format)
            self.assertTrue(signed.was_clearsigned)
            self.assertEqual(plain.lookup(entry), signed.lookup(entry))

    def test_unwrap_returns_dash_unescaped_body(self):
        body = 'first\n-dash line\n--- more\n\nlast'
        text = clearsign(body + '\n')
        self.assertIn('- -dash line', text)
        self.assertEqual((body, True), manifests.unwrap_clearsigned(text))
        self.assertEqual((body, True),
                         manifests.unwrap_clearsigned(text.encode()))

    def test_unwrap_crlf_and_trailing_whitespace(self):
        text = clearsign('a  \nb\t\n').replace('\n', '\r\n')
        self.assertEqual(('a\nb', True), manifests.unwrap_clearsigned(text))

    def test_unsigned_text_is_returned_unchanged(self):
        self.assertEqual((UBUNTU_SHA256SUMS, False),
                         manifests.unwrap_clearsigned(UBUNTU_SHA256SUMS))
        self.assertFalse(manifests.is_clearsigned(UBUNTU_SHA256SUMS))

    def test_several_hash_headers_and_leading_blank_lines(self):
        text = clearsign('x\n').replace(
            'Hash: SHA256\n', 'Hash: SHA256\nHash: SHA512\n')
        self.assertEqual(('x', True),
                         manifests.unwrap_clearsigned('\n\n' + text))

    def test_text_outside_the_signed_part_is_refused(self):
        good = clearsign(CENTOS_CHECKSUM)
        evil = '%s  evil.img\n' % sha256('evil')
        for text in (evil + good, good + evil):
            self.assertTrue(manifests.is_clearsigned(text))
            e = self.assertRaises(manifests.ManifestError, manifests.parse,
                                  text, 'CHECKSUM')
            self.assertIn('CHECKSUM', str(e))

    def test_malformed_wrappers(self):
        good = clearsign('x\n')
        for text in (
                good.replace(SIGNATURE, ''),  # no signature
                good.replace('-----END PGP SIGNATURE-----\n', ''),
                good.replace('Hash: SHA256\n\n', 'Hash: SHA256\n'),
                good.replace('Hash: SHA256', 'not a header'),
                good.replace('x\n', '-x\n'),  # not dash-escaped
                '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n'):
            self.assertRaises(manifests.ManifestError,
                              manifests.unwrap_clearsigned, text)

    def test_nested_or_detached_armor_is_refused(self):
        inner = clearsign(UBUNTU_SHA256SUMS)
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              clearsign(inner), 'SHA256SUMS')
        self.assertIn('OpenPGP armor', str(e))
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              UBUNTU_SHA256SUMS + SIGNATURE, 'SHA256SUMS')
        self.assertIn('OpenPGP armor', str(e))

    def test_line_numbers_count_the_wrapper(self):
        text = clearsign('%s  a\nbogus\n' % sha256('a'))
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              text, 'SHA256SUMS')
        self.assertIn('line 5 ', str(e))


class TestLines(testtools.TestCase):

    def test_crlf(self):
        m = manifests.parse(CENTOS_CHECKSUM.replace('\n', '\r\n').encode(),
                            'CHECKSUM')
        self.assertEqual(({'sha256': sha256('centos')}, 1034158080),
                         m.lookup(CENTOS_IMG))
        m = manifests.parse(UBUNTU_SHA256SUMS.replace('\n', '\r\n'),
                            'SHA256SUMS')
        self.assertEqual({'sha256': sha256(UBUNTU_IMG)},
                         m.lookup(UBUNTU_IMG)[0])

    def test_names_with_spaces(self):
        gnu = ('%s  my image (final).qcow2\n'
               '%s *other image.raw\n'
               '%s   leading space.img\n' % (
                   sha256('1'), sha256('2'), sha256('3')))
        bsd = 'SHA256 (a b (c).img) = %s\n' % sha256('4')
        m = manifests.parse(gnu, 'SHA256SUMS')
        self.assertEqual({'sha256': sha256('1')},
                         m.lookup('my image (final).qcow2')[0])
        self.assertEqual({'sha256': sha256('2')},
                         m.lookup('other image.raw')[0])
        self.assertEqual({'sha256': sha256('3')},
                         m.lookup(' leading space.img')[0])
        m = manifests.parse(bsd, 'CHECKSUM')
        self.assertEqual({'sha256': sha256('4')}, m.lookup('a b (c).img')[0])

    def test_single_space_and_dot_slash_and_escaped_names(self):
        data = ('%s a.img\n%s  ./b.img\n\\%s  c\\\\d\\nx.img\n' % (
            sha256('a'), sha256('b'), sha256('c')))
        m = manifests.parse(data, 'SHA256SUMS')
        self.assertEqual({'sha256': sha256('a')}, m.lookup('a.img')[0])
        self.assertEqual({'sha256': sha256('b')}, m.lookup('b.img')[0])
        self.assertEqual({'sha256': sha256('c')}, m.lookup('c\\d\nx.img')[0])

    def test_comments_and_blank_lines(self):
        data = '# Ubuntu Server 24.04\n\n   \n' + UBUNTU_SHA256SUMS + '#end\n'
        m = manifests.parse(data, 'SHA256SUMS')
        self.assertEqual(6, len(m))

    def test_name_declares_algorithm(self):
        for name, algorithm in [
                ('SHA256SUMS', 'sha256'), ('SHA512SUMS', 'sha512'),
                ('SHA1SUMS', 'sha1'), ('MD5SUMS', 'md5'),
                ('x.qcow2.sha256', 'sha256'), ('x.iso.sha512', 'sha512'),
                ('x.sha256sum', 'sha256'), ('sha256sum.txt', 'sha256'),
                ('SHA512SUMS.asc', 'sha512'), ('B2SUMS', 'blake2b'),
                ('x.sha3-256', 'sha3_256'),
                ('https://h/p/SHA256SUMS?x=1', 'sha256'),
                ('CHECKSUM', None), ('x.qcow2', None), ('notsha256', None)]:
            self.assertEqual(algorithm, manifests.algorithm_from_name(name),
                             name)

    def test_b2sums_is_blake2b_not_sha512(self):
        digest = hashlib.blake2b(b'x').hexdigest()
        m = manifests.parse('%s  x.img\n' % digest, 'B2SUMS')
        self.assertEqual({'blake2b': digest}, m.lookup('x.img')[0])
        m = manifests.parse('%s  x.img\n' % digest, 'CHECKSUM')
        self.assertEqual({'sha512': digest}, m.lookup('x.img')[0])

    def test_lengths_without_a_named_algorithm(self):
        for algorithm in ('md5', 'sha1', 'sha224', 'sha256', 'sha384',
                          'sha512'):
            digest = hashlib.new(algorithm, b'x').hexdigest()
            m = manifests.parse('%s  x.img\n' % digest, 'CHECKSUM')
            self.assertEqual({algorithm: digest}, m.lookup('x.img')[0])

    def test_mixed_formats_are_refused(self):
        data = UBUNTU_SHA256SUMS + 'SHA256 (x) = %s\n' % sha256('x')
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              data, 'SHA256SUMS')
        self.assertIn('line 7', str(e))
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              UBUNTU_SHA256SUMS + sha256('x') + '\n',
                              'SHA256SUMS')
        self.assertIn('bare digest', str(e))
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          sha256('x') + '\n' + sha256('y'), 'x.sha256')


class TestStrictness(testtools.TestCase):

    def test_same_digest_twice_is_fine(self):
        m = manifests.parse(UBUNTU_SHA256SUMS + UBUNTU_SHA256SUMS,
                            'SHA256SUMS')
        self.assertEqual({'sha256': sha256(UBUNTU_IMG)},
                         m.lookup(UBUNTU_IMG)[0])

    def test_different_digests_for_one_entry(self):
        data = UBUNTU_SHA256SUMS + '%s *%s\n' % (sha256('evil'), UBUNTU_IMG)
        m = manifests.parse(data, 'SHA256SUMS')
        e = self.assertRaises(manifests.ManifestError, m.lookup, UBUNTU_IMG)
        self.assertIn('SHA256SUMS', str(e))
        self.assertIn(UBUNTU_IMG, str(e))
        self.assertIn('twice', str(e))
        self.assertIn('line 4', str(e))
        self.assertIn('line 7', str(e))
        # other entries stay usable
        arm = 'noble-server-cloudimg-arm64.img'
        self.assertEqual({'sha256': sha256(arm)}, m.lookup(arm)[0])

    def test_different_bsd_digests_and_sizes(self):
        data = CENTOS_CHECKSUM + 'SHA256 (%s) = %s\n' % (CENTOS_IMG,
                                                         sha256('evil'))
        m = manifests.parse(data, 'CHECKSUM')
        e = self.assertRaises(manifests.ManifestError, m.lookup, CENTOS_IMG)
        self.assertIn('twice', str(e))
        data = CENTOS_CHECKSUM + '# %s: 5 bytes\n' % CENTOS_IMG
        m = manifests.parse(data, 'CHECKSUM')
        e = self.assertRaises(manifests.ManifestError, m.lookup, CENTOS_IMG)
        self.assertIn('sizes', str(e))

    def test_different_algorithms_for_one_entry_combine(self):
        data = 'SHA256 (a) = %s\nSHA512 (a) = %s\nMD5 (a) = %s\n' % (
            sha256('a'), sha512('a'), md5('a'))
        self.assertEqual(
            {'sha256': sha256('a'), 'sha512': sha512('a'), 'md5': md5('a')},
            manifests.parse(data, 'CHECKSUM').lookup('a')[0])

    def test_missing_entry_names_similar_ones(self):
        m = manifests.parse(UBUNTU_SHA256SUMS, 'SHA256SUMS')
        e = self.assertRaises(manifests.ManifestError, m.lookup,
                              'noble-server-cloudimg-amd64.qcow2')
        self.assertIn('lists no entry', str(e))
        self.assertIn('SHA256SUMS', str(e))
        self.assertIn(UBUNTU_IMG, str(e))

    def test_exact_name_wins_over_path_suffix(self):
        data = '%s  a.img\n%s  old/a.img\n' % (sha256('new'), sha256('old'))
        m = manifests.parse(data, 'SHA256SUMS')
        self.assertEqual({'sha256': sha256('new')}, m.lookup('a.img')[0])
        self.assertEqual({'sha256': sha256('old')},
                         m.lookup('old/a.img')[0])
        # a path or URL ending in a listed name matches that name
        self.assertEqual({'sha256': sha256('new')},
                         m.lookup('https://mirror/other/a.img')[0])
        self.assertEqual({'sha256': sha256('old')},
                         m.lookup('https://mirror/old/a.img')[0])
        self.assertRaises(manifests.ManifestError, m.lookup, 'b.img')
        data += '%s  new/a.img\n' % sha256('newer')
        m = manifests.parse(data, 'SHA256SUMS')
        self.assertEqual({'sha256': sha256('new')}, m.lookup('a.img')[0])
        self.assertEqual({'sha256': sha256('new')}, m.lookup('x/a.img')[0])
        # without the exact name, a basename matching both is ambiguous
        m = manifests.parse(data.split('\n', 1)[1], 'SHA256SUMS')
        e = self.assertRaises(manifests.ManifestError, m.lookup, 'a.img')
        self.assertIn("'old/a.img'", str(e))
        self.assertIn("'new/a.img'", str(e))
        self.assertEqual({'sha256': sha256('newer')},
                         m.lookup('https://h/new/a.img')[0])

    def test_entry_name_too_long(self):
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              '%s  %s\n' % (sha256('a'), 'n' * 5000),
                              'SHA256SUMS')
        self.assertIn('longer than', str(e))
        self.assertLess(len(str(e)), 500)

    def test_unknown_algorithm_only(self):
        data = 'STREEBOG256 (a.img) = %s\nSHAKE128 (a.img) = %s\n' % (
            sha256('a'), sha256('a'))
        m = manifests.parse(data, 'CHECKSUM')
        e = self.assertRaises(manifests.ManifestError, m.lookup, 'a.img')
        self.assertIn('STREEBOG256', str(e))
        self.assertIn('hashlib', str(e))

    def test_unknown_algorithm_is_ignored_beside_a_known_one(self):
        data = 'STREEBOG256 (a.img) = %s\nSHA256 (a.img) = %s\n' % (
            sha256('x'), sha256('a'))
        m = manifests.parse(data, 'CHECKSUM')
        self.assertEqual({'sha256': sha256('a')}, m.lookup('a.img')[0])

    def test_malformed_hex(self):
        for data, name in [
                ('%s  a.img\n' % sha256('a')[:-1], 'SHA256SUMS'),
                ('%s  a.img\n' % sha512('a'), 'SHA256SUMS'),
                ('%s  a.img\n' % ('ab' * 25), 'CHECKSUM'),
                ('SHA256 (a.img) = %s\n' % sha512('a'), 'CHECKSUM'),
                ('SHA256 (a.img) = %sg\n' % sha256('a')[:-1], 'CHECKSUM'),
                ('%sz  a.img\n' % sha256('a')[:-1], 'SHA256SUMS'),
                (sha256('a')[:-1], 'x.sha256')]:
            e = self.assertRaises(manifests.ManifestError, manifests.parse,
                                  data, name)
            self.assertIn(name, str(e))

    def test_garbage_line_is_refused(self):
        data = UBUNTU_SHA256SUMS + 'this is not a checksum\n'
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              data, 'SHA256SUMS')
        self.assertIn('line 7', str(e))
        self.assertIn('this is not a checksum', str(e))

    def test_html_error_page_is_refused(self):
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          '<html><body>404 Not Found</body></html>\n',
                          'SHA256SUMS')

    def test_empty_manifest_is_refused(self):
        for data in ('', '\n# nothing\n', b''):
            e = self.assertRaises(manifests.ManifestError, manifests.parse,
                                  data, 'SHA256SUMS')
            self.assertIn('no checksum entries', str(e))

    def test_huge_garbage_gives_bounded_messages(self):
        huge = 'x' * (2 * 1024 * 1024)
        for data in (huge, huge + '\n' + UBUNTU_SHA256SUMS,
                     UBUNTU_SHA256SUMS + sha256('a') + '  ' + huge,
                     '%s  %s\n' % ('a' * 100000, 'b'),
                     'SHA256 (%s) = %s\n' % (huge, 'a' * 100000),
                     '{"format": "%s"}' % huge,
                     '\u00e9\U0001f600' * 100000,
                     '\x01' * 100000):
            e = self.assertRaises(manifests.ManifestError, manifests.parse,
                                  data, 'n' * 1000)
            self.assertLess(len(str(e)), 500, str(e)[:600])

    def test_huge_entry_name_in_messages_is_shortened(self):
        name = 'n' * manifests.MAX_NAME
        m = manifests.parse('%s  %s\n%s  %s\n' % (
            sha256('a'), name, sha256('b'), name), 'SHA256SUMS')
        e = self.assertRaises(manifests.ManifestError, m.lookup, name)
        self.assertLess(len(str(e)), 500)
        e = self.assertRaises(manifests.ManifestError, m.lookup, 'm' * 10000)
        self.assertLess(len(str(e)), 500)

    def test_too_large(self):
        e = self.assertRaises(
            manifests.ManifestError, manifests.parse,
            b'#' * (manifests.MAX_BYTES + 1), 'SHA256SUMS')
        self.assertIn('larger', str(e))

    def test_non_utf8(self):
        data = UBUNTU_SHA256SUMS.encode() + b'\xff\xfe  x.img\n'
        e = self.assertRaises(manifests.ManifestError, manifests.parse,
                              data, 'SHA256SUMS')
        self.assertIn('UTF-8', str(e))
        self.assertIn('0xff', str(e))
        self.assertRaises(manifests.ManifestError,
                          manifests.unwrap_clearsigned, b'\xff')
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          b'\x00' * 10, 'SHA256SUMS')
        self.assertRaises(manifests.ManifestError, manifests.parse,
                          12, 'SHA256SUMS')

    def test_utf8_names_and_bom(self):
        data = '\ufeff%s  caf\u00e9.img\n' % sha256('c')
        m = manifests.parse(data.encode('utf-8'), 'SHA256SUMS')
        self.assertEqual({'sha256': sha256('c')}, m.lookup('caf\u00e9.img')[0])

    def test_bad_lookup_argument(self):
        m = manifests.parse(UBUNTU_SHA256SUMS, 'SHA256SUMS')
        for entry in ('', '  ', None, b'x'):
            self.assertRaises(manifests.ManifestError, m.lookup, entry)

    def test_error_is_a_value_error(self):
        self.assertTrue(issubclass(manifests.ManifestError, ValueError))
