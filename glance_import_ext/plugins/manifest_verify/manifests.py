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

"""Vendor checksum manifests: the digests a publisher lists for its images.

Pure Python, standard library only, no network. Four formats:

``gnu``
    coreutils ``<hex>  <name>`` / ``<hex> *<name>`` (also the single-space
    form of ``md5 -r`` and coreutils' backslash-escaped names): Ubuntu
    ``SHA256SUMS``, Debian ``SHA512SUMS``, AlmaLinux ``CHECKSUM``. The line
    does not name the algorithm: the manifest's file name does
    (``SHA256SUMS``, ``*.sha512``, ``sha256sum.txt``, ...), else the length
    of the digest (32 md5, 40 sha1, 56 sha224, 64 sha256, 96 sha384,
    128 sha512).
``bsd``
    ``SHA256 (<name>) = <hex>`` (also OpenSSL's ``SHA2-256(<name>)= <hex>``)
    with ``# <name>: N bytes`` comments giving sizes: CentOS Stream, Rocky,
    Fedora.
``bare``
    a sidecar file holding one digest and nothing else (Alpine
    ``<image>.sha512``); it applies to whatever entry is looked up.
``simplestreams``
    ``products:1.0`` JSON (Ubuntu, CirrOS); an item matches an entry by its
    ``path``, or by the last components of it (its basename).

Any of them may be wrapped in an OpenPGP clearsigned message; the signature
is checked elsewhere (gpgv), this module only unwraps it.

Strictness: a line that is neither blank, a ``#`` comment nor an entry of
the manifest's format makes the whole manifest invalid, so do malformed
digests, a bare digest mixed with entries, and text outside the clearsigned
part of a signed manifest. An entry listed twice with different digests for
one algorithm is an error when that entry is looked up. Every message names
the manifest and shows at most ~80 characters of any manifest content.
"""

import difflib
import hashlib
import json
import re

MAX_BYTES = 16 * 1024 * 1024
EXCERPT = 80
MAX_NAME = 4096
FORMATS = ('gnu', 'bsd', 'bare', 'simplestreams')

_BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----'
_BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----'
_END_SIGNATURE = '-----END PGP SIGNATURE-----'
_SIGNED_RE = re.compile(r'^-----BEGIN PGP SIGNED MESSAGE-----[ \t\r]*$',
                        re.M)
_ARMOR_HEADER_RE = re.compile(r'[A-Za-z][A-Za-z0-9-]*: ')
_HEX_RE = re.compile(r'[0-9a-fA-F]+\Z')
_GNU_RE = re.compile(r'([0-9a-fA-F]+)[ \t]([ *]?)(.+)\Z', re.S)
_BSD_HEAD_RE = re.compile(r'([A-Za-z][A-Za-z0-9_-]{0,31}) ?\(')
_BSD_TAIL_RE = re.compile(r' ?= ?([0-9a-fA-F]+)\Z')
_SIZE_COMMENT_RE = re.compile(r'#[ \t]*(.+): ([0-9]{1,20}) bytes\Z', re.S)
_ESCAPE_RE = re.compile(r'\\(.?)', re.S)
_ESCAPES = {'\\': '\\', 'n': '\n', 'r': '\r'}
_NAME_ALGORITHM_RE = re.compile(
    r'(?:^|[._-])(md5|sha1|sha224|sha256|sha384|sha512|sha3[_-]?224'
    r'|sha3[_-]?256|sha3[_-]?384|sha3[_-]?512|b2|blake2b|blake2s)'
    r'(?:sums?)?\Z', re.I)
_NAME_SUFFIXES = ('.asc', '.txt')
_BY_LENGTH = {32: 'md5', 40: 'sha1', 56: 'sha224', 64: 'sha256',
              96: 'sha384', 128: 'sha512'}
_ALIASES = {
    'sha2_224': 'sha224', 'sha2_256': 'sha256', 'sha2_384': 'sha384',
    'sha2_512': 'sha512', 'sha3224': 'sha3_224', 'sha3256': 'sha3_256',
    'sha3384': 'sha3_384', 'sha3512': 'sha3_512', 'b2': 'blake2b',
    'blake2b_512': 'blake2b', 'blake2s_256': 'blake2s',
}
# Known lengths, also for algorithms this host's hashlib may not offer
# (md5 under FIPS), so that their digests are still checked for shape.
_HEX_LENGTHS = {'md5': 32, 'sha1': 40, 'sha224': 56, 'sha256': 64,
                'sha384': 96, 'sha512': 128, 'sha3_224': 56, 'sha3_256': 64,
                'sha3_384': 96, 'sha3_512': 128, 'blake2b': 128,
                'blake2s': 64}
_AVAILABLE = frozenset(a.lower().replace('-', '_')
                       for a in hashlib.algorithms_available)
_SIZES = {}
_MAX_SIMILAR_SCAN = 1000


class ManifestError(ValueError):
    """What is wrong with which manifest, in a bounded message."""


def clip(value, limit=EXCERPT):
    """``repr`` of at most ``limit`` characters of ``value``, with its size."""
    text = str(value)
    shown = repr(text[:limit])
    if len(shown) > limit + 2:
        shown = shown[:limit + 1] + "'"
    if len(text) > limit:
        shown += '... (%d characters)' % len(text)
    return shown


def _fail(manifest, message, *args):
    raise ManifestError('checksum manifest %s: %s' % (
        clip(manifest), message % args if args else message))


def canonical_algorithm(label):
    """The hashlib name for an algorithm label, or None if not offered.

    ``SHA256``, ``SHA2-256`` -> ``sha256``; ``SHA3-256`` -> ``sha3_256``;
    ``BLAKE2b`` (``BLAKE2b-512``) -> ``blake2b``. Algorithms without a
    fixed digest size (shake) and those hashlib lacks give None.
    """
    name = _alias(label)
    return name if _digest_size(name) else None


def _digest_size(name):
    """Digest size in bytes of a canonical name hashlib offers, or None."""
    if name in _SIZES:
        return _SIZES[name]
    size = None
    if name in _AVAILABLE:
        try:
            size = hashlib.new(name).digest_size or None
        except (ValueError, TypeError):
            size = None
    if len(_SIZES) < 256:
        _SIZES[name] = size
    return size


def _alias(label):
    name = str(label).lower().replace('-', '_')
    return _ALIASES.get(name, name)


def _hex_length(algorithm):
    """Hex digits of a digest of ``algorithm`` (canonical), or None."""
    size = _digest_size(algorithm)
    return size * 2 if size else _HEX_LENGTHS.get(algorithm)


def algorithm_from_name(manifest_name):
    """The algorithm a manifest's file name declares, or None.

    ``SHA256SUMS``, ``MD5SUMS``, ``B2SUMS``, ``x.qcow2.sha512``,
    ``x.sha256sum``, ``sha256sum.txt``, ``SHA512SUMS.asc`` declare one;
    ``CHECKSUM`` does not.
    """
    base = _basename(manifest_name)
    lowered = base.lower()
    for suffix in _NAME_SUFFIXES:
        if lowered.endswith(suffix):
            base = base[:-len(suffix)]
            lowered = lowered[:-len(suffix)]
    match = _NAME_ALGORITHM_RE.search(base)
    return _alias(match.group(1)) if match else None


def _basename(name):
    name = str(name or '')
    if '://' in name:
        name = name.split('?', 1)[0].split('#', 1)[0]
    return name.rstrip('/').rsplit('/', 1)[-1]


def _normalize(name):
    while name.startswith('./'):
        name = name[2:]
    return name.lstrip('/')


def _decode(data, manifest_name):
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_BYTES:
            _fail(manifest_name, 'larger than %d bytes (%d)', MAX_BYTES,
                  len(data))
        try:
            text = data.decode('utf-8-sig')
        except UnicodeDecodeError as exc:
            _fail(manifest_name, 'not UTF-8 text (byte 0x%02x at offset %d)',
                  data[exc.start], exc.start)
    elif isinstance(data, str):
        if len(data) > MAX_BYTES:
            _fail(manifest_name, 'larger than %d characters (%d)', MAX_BYTES,
                  len(data))
        text = data[1:] if data.startswith('\ufeff') else data
    else:
        _fail(manifest_name, 'expected bytes or str, not %s',
              type(data).__name__)
    if '\x00' in text:
        _fail(manifest_name, 'contains NUL characters: not a text manifest')
    return text


def is_clearsigned(data):
    """Whether ``data`` (bytes or str) holds an OpenPGP clearsigned message.

    True as soon as a line is ``-----BEGIN PGP SIGNED MESSAGE-----``, even
    if the rest is malformed (``unwrap_clearsigned`` then raises): a caller
    must not treat such a manifest as unsigned.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return re.search(_SIGNED_RE.pattern.encode(), bytes(data),
                         re.M) is not None
    return _SIGNED_RE.search(data) is not None


def unwrap_clearsigned(data, manifest_name='manifest'):
    """The signed body of a clearsigned message, and whether it was one.

    Returns ``(body, True)`` for a clearsigned message: the dash-unescaped
    text between the armor headers' blank line and the signature, as the
    signature covers it (lines joined by ``\\n``, trailing spaces, tabs and
    CRs removed, no final line break). Anything else returns
    ``(text, False)`` with the text unchanged. ``data`` is bytes (UTF-8) or
    str.

    :raises ManifestError: non-blank text before the message or after the
        signature, bad armor headers, an unescaped ``-`` line in the body,
        a missing signature, undecodable bytes.
    """
    text = _decode(data, manifest_name)
    body, signed, _first = _unwrap(text, manifest_name)
    return body, signed


def _unwrap(text, manifest_name):
    """(body, was_clearsigned, file line number of the body's first line)."""
    if not _SIGNED_RE.search(text):
        return text, False, 1
    lines = text.split('\n')
    count = len(lines)
    index = 0
    while index < count and not lines[index].strip():
        index += 1
    if index == count or lines[index].rstrip() != _BEGIN_SIGNED:
        _fail(manifest_name, 'line %d: text before the clearsigned message '
              '(not covered by its signature): %s', index + 1,
              clip(lines[index].rstrip('\r')))
    index += 1
    while True:
        if index == count:
            _fail(manifest_name, 'clearsigned message ends in its armor '
                  'headers')
        line = lines[index].rstrip()
        index += 1
        if not line:
            break
        if not _ARMOR_HEADER_RE.match(line):
            _fail(manifest_name, 'line %d: not an armor header of a '
                  'clearsigned message: %s', index, clip(line))
    first = index + 1
    body = []
    while True:
        if index == count:
            _fail(manifest_name, 'clearsigned message has no signature')
        line = lines[index].rstrip(' \t\r')
        index += 1
        if line.startswith('-'):
            if line.rstrip() == _BEGIN_SIGNATURE:
                break
            if not line.startswith('- '):
                _fail(manifest_name, 'line %d: a line of a clearsigned '
                      'message that is not dash-escaped: %s', index,
                      clip(line))
            line = line[2:]
        body.append(line)
    while True:
        if index == count:
            _fail(manifest_name, 'clearsigned message: signature has no '
                  '%s line', _END_SIGNATURE)
        line = lines[index].rstrip()
        index += 1
        if line == _END_SIGNATURE:
            break
    for rest in range(index, count):
        if lines[rest].strip():
            _fail(manifest_name, 'line %d: text after the signature of the '
                  'clearsigned message: %s', rest + 1,
                  clip(lines[rest].rstrip('\r')))
    return '\n'.join(body), True, first


class _Record(object):
    __slots__ = ('name', 'algorithm', 'label', 'digest', 'where')

    def __init__(self, name, algorithm, label, digest, where):
        self.name = name
        self.algorithm = algorithm  # canonical hashlib name or None
        self.label = label  # as written, for unknown algorithms
        self.digest = digest
        self.where = where


class Manifest(object):
    """The entries of one parsed manifest; see ``lookup``."""

    def __init__(self, name, fmt, was_clearsigned):
        self.name = name
        self.format = fmt
        self.was_clearsigned = was_clearsigned
        self._records = {}  # basename -> [_Record]
        self._sizes = {}  # basename -> [(name, size, where)]
        self._names = {}  # normalized name -> None, in order
        self._bare = None

    def __len__(self):
        return 1 if self._bare else len(self._names)

    def entries(self):
        """Names listed, in order (``[]`` for a bare digest)."""
        return list(self._names)

    def _add(self, name, algorithm, label, digest, where):
        name = _normalize(name)
        if not name:
            _fail(self.name, '%s: empty entry name', where)
        if len(name) > MAX_NAME:
            _fail(self.name, '%s: entry name longer than %d characters: %s',
                  where, MAX_NAME, clip(name))
        self._names.setdefault(name, None)
        self._records.setdefault(name.rsplit('/', 1)[-1], []).append(
            _Record(name, algorithm, label, digest, where))

    def _add_size(self, name, size, where):
        name = _normalize(name)
        if name:
            self._sizes.setdefault(name.rsplit('/', 1)[-1], []).append(
                (name, size, where))

    def lookup(self, entry):
        """Digests and size the manifest lists for ``entry``.

        ``entry`` is a name as listed, or a path/URL ending in it, or the
        last components (basename) of a listed name. An exact name wins;
        otherwise the listed names that ``entry`` ends in (``/<name>``) or
        that end in ``/<entry>`` match, the most specific ones (longest
        shared path suffix) are used, and they must agree. A bare digest
        applies to any entry.

        :returns: ``({algorithm: lowercase hex}, size or None)`` with
            hashlib's canonical algorithm names.
        :raises ManifestError: the entry is not listed, is listed with
            different digests for one algorithm (or different sizes), or
            has no digest of an algorithm hashlib offers.
        """
        if not isinstance(entry, str) or not _normalize(entry).strip():
            _fail(self.name, 'looked up an empty or non-text entry %s',
                  clip(entry))
        if self._bare is not None:
            record = self._bare
            if record.algorithm is None:
                self._no_known(entry, {record.label})
            return {record.algorithm: record.digest}, None
        wanted = _normalize(entry)
        records = self._matching(wanted)
        if not records:
            self._missing(entry)
        digests = self._digests_of(entry, records)
        return digests, self._size_of(entry, wanted,
                                      {r.name for r in records})

    def _matching(self, wanted):
        """The records of ``wanted``: its exact name, else the closest.

        The closest: the listed names that share the longest path suffix
        with it.
        """
        candidates = self._records.get(wanted.rsplit('/', 1)[-1], [])
        records = [r for r in candidates if r.name == wanted]
        if records:
            return records
        matching = [r for r in candidates if _suffix_match(r.name, wanted)]
        longest = max([min(len(r.name), len(wanted)) for r in matching],
                      default=0)
        return [r for r in matching
                if min(len(r.name), len(wanted)) == longest]

    def _digests_of(self, entry, records):
        """{algorithm: digest} of ``records``, which must agree."""
        digests = {}
        first = {}
        unknown = set()
        for record in records:
            if record.algorithm is None:
                if record.label:
                    unknown.add(record.label)
                continue
            seen = digests.setdefault(record.algorithm, record.digest)
            if seen == record.digest:
                first.setdefault(record.algorithm, record)
                continue
            other = first[record.algorithm]
            if other.name == record.name:
                _fail(self.name, 'lists %s twice with different %s digests '
                      '(%s and %s)', clip(record.name), record.algorithm,
                      other.where, record.where)
            _fail(self.name, '%s matches entries with different %s digests: '
                  '%s (%s) and %s (%s); look up the full name',
                  clip(entry), record.algorithm, clip(other.name),
                  other.where, clip(record.name), record.where)
        if not digests:
            self._no_known(entry, unknown)
        return digests

    def _size_of(self, entry, wanted, names):
        """The size listed for the matched ``names``, or None."""
        size = None
        size_from = None
        for name, value, where in self._sizes.get(
                wanted.rsplit('/', 1)[-1], []):
            if name not in names:
                continue
            if size is not None and value != size:
                _fail(self.name, 'lists different sizes for %s: %d (%s) and '
                      '%d (%s)', clip(entry), size, size_from, value, where)
            size, size_from = value, where
        return size

    def _no_known(self, entry, unknown):
        if unknown:
            shown = ', '.join(clip(u, 32) for u in sorted(unknown)[:5])
            _fail(self.name, '%s has only digests of algorithms hashlib does '
                  'not offer here: %s', clip(entry), shown)
        _fail(self.name, '%s has no digest of a known algorithm',
              clip(entry))

    def _missing(self, entry):
        names = list(self._names)
        hint = ''
        if names and len(names) <= _MAX_SIMILAR_SCAN:
            base = _normalize(entry).rsplit('/', 1)[-1][:100]
            bases = {}
            for name in names:
                bases.setdefault(name.rsplit('/', 1)[-1][:100], name)
            similar = difflib.get_close_matches(base, list(bases), n=3,
                                                cutoff=0.6)
            if similar:
                hint = '; similar: %s' % ', '.join(
                    clip(bases[s]) for s in similar)
        _fail(self.name, 'lists no entry %s (%d entries%s)', clip(entry),
              len(names), hint)


def _suffix_match(name, wanted):
    if len(name) > len(wanted):
        return name.endswith('/' + wanted)
    return wanted.endswith('/' + name)


def parse(data, manifest_name):
    """Parse a manifest (bytes or str) into a ``Manifest``.

    ``manifest_name`` is the manifest's file name (or URL, or its
    basename): it gives the algorithm of GNU and bare digests when it
    declares one (``SHA256SUMS``, ``*.sha512``), and names the manifest in
    messages. A clearsigned wrapper is removed (without checking the
    signature: ``Manifest.was_clearsigned`` says it was there).

    :raises ManifestError: see the module's docstring.
    """
    text = _decode(data, manifest_name)
    body, signed, first = _unwrap(text, manifest_name)
    if body.lstrip()[:1] == '{':
        manifest = Manifest(manifest_name, 'simplestreams', signed)
        _parse_simplestreams(manifest, body)
    else:
        manifest = Manifest(manifest_name, None, signed)
        _parse_lines(manifest, body, first)
    return manifest


def _unescape(manifest, name, where):
    def replace(match):
        char = match.group(1)
        if char not in _ESCAPES:
            _fail(manifest.name, '%s: bad escape in an escaped name: %s',
                  where, clip(name))
        return _ESCAPES[char]
    return _ESCAPE_RE.sub(replace, name)


def _classify(line):
    """('bare'|'bsd'|'gnu', label, name, hex, escaped) or None."""
    escaped = line.startswith('\\')
    rest = line[1:] if escaped else line
    if not escaped and _HEX_RE.match(line):
        return 'bare', None, None, line, False
    head = _BSD_HEAD_RE.match(rest)
    if head:
        close = rest.rfind(')')
        tail = _BSD_TAIL_RE.match(rest, close + 1) if close >= 0 else None
        if tail and close >= head.end():
            return ('bsd', head.group(1), rest[head.end():close],
                    tail.group(1), escaped)
    gnu = _GNU_RE.match(rest)
    if gnu:
        return 'gnu', None, gnu.group(3), gnu.group(1), escaped
    return None


def _parse_lines(manifest, body, first):
    declared = algorithm_from_name(manifest.name)
    declared_length = _hex_length(declared) if declared else None
    if declared and declared_length is None:
        declared = None
    entry_lines = 0
    for number, raw in enumerate(body.split('\n'), first):
        line = raw.strip()
        if not line:
            continue
        where = 'line %d' % number
        if line.startswith('#'):
            size = _SIZE_COMMENT_RE.match(line)
            if size:
                manifest._add_size(size.group(1).strip(), int(size.group(2)),
                                   where)
            continue
        parsed = _classify(line)
        if parsed is None:
            if line.startswith('-----BEGIN PGP') or line.startswith(
                    '-----END PGP'):
                _fail(manifest.name, '%s: OpenPGP armor outside a single '
                      'clearsigned message (a detached or nested signature?)'
                      ': %s', where, clip(line))
            _fail(manifest.name, '%s is not a checksum line: %s', where,
                  clip(line))
        kind, label, name, digest, escaped = parsed
        entry_lines += 1
        if manifest.format is None:
            manifest.format = kind
        elif kind != manifest.format or kind == 'bare':
            if 'bare' in (kind, manifest.format):
                _fail(manifest.name, '%s: a bare digest must be the only '
                      'entry of its manifest (%s)', where, clip(line))
            _fail(manifest.name, '%s: a %s line in a %s manifest: %s', where,
                  kind.upper(), manifest.format.upper(), clip(line))
        if escaped:
            name = _unescape(manifest, name, where)
        digest = digest.lower()
        if kind == 'bsd':
            algorithm = canonical_algorithm(label)
            length = _hex_length(_alias(label))
            if length is not None and len(digest) != length:
                _fail(manifest.name, '%s: a %s digest has %d hex digits, not '
                      '%d: %s', where, clip(label, 32), len(digest), length,
                      clip(line))
        else:
            algorithm, label = _implicit_algorithm(
                manifest, declared, declared_length, digest, where, line)
        if kind == 'bare':
            manifest._bare = _Record(None, algorithm, label, digest, where)
        else:
            manifest._add(name, algorithm, label, digest, where)
    if not entry_lines:
        _fail(manifest.name, 'no checksum entries')


def _implicit_algorithm(manifest, declared, declared_length, digest, where,
                        line):
    if declared:
        if len(digest) != declared_length:
            _fail(manifest.name, '%s: digest has %d hex digits, %s (from the '
                  'manifest name) needs %d: %s', where, len(digest), declared,
                  declared_length, clip(line))
        algorithm = declared
    else:
        algorithm = _BY_LENGTH.get(len(digest))
        if algorithm is None:
            _fail(manifest.name, '%s: a digest of %d hex digits is no known '
                  'algorithm\'s (and the manifest name declares none): %s',
                  where, len(digest), clip(line))
    if canonical_algorithm(algorithm):
        return algorithm, algorithm
    return None, algorithm


def _no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError('duplicate key %s' % clip(key, 40))
        result[key] = value
    return result


def _object(manifest, value, where):
    if not isinstance(value, dict):
        _fail(manifest.name, '%s is not a JSON object', where)
    return value


def _parse_simplestreams(manifest, body):
    try:
        document = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        _fail(manifest.name, 'JSON nested too deeply')
    except ValueError as exc:
        _fail(manifest.name, 'not valid JSON: %s', clip(exc))
    document = _object(manifest, document, 'the document')
    fmt = document.get('format')
    if fmt == 'index:1.0':
        _fail(manifest.name, 'a simplestreams index, not a products:1.0 '
              'file: look up the products file it lists')
    if fmt != 'products:1.0':
        _fail(manifest.name, 'JSON but not simplestreams products:1.0 '
              '(format %s)', clip(fmt))
    products = _object(manifest, document.get('products'), 'products')
    count = 0
    for pname, product in products.items():
        pwhere = 'product %s' % clip(pname, 60)
        product = _object(manifest, product, pwhere)
        versions = _object(manifest, product.get('versions', {}),
                           pwhere + ' versions')
        for vname, version in versions.items():
            vwhere = '%s version %s' % (pwhere, clip(vname, 40))
            version = _object(manifest, version, vwhere)
            items = _object(manifest, version.get('items', {}),
                            vwhere + ' items')
            for iname, item in items.items():
                where = '%s item %s' % (vwhere, clip(iname, 40))
                item = _object(manifest, item, where)
                count += _simplestreams_item(manifest, item, where)
    if not count:
        _fail(manifest.name, 'no items with a path')


def _simplestreams_item(manifest, item, where):
    path = item.get('path')
    if path is None:
        return 0
    if not isinstance(path, str) or not _normalize(path):
        _fail(manifest.name, '%s: path is not a non-empty string', where)
    found = False
    for key, value in item.items():
        algorithm = _alias(key)
        length = _hex_length(algorithm)
        if length is None or key in ('size', 'path'):
            continue
        if (not isinstance(value, str) or len(value) != length
                or not _HEX_RE.match(value)):
            _fail(manifest.name, '%s: %s is not %d hex digits: %s', where,
                  clip(key, 32), length, clip(value))
        known = canonical_algorithm(algorithm)
        manifest._add(path, known, algorithm, value.lower(), where)
        found = True
    if not found:
        manifest._add(path, None, '', '', where)
    size = item.get('size')
    if size is not None:
        if isinstance(size, str) and size.isdigit() and len(size) <= 20:
            size = int(size)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            _fail(manifest.name, '%s: size is not a byte count: %s', where,
                  clip(size))
        manifest._add_size(path, size, where)
    return 1
