"""Options of every plugin, for oslo-config-generator (``oslo.config.opts``)."""

import copy

from glance_import_ext.common import options


def list_opts():
    return [
        (options.GROUP, copy.deepcopy(options.common_opts)),
    ]
