"""Every option of the library, for oslo-config-generator."""

import copy

from glance_import_ext.common import options


def list_opts():
    return [
        (options.GROUP, copy.deepcopy(options.common_opts)),
    ]
