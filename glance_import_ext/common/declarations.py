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

"""What a user declares about the data: ``expected_digest_<algorithm>``.

One image property per algorithm, the value its hex digest. The rules of
what a declaration is live here once: checksum_verify verifies the
declarations, manifest_verify requires them to agree with the manifest,
and the stage filter computes their algorithms while the data is staged.
"""

from glance_import_ext.common import hashing

PREFIX = 'expected_digest_'


def declared_digests(properties, limit=None):
    """{algorithm: hex digest} from the image's declarations.

    :param properties: the image's properties.
    :param limit: most algorithms accepted (None: any number); each is a
        hash over the whole image for the plugin that verifies them.
    :raises ValueError: naming the property that is malformed, two
        declarations of one algorithm that differ, or too many.
    """
    declared = {}
    for key, value in sorted(properties.items()):
        if not key.startswith(PREFIX):
            continue
        try:
            algorithm, digest = hashing.check_hex_digest(
                key[len(PREFIX):], value)
        except ValueError as exc:
            raise ValueError('property %s: %s' % (key, exc))
        if declared.get(algorithm, digest) != digest:
            raise ValueError('two different %s digests are declared' %
                             algorithm)
        declared[algorithm] = digest
    if limit is not None and len(declared) > limit:
        raise ValueError('%d digest algorithms are declared (%s), at most %d '
                         'are accepted; keep the ones the publisher vouches '
                         'for and remove the others' % (
                             len(declared), ', '.join(sorted(declared)),
                             limit))
    return declared


def declared_algorithms(properties):
    """The algorithms of the declarations that name a valid one.

    For work done ahead (hashing while staging): a malformed declaration
    is left for the import's check to refuse.

    :param properties: the image's properties.
    """
    found = []
    for key in properties:
        if key.startswith(PREFIX):
            try:
                found.append(hashing.check_algorithm(key[len(PREFIX):])[0])
            except ValueError:
                continue
    return found
