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

"""Every option of the library, for oslo-config-generator."""

import copy

from glance_import_ext.common import options
from glance_import_ext.middleware import stage_digests
from glance_import_ext.plugins import checksum_verify
from glance_import_ext.plugins import glance_download_verify
from glance_import_ext.plugins import image_versions
from glance_import_ext.plugins import manifest_verify
from glance_import_ext.plugins import metadata_copy


def list_opts():
    """Every option of the library, by group, for oslo.config's tools.

    The ``oslo.config.opts`` entry point: oslo-config-generator writes the
    sample ``etc/glance-image-import.conf`` from it, and the docs list the
    options from it.
    """
    return [
        (options.GROUP, copy.deepcopy(options.common_opts)),
        (metadata_copy.NAME, copy.deepcopy(metadata_copy.metadata_copy_opts)),
        (checksum_verify.NAME,
         copy.deepcopy(checksum_verify.checksum_verify_opts)),
        (glance_download_verify.NAME,
         copy.deepcopy(glance_download_verify.glance_download_verify_opts)),
        (manifest_verify.NAME,
         copy.deepcopy(manifest_verify.manifest_verify_opts)),
        (image_versions.NAME,
         copy.deepcopy(image_versions.image_versions_opts)),
        (stage_digests.GROUP,
         copy.deepcopy(stage_digests.stage_digests_opts)),
    ]
