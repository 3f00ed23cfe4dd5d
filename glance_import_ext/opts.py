"""Every option of the library, for oslo-config-generator."""

import copy

from glance_import_ext.common import options
from glance_import_ext.plugins import checksum_verify
from glance_import_ext.plugins import glance_download_verify
from glance_import_ext.plugins import manifest_verify
from glance_import_ext.plugins import metadata_copy


def list_opts():
    return [
        (options.GROUP, copy.deepcopy(options.common_opts)),
        (metadata_copy.NAME, copy.deepcopy(metadata_copy.metadata_copy_opts)),
        (checksum_verify.NAME,
         copy.deepcopy(checksum_verify.checksum_verify_opts)),
        (glance_download_verify.NAME,
         copy.deepcopy(glance_download_verify.glance_download_verify_opts)),
        (manifest_verify.NAME,
         copy.deepcopy(manifest_verify.manifest_verify_opts)),
    ]
