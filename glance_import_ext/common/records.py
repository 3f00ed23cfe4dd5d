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

"""The records the plugins write on an image, their seal and its anchor.

Every property under ``import_ext_`` is the library's own record. Three
things keep users from forging them:

- when an import starts, the first plugin task removes whatever is under
  the namespace (a user's preset, or records of an earlier import), so
  only what this import's plugins write is there when it ends (guards);
- with ``[glance_import_ext] record_key`` set, every write of records also
  writes ``import_ext_seal``: an HMAC-SHA256, keyed by glance-api's
  configuration, over the image id and every other ``import_ext_``
  property. A record the owner adds, edits or removes later no longer
  matches;
- every write of records is *anchored* outside the image, where its owner
  cannot write: a row of the library's own table in Glance's database
  holds the fingerprint (the seal, or without a key a SHA-256 digest) of
  the records the plugins last wrote, and the caller of the import that
  wrote them. A seal alone covers only what is on the image now: the owner
  could put back an earlier sealed state, or delete every record and the
  seal with them. Against the anchor, both are seen (``verify``, used by
  ``glance-import-ext-manage records verify``), and an image the
  plugins wrote records on never again looks like one they never touched.

What it cannot tell: someone with write access to Glance's database can
change the anchor too (with a key, only to a state sealed earlier).

Property protections can make the records read-only for users as well
(README.rst, "Records nobody can forge"); the plugins write them through
the library's own door (``task.ImageTask``), which those rules do not block.
"""

import contextlib
import hashlib
import hmac
import json

from oslo_log import log as logging

from glance_import_ext.common import options
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)

NAMESPACE = 'import_ext_'
SEAL = NAMESPACE + 'seal'
# A user's request under the namespace (dry_run.py), not a record.
DRY_RUN = NAMESPACE + 'dry_run'
REQUESTS = frozenset([DRY_RUN])
# Characters of the longest record text (warnings, a dry run's report).
MAX_RECORD = 2000
SEAL_VERSION = 'v1'
# The anchor's fingerprint of records written without a key.
DIGEST_VERSION = 'sha256'

# check() verdicts
VALID = 'valid'          # sealed by a configured key, unchanged since
FORGED = 'forged'        # not what the plugins last wrote, or sealed
#                          by no configured key
ROLLED_BACK = 'rolled-back'  # an earlier state the plugins sealed
REMOVED = 'removed'      # the plugins' records are gone from the image
UNSEALED = 'unsealed'    # records without a seal
NO_RECORDS = 'none'      # nothing under the namespace, nor ever anchored
NO_KEY = 'no-key'        # a seal, but no key configured to check it
# What records verify reports as a failure (exit 1).
BAD = frozenset([FORGED, ROLLED_BACK, REMOVED, UNSEALED])


def is_record(key):
    """True if the property ``key`` is a record the plugins write.

    The ``import_ext_`` names a user sets to ask for something (REQUESTS)
    are not records.

    :param key: an image property's name.
    """
    return key.startswith(NAMESPACE) and key not in REQUESTS


def records_of(properties):
    """The library's records among ``properties``, without the seal."""
    return {k: v for k, v in properties.items() if is_record(k) and k != SEAL}


def _keys(conf=None):
    conf = conf or options.CONF[options.GROUP]
    keys = [conf.record_key] if conf.record_key else []
    return keys + [k for k in conf.previous_record_keys if k]


def _message(image_id, records):
    return json.dumps({'image': image_id, 'records': records},
                      sort_keys=True, separators=(',', ':'),
                      ensure_ascii=True).encode('ascii')


def _mac(key, image_id, records):
    return hmac.new(key.encode('utf-8'), _message(image_id, records),
                    hashlib.sha256).hexdigest()


def sealing(conf=None):
    """True when a record_key is configured (records are sealed)."""
    return bool(_keys(conf))


def seal(image_id, properties, conf=None):
    """The seal value for the records in ``properties``; None: no key."""
    keys = _keys(conf)
    if not keys:
        return None
    return '%s:%s' % (SEAL_VERSION, _mac(keys[0], image_id,
                                         records_of(properties)))


def fingerprint(image_id, properties, conf=None):
    """What the anchor keeps of the records in ``properties``.

    The seal with a key; else a SHA-256 digest over the same message (the
    anchor is out of the owner's reach, so it still tells a change).
    """
    value = seal(image_id, properties, conf)
    if value is not None:
        return value
    return '%s:%s' % (DIGEST_VERSION, hashlib.sha256(
        _message(image_id, records_of(properties))).hexdigest())


def _candidates(image_id, properties, conf=None):
    """Every fingerprint the records in ``properties`` may be anchored by.

    One per configured key (key rotation), and the digest.
    """
    records = records_of(properties)
    found = {'%s:%s' % (SEAL_VERSION, _mac(key, image_id, records))
             for key in _keys(conf)}
    found.add('%s:%s' % (DIGEST_VERSION, hashlib.sha256(
        _message(image_id, records)).hexdigest()))
    return found


def _sealed_by_us(image_id, value, records, conf=None):
    version, _, mac = str(value).partition(':')
    return version == SEAL_VERSION and any(
        hmac.compare_digest(mac, _mac(key, image_id, records))
        for key in _keys(conf))


def check(image_id, properties, conf=None, anchor=None):
    """(verdict, detail) for the records on an image.

    :param anchor: the image's anchor (glance_internals.anchor_get): the
        fingerprints the plugins last wrote, or None if they never wrote
        records on it (or did before anchors existed).
    """
    if anchor is None:
        return _check_seal(image_id, properties, conf)
    records = records_of(properties)
    value = properties.get(SEAL)
    anchored = {v for v in (anchor.get('sealed'), anchor.get('writing'))
                if v}
    keyed = any(v.startswith(SEAL_VERSION + ':') for v in anchored)
    if keyed and not _keys(conf):
        return NO_KEY, ('sealed, but [%s] record_key is not set here' %
                        options.GROUP)
    matching = anchored & _candidates(image_id, properties, conf)
    if matching:
        if not records and value is None:
            return NO_RECORDS, 'no records (the plugins removed theirs)'
        if not any(m.startswith(SEAL_VERSION + ':') for m in matching):
            if value is not None:
                return FORGED, ('a seal the plugins did not write: %s '
                                'was added after the import' % SEAL)
            return UNSEALED, (
                'records as the plugins wrote them, but not sealed ([%s] '
                'record_key was not set): %s' % (options.GROUP,
                                                 ', '.join(sorted(records))))
        if value is None or not _sealed_by_us(image_id, value, records,
                                              conf):
            return FORGED, ('the records are as the plugins wrote them but '
                            'the seal was removed or changed')
        return VALID, 'sealed records: %s' % ', '.join(sorted(records))
    if not records and value is None:
        return REMOVED, ('the records the plugins wrote were removed from '
                         'the image, seal included')
    if value is not None and _sealed_by_us(image_id, value, records, conf):
        return ROLLED_BACK, ('an earlier state of the records, sealed by '
                             'the plugins then, was put back: they are not '
                             'what the plugins last wrote')
    return FORGED, ('the records are not what the plugins last wrote: '
                    'changed, added or removed after the import')


def _check_seal(image_id, properties, conf=None):
    """The seal alone: records written before anchors existed."""
    records = records_of(properties)
    value = properties.get(SEAL)
    if value is None:
        if not records:
            return NO_RECORDS, 'no records'
        return UNSEALED, 'records without a seal: %s' % ', '.join(
            sorted(records))
    keys = _keys(conf)
    if not keys:
        return NO_KEY, ('sealed, but [%s] record_key is not set here' %
                        options.GROUP)
    if _sealed_by_us(image_id, value, records, conf):
        return VALID, ('sealed records (written before anchors: a rollback '
                       'cannot be told): %s' % ', '.join(sorted(records)))
    return FORGED, ('the seal does not match the records: they were '
                    'changed after the import, or written by someone else')


def verify(image_id, properties, conf=None):
    """check() against the anchor in Glance's database."""
    return check(image_id, properties, conf,
                 anchor=glance_internals.anchor_get(image_id))


@contextlib.contextmanager
def anchoring(image_id, properties, caller=None):
    """Anchor the records ``properties`` holds once the block's write ends.

    Before the write the anchor accepts the new state beside the old one;
    after it, only the new one. A crash in between leaves both accepted,
    never a false alarm. A write that raises takes the new state back.

    :param caller: the RequestContext of the import that writes (recorded
        for the admin command); None: keep the one recorded.
    """
    value = fingerprint(image_id, properties)
    facts = None if caller is None else glance_internals.caller_facts(caller)
    glance_internals.anchor_begin(image_id, value, facts)
    try:
        yield
    except BaseException:
        try:
            glance_internals.anchor_abort(image_id, value)
        except Exception:
            LOG.exception('Image %s: could not take back the anchor of a '
                          'write that failed', image_id)
        raise
    glance_internals.anchor_confirm(image_id, value)


def _own(properties):
    """The library's records and their seal among ``properties``."""
    return {k: v for k, v in properties.items() if is_record(k)}


class AnchoredRepo:
    """The library's door to an import's own image.

    Glance's ImportActionWrapper reads and saves through it
    (plugin.PluginContext.library_wrapper). Every save anchors the records
    it leaves. And the records are the plugins' alone: the owner can PATCH
    an image while it imports, and a save of whatever is on the image
    would seal and anchor the owner's values with the plugins'. So a read
    puts back the records as this import's plugins last saved them.

    :param repo: the repository to read and save through.
    :param caller: the import's RequestContext, recorded with the anchor.
    :param state: the import's ImportState (its ``records``).
    """

    def __init__(self, repo, caller, state):
        self._repo = repo
        self._caller = caller
        self._state = state

    def get(self, image_id):
        """The image, with this import's records as its plugins last saved.

        :param image_id: the image's id.
        """
        image = self._repo.get(image_id)
        expected = self._state.records
        if expected is None:
            return image
        properties = image.extra_properties
        found = _own(dict(properties))
        if found != expected:
            LOG.warning('Image %s: its records were changed during the import '
                        'by someone else (%s); putting back the plugins\' own',
                        image_id, ', '.join(sorted(
                            k for k in set(found) | set(expected)
                            if found.get(k) != expected.get(k))))
            for key in found:
                if key not in expected:
                    del properties[key]
            properties.update(expected)
        return image

    def save(self, image, *args, **kwargs):
        """Save ``image`` and anchor its records, in two phases.

        :param image: the domain image to save; the rest goes to Glance's
            repository as given.
        """
        properties = glance_internals.properties_of(image)
        with anchoring(image.image_id, properties, self._caller):
            result = self._repo.save(image, *args, **kwargs)
        self._state.records = _own(properties)
        return result

    def __getattr__(self, name):
        return getattr(self._repo, name)
