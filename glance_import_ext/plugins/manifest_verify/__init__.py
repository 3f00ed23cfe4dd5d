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

"""manifest_verify: the image must match the digests its publisher lists.

Vendors publish the digests of their images in checksum manifests, most of
them signed (Ubuntu ``SHA256SUMS`` + ``SHA256SUMS.gpg``, Debian
``SHA512SUMS``, CentOS/Rocky/Fedora ``CHECKSUM`` in BSD style, AlmaLinux,
Alpine's bare ``.sha512``, simplestreams JSON). The user names the manifest
on the image before importing:

- ``expected_digests_url=<manifest URL>``;
- ``expected_digests_entry=<file name in the manifest>``, needed where the
  entry is not the web-download URI's file name (always for glance-direct
  and glance-download). For web-download the URI's path is looked up:
  its file name in a plain list, the longest matching path in a
  simplestreams feed.

While the flow is built, glance-api fetches the manifest as the caller
would (Glance's own import URL filtering, timeouts, a size cap, bounded
retries, no credentials), checks its signature where a trust rule of
``[manifest_verify]`` matches its URL (gpgv and the rule's keyring), and
finds the entry's digests and size. Rules are judged on the normal form
of each URL the fetch requests (``remote.normalise_url``, the form that is
fetched): the manifest URL and every redirect hop. The rule of each hop is
its longest matching prefix, and every rule so found must be satisfied,
so a redirect can add a rule but never take one away. Knowing the
algorithms that early lets the import's one hashing pass include them.
The task then compares every digest and the size with the staged data; a
user's own ``expected_digest_*`` that disagrees with the manifest fails the
import.

Records on success: ``import_ext_manifest_url``, ``import_ext_manifest_entry``,
``import_ext_manifest_algorithms``, ``import_ext_manifest_signer`` (the
signing key's fingerprint, or ``unsigned``).
"""

import os
import urllib.parse

from oslo_config import cfg

from glance_import_ext.common import checks
from glance_import_ext.common import declarations
from glance_import_ext.common import errors
from glance_import_ext.common import plugin
from glance_import_ext.plugins.manifest_verify import manifests
from glance_import_ext.plugins.manifest_verify import openpgp
from glance_import_ext.plugins.manifest_verify import remote

NAME = 'manifest_verify'
URL_PROPERTY = 'expected_digests_url'
ENTRY_PROPERTY = 'expected_digests_entry'
RECORD_URL = 'import_ext_manifest_url'
RECORD_ENTRY = 'import_ext_manifest_entry'
RECORD_ALGORITHMS = 'import_ext_manifest_algorithms'
RECORD_SIGNER = 'import_ext_manifest_signer'
UNSIGNED = 'unsigned'
CLEARSIGNED = 'clearsigned'
MAX_URL = 2048

manifest_verify_opts = [
    checks.mode_opt(),
    cfg.MultiStrOpt(
        'trust_rule', default=[],
        help='A manifest whose URL starts with PREFIX must be signed by a '
             'key of KEYRING: "PREFIX KEYRING SIGNATURE", where SIGNATURE is '
             'the suffix of the detached signature next to the manifest '
             '(.gpg, .asc, .sign) or "clearsigned". Repeat the option for '
             'several rules; the longest matching prefix applies. Prefix '
             'and URLs are compared in RFC 3986 normal form (README), and '
             'the rule of every redirect hop applies too. KEYRING '
             'is an OpenPGP public key file (binary or ASCII-armored).'),
    cfg.StrOpt('unsigned_manifests', default='accept',
               choices=[('accept', 'used, and recorded as unsigned'),
                        ('refuse', 'the import fails')],
               help='What happens to a manifest whose URL matches no trust '
                    'rule.'),
    cfg.IntOpt('max_manifest_bytes', default=4 * 1024 * 1024,
               min=1024, max=64 * 1024 * 1024,
               help='Largest manifest (and signature) fetched; a larger one '
                    'fails the import.'),
    cfg.FloatOpt('connect_timeout', default=5.0, min=0.1, max=120,
                 help='Seconds to wait for a connection to the manifest '
                      'server.'),
    cfg.FloatOpt('read_timeout', default=10.0, min=0.1, max=600,
                 help='Seconds to wait for the manifest server to answer '
                      'once connected.'),
    cfg.IntOpt('retries', default=2, min=0, max=5,
               help='How often a manifest fetch is retried after a '
                    'connection error, a timeout or an HTTP 5xx answer.'),
]

cfg.CONF.register_opts(manifest_verify_opts, group=NAME)


class TrustRule:
    """A URL prefix whose manifests a keyring must have signed."""

    def __init__(self, prefix, keyring, signature):
        self.prefix = prefix
        self.keyring = keyring
        self.signature = signature

    @classmethod
    def parse(cls, text):
        """A rule from its option text, ``PREFIX KEYRING SIGNATURE``.

        :param text: one value of ``[manifest_verify] trust_rule``.
        :raises ConfigError: naming what is wrong with it.
        """
        parts = text.split()
        if len(parts) != 3:
            raise errors.ConfigError(
                'option [%s] trust_rule %s is not "PREFIX KEYRING '
                'SIGNATURE"' % (NAME, errors.shorten(text)))
        prefix, keyring, signature = parts
        if urllib.parse.urlparse(prefix).scheme not in ('http', 'https'):
            raise errors.ConfigError(
                'option [%s] trust_rule: prefix %s is not an http(s) URL' % (
                    NAME, errors.shorten(prefix)))
        if '#' in prefix:
            raise errors.ConfigError(
                'option [%s] trust_rule: prefix %s has a fragment (#), which '
                'is never fetched; remove it' % (NAME,
                                                 errors.shorten(prefix)))
        try:
            # Compared with URLs in the same form, however either is spelt.
            prefix = remote.normalise_url(prefix)
        except remote.FetchError as exc:
            raise errors.ConfigError('option [%s] trust_rule: prefix: %s' % (
                NAME, exc))
        if signature != CLEARSIGNED and not (
                signature.startswith('.') and len(signature) > 1 and
                '/' not in signature):
            raise errors.ConfigError(
                'option [%s] trust_rule: signature %s is neither a suffix '
                'such as .gpg nor "clearsigned"' % (
                    NAME, errors.shorten(signature)))
        try:
            openpgp.check_keyring(keyring)
        except (openpgp.SignatureError, remote.FetchError) as exc:
            raise errors.ConfigError('option [%s] trust_rule for %s: %s' % (
                NAME, errors.shorten(prefix), exc))
        return cls(prefix, keyring, signature)


def trust_rules(conf):
    """Every configured trust rule, parsed.

    :param conf: the ``[manifest_verify]`` group.
    :raises ConfigError: at the first rule that is wrong.
    """
    return [TrustRule.parse(text) for text in conf.trust_rule]


def rule_for(rules, url):
    """The rule with the longest prefix of ``url``, or None.

    ``url`` is compared in normal form (rule prefixes are stored in it);
    :raises remote.FetchError: ``url`` is not a URL that could be fetched.
    """
    url = remote.normalise_url(url)
    matching = [r for r in rules if url.startswith(r.prefix)]
    return max(matching, key=lambda r: len(r.prefix)) if matching else None


def rules_for_hops(rules, hops):
    """[(hop, rule)]: each distinct rule of a hop, with its first hop.

    Every one of them must be satisfied: the strictest outcome, where a
    rule demands a signature wherever a hop falls under it.
    """
    found = []
    for hop in hops:
        rule = rule_for(rules, hop)
        if rule is not None and rule not in [r for _, r in found]:
            found.append((hop, rule))
    return found


class Expected:
    """What the manifest says of the entry, and how far it is trusted."""

    def __init__(self, url, entry, digests, size, signer):
        self.url = url
        self.entry = entry
        self.digests = digests
        self.size = size
        self.signer = signer

    def where(self):
        """Where the digests come from, for messages."""
        return 'entry %s of manifest %s' % (errors.shorten(self.entry),
                                            errors.clip(self.url, 120))


def read_manifest(url, entry, conf):
    """Fetch, authenticate and parse the manifest: an Expected.

    :raises ManifestProblem: saying what is wrong, for the user or operator.
    """
    def get(address, on_hop=None):
        return remote.fetch(address, conf.max_manifest_bytes,
                            conf.connect_timeout, conf.read_timeout,
                            conf.retries, on_hop=on_hop)

    hops = []

    def record_hop(hop, came_from):
        if came_from is None:
            del hops[:]  # a new attempt: only the one that answers counts
        hops.append(hop)

    # The form that is fetched is the one judged, and the one recorded.
    url = remote.normalise_url(url)
    data = get(url, record_hop)
    applicable = rules_for_hops(trust_rules(conf), hops or [url])
    if not applicable:
        if conf.unsigned_manifests == 'refuse':
            raise ManifestProblem(
                'no trust rule of [%s] covers manifest %s and unsigned '
                'manifests are refused here; ask an operator for a rule, or '
                'use a manifest from a trusted publisher' % (
                    NAME, errors.clip(url, 120)))
        data, _ = manifests.unwrap_clearsigned(data)
        signers = [UNSIGNED]
    else:
        data, signers = _verify_signatures(data, url, applicable, get)
    name = os.path.basename(urllib.parse.urlparse(url).path)
    try:
        digests, size = manifests.parse(data, name).lookup(entry)
    except manifests.ManifestError as exc:
        raise ManifestProblem('manifest %s: %s' % (errors.clip(url, 120),
                                                   exc))
    return Expected(url, entry, digests, size, ','.join(signers))


def _verify_signatures(data, url, applicable, get):
    """(the signed text, [signer]) when every rule is satisfied.

    A detached signature sits next to the URL that fell under the rule.
    :raises ManifestProblem: naming the rule, and the redirect if one led
        under it.
    """
    signed = data
    signers = []
    for hop, rule in applicable:
        try:
            if rule.signature == CLEARSIGNED:
                signed, signer = openpgp.verify_clearsigned(data,
                                                            rule.keyring)
            else:
                signer = openpgp.verify_detached(
                    data, get(hop + rule.signature), rule.keyring)
        except (openpgp.SignatureError, remote.FetchError) as exc:
            via = ('' if hop == url else ', reached by its redirect to '
                   '%s' % errors.clip(hop, 120))
            raise ManifestProblem('manifest %s must be signed (trust rule '
                                  'for %s%s): %s' % (
                                      errors.clip(url, 120),
                                      errors.clip(rule.prefix, 120), via,
                                      exc))
        if signer not in signers:
            signers.append(signer)
    return signed, signers


class ManifestProblem(Exception):
    """The manifest cannot vouch for the image; the message says why."""


class VerifyAgainstManifest(checks.VerifyingTask):
    """Compare the staged data with the manifest's entry for it.

    :param plugin: the plugin's context for this import.
    :param expected: the digests the manifest lists (Expected).
    :param problem: why the manifest could not be used; the check fails
        with it.
    """

    inputs = ('file_path',)

    def __init__(self, plugin, expected=None, problem=None):
        self.expected = expected
        self.problem = problem
        super().__init__(plugin)

    def run(self, file_path):
        """Compare the staged data with the manifest's entry.

        :param file_path: the staged data's path.
        """
        if self.problem:
            raise self.failure(self.problem)
        exp = self.expected
        declared = declarations.declared_digests(
            self.plugin.image_properties())
        for algorithm, value in sorted(declared.items()):
            if exp.digests.get(algorithm, value) != value:
                raise self.failure(
                    'expected_digest_%s disagrees with %s (%s)' % (
                        algorithm, exp.where(), exp.digests[algorithm]),
                    'correct the declaration or the manifest')
        actual, size = self.staged_digests(file_path, exp.digests)
        if exp.size is not None and size != exp.size:
            raise self.failure('%s lists %d bytes, the image has %d' % (
                exp.where(), exp.size, size))
        for algorithm, value in sorted(exp.digests.items()):
            if actual[algorithm] != value:
                raise self.failure(
                    '%s mismatch with %s: expected %s, the %d imported bytes '
                    'have %s' % (
                        algorithm, exp.where(), value, size,
                        actual[algorithm]))
        self.update_image({
            RECORD_URL: exp.url, RECORD_ENTRY: exp.entry,
            RECORD_ALGORITHMS: ','.join(sorted(exp.digests)),
            RECORD_SIGNER: exp.signer})


def _entry(p, properties):
    entry = properties.get(ENTRY_PROPERTY)
    if entry:
        return entry
    method = p.import_req.get('method') or {}
    if p.import_method == 'web-download' and method.get('uri'):
        # The whole path: a manifest listing one file name under several
        # paths (simplestreams: one per release) needs it to tell them
        # apart; a plain list of names matches it by its last part.
        path = urllib.parse.urlparse(method['uri']).path
        if os.path.basename(path):
            return path
    raise ManifestProblem(
        'set %s to the file name the manifest lists for this image (it '
        'cannot be taken from a %s import)' % (
            ENTRY_PROPERTY, p.import_method or 'this'))


def _tasks(p):
    conf = cfg.CONF[NAME]
    trust_rules(conf)  # a bad rule refuses every import, not just some
    properties = p.properties_at_build()
    url = properties.get(URL_PROPERTY)
    if not url:
        return []
    try:
        if len(url) > MAX_URL:
            raise ManifestProblem('%s is %d characters long, at most %d are '
                                  'accepted' % (URL_PROPERTY, len(url),
                                                MAX_URL))
        expected = read_manifest(url, _entry(p, properties), conf)
    except (ManifestProblem, manifests.ManifestError, openpgp.SignatureError,
            remote.FetchError) as exc:
        # Reported by the task, so that warn mode and dry runs see it too.
        return [VerifyAgainstManifest(p, problem=str(exc))]
    # The import's one pass includes the manifest's algorithms.
    p.shared.digests.want(expected.digests)
    return [VerifyAgainstManifest(p, expected)]


def get_flow(**kwargs):
    """Verify the staged data against its publisher's manifest."""
    return plugin.build_flow(NAME, kwargs, _tasks,
                             [(NAME, manifest_verify_opts)])
