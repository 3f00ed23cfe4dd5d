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

"""checksum_verify: the staged bytes must match every digest the user declared.

A user declares what they expect before importing, one image property per
algorithm, e.g. ``expected_digest_sha256=<hex>`` (any fixed-length
algorithm hashlib offers: md5, sha1, sha256, sha512, sha3_256, blake2b...).
All declared digests are computed in one pass over the staged data; any
mismatch fails the import before a byte reaches a store. An image with no
declaration imports as if the plugin were not there.

At most ``[checksum_verify] max_declared_digests`` declarations are
accepted (each costs a hash over the whole image); more fail the import
before any data is read.

Records on success: ``import_ext_verified_digests`` (the algorithms checked).
"""

from oslo_config import cfg

from glance_import_ext.common import checks
from glance_import_ext.common import declarations
from glance_import_ext.common import plugin

NAME = 'checksum_verify'
VERIFIED_PROPERTY = 'import_ext_verified_digests'

checksum_verify_opts = [
    checks.mode_opt(),
    cfg.IntOpt('max_declared_digests', default=4, min=1, max=16,
               help='Most expected_digest_* declarations one image may '
                    'carry. Each is a hash over the whole image; an image '
                    'with more fails its import with a message saying so.'),
]

cfg.CONF.register_opts(checksum_verify_opts, group=NAME)


def declared_digests(properties):
    """The image's declarations, at most ``max_declared_digests`` of them.

    :param properties: the image's properties.
    :raises ValueError: naming the property that is malformed.
    """
    return declarations.declared_digests(
        properties, cfg.CONF[NAME].max_declared_digests)


class VerifyDeclaredDigests(checks.VerifyingTask):
    """Compare the staged data with every digest the user declared.

    :param plugin: the plugin's context for this import.
    """

    inputs = ('file_path',)

    def run(self, file_path):
        """Compare every declared digest with the staged data's.

        :param file_path: the staged data's path.
        """
        try:
            declared = declared_digests(self.plugin.image_properties())
        except ValueError as exc:
            raise self.failure(str(exc), 'correct it and import again')
        if not declared:
            return
        actual, size = self.staged_digests(file_path, declared)
        for algorithm, expected in sorted(declared.items()):
            if actual[algorithm] != expected:
                raise self.failure(
                    '%s mismatch: expected %s, the %d imported bytes have %s'
                    % (algorithm, expected, size, actual[algorithm]))
        self.update_image({VERIFIED_PROPERTY: ','.join(sorted(declared))})


def _tasks(p):
    try:
        # Known now, so another verifying plugin's pass can include them.
        declared = declared_digests(p.properties_at_build())
    except ValueError:
        declared = {}  # the task reports it, before reading any data
    p.shared.digests.want(declared)
    return [VerifyDeclaredDigests(p)]


def get_flow(**kwargs):
    """Verify declared digests of the staged data."""
    return plugin.build_flow(NAME, kwargs, _tasks,
                             [(NAME, checksum_verify_opts)])
