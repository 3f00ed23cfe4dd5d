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

"""The records the plugins write on an image, and their seal.

Every property under ``import_ext_`` is the library's own record. Two
things keep users from forging them:

- when an import starts, the first plugin task removes whatever is under
  the namespace (a user's preset, or records of an earlier import), so
  only what this import's plugins write is there when it ends (guards);
- with ``[glance_import_ext] record_key`` set, every write of records also
  writes ``import_ext_seal``: an HMAC-SHA256, keyed by glance-api's
  configuration, over the image id and every other ``import_ext_``
  property. A record the owner adds, edits or removes later no longer
  matches; ``check`` (used by ``glance-import-ext-stuck-imports
  verify-records``) tells.

Property protections can make the records read-only for users as well
(README.rst, "Records nobody can forge"); the plugins write them through
the library's own door (``task.ImageTask``), which those rules do not block.
"""

import hashlib
import hmac
import json

from glance_import_ext.common import options

NAMESPACE = 'import_ext_'
SEAL = NAMESPACE + 'seal'
# A user's request under the namespace (checks.py), not a record.
DRY_RUN = NAMESPACE + 'dry_run'
REQUESTS = frozenset([DRY_RUN])
SEAL_VERSION = 'v1'

# check() verdicts
VALID = 'valid'          # sealed by a configured key, unchanged since
FORGED = 'forged'        # a seal that no configured key produced
UNSEALED = 'unsealed'    # records without a seal
NO_RECORDS = 'none'      # nothing under the namespace
NO_KEY = 'no-key'        # a seal, but no key configured to check it


def is_record(key):
    return key.startswith(NAMESPACE) and key not in REQUESTS


def records_of(properties):
    """The library's records among ``properties``, without the seal."""
    return {k: v for k, v in properties.items() if is_record(k) and k != SEAL}


def _keys(conf=None):
    conf = conf or options.CONF[options.GROUP]
    keys = [conf.record_key] if conf.record_key else []
    return keys + [k for k in conf.previous_record_keys if k]


def _mac(key, image_id, records):
    message = json.dumps({'image': image_id, 'records': records},
                         sort_keys=True, separators=(',', ':'),
                         ensure_ascii=True).encode('ascii')
    return hmac.new(key.encode('utf-8'), message, hashlib.sha256).hexdigest()


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


def check(image_id, properties, conf=None):
    """(verdict, detail) for the records on an image."""
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
    version, _, mac = str(value).partition(':')
    if version == SEAL_VERSION:
        for key in keys:
            if hmac.compare_digest(mac, _mac(key, image_id, records)):
                return VALID, 'sealed records: %s' % ', '.join(
                    sorted(records))
    return FORGED, ('the seal does not match the records: they were '
                    'changed after the import, or written by someone else')
