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

"""glance_download_verify: the downloaded bytes must be the source image's.

Glance 33's glance-download checks only that the byte count matches the
source. This plugin reads the source image record in its region (with the
caller's token, like the download itself) and verifies the staged bytes
against its ``size``, its ``os_hash_value`` (computed with the source's
``os_hash_algo``) and its ``checksum`` (md5), in one streaming pass. A
mismatch fails the import before a byte reaches a store. Other import
methods: nothing to do.

Records on success: ``import_ext_download_verified`` =
``<region>/<source image id> <algorithm>:<value>`` (plus ``md5`` when the
source has a checksum).

Why not let Glance's own store upload compare a preset hash for free:
Glance 33 compares after the store has written the object
(``glance/location.py`` ``_upload_to_store``) and does not delete it on a
mismatch, so corrupted bytes would stay in the store.
"""

from oslo_config import cfg

from glance_import_ext.common import checks
from glance_import_ext.common import hashing
from glance_import_ext.common import plugin
from glance_import_ext.common import source
from glance_import_ext.common import staging
from glance_import_ext import glance_internals

NAME = 'glance_download_verify'
VERIFIED = 'import_ext_download_verified'

glance_download_verify_opts = [checks.mode_opt()]

cfg.CONF.register_opts(glance_download_verify_opts, group=NAME)


def expected_digests(src):
    """{algorithm: hex digest} the source image vouches for."""
    expected = {}
    if src.os_hash_algo and src.os_hash_value:
        algorithm, value = hashing.check_hex_digest(src.os_hash_algo,
                                                    src.os_hash_value)
        expected[algorithm] = value
    if src.checksum:
        expected['md5'] = hashing.check_hex_digest('md5', src.checksum)[1]
    return expected


class VerifyDownload(checks.VerifyingTask):
    """Compare the downloaded data with the source image's own digests.

    :param plugin: the plugin's context for this import.
    """

    inputs = ('file_path',)
    # It asks the source region before reading any data.
    checks_lock_first = True

    def run(self, file_path):
        """Read the source image in its region and verify the data.

        :param file_path: the downloaded data, staged on this worker.
        """
        method = self.plugin.import_req.get('method', {})
        try:
            src = source.read_remote_image(
                self.plugin.context, method.get('glance_region'),
                method.get('glance_image_id'),
                method.get('glance_service_interface') or 'public')
            src.require_active()
            expected = expected_digests(src)
        except source.SourceError as exc:
            raise self.failure('cannot verify the download: %s' %
                               exc.problem, exc.remedy)
        except ValueError as exc:
            raise self.failure('cannot verify the download: %s' % exc)
        if not expected:
            raise self.failure('source %s has no checksum or os_hash_value '
                               'to verify the download against' % src)
        size = staging.StagedData(file_path).size()
        if src.size is not None and size != src.size:
            raise self.failure('downloaded %d bytes, source %s has %d' % (
                size, src, src.size))
        actual, _ = self.staged_digests(file_path, expected)
        for algorithm, value in sorted(expected.items()):
            if actual[algorithm] != value:
                raise self.failure(
                    '%s mismatch with source %s: expected %s, the %d '
                    'downloaded bytes have %s' % (
                        algorithm, src, value, size, actual[algorithm]))
        record = ' '.join('%s:%s' % item for item in sorted(expected.items()))
        self.update_image({VERIFIED: '%s/%s %s' % (src.region, src.id,
                                                   record)})


def _tasks(p):
    if p.import_method != 'glance-download':
        return []
    # A source Glance most likely hashes as this one does: announce those
    # so that one pass also serves the other verifying plugins.
    p.shared.digests.want(['md5', glance_internals.hashing_algorithm()])
    return [VerifyDownload(p)]


def get_flow(**kwargs):
    """Verify downloaded data against the source image's record."""
    return plugin.build_flow(NAME, kwargs, _tasks,
                             [(NAME, glance_download_verify_opts)])
