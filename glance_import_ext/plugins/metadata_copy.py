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

"""metadata_copy: carry a source image's metadata onto the imported image.

The source is
- for glance-download: the image the import copies, read in its region
  with the caller's token (``glance_region``, ``glance_image_id``,
  ``glance_service_interface`` of the import request);
- for glance-direct and web-download: a local image the caller names by
  setting the property ``copy_metadata_from=<image id>`` on the target
  before importing, read with the caller's own rights.
No source, nothing to do.

Copied: properties whose key starts with one of ``extra_properties_prefixes``
and with none of ``exclude_prefixes``; never keys under ``os_glance_``
(Glance's) or ``import_ext_`` (the library's records). Each key is written
with the caller's rights: a key Glance's property protections do not let
the caller write is skipped, the others are copied.
Optionally disk/container format and tags. A key the target already had
when the import started keeps the target's value unless ``on_conflict =
use-source``.

Records: ``import_ext_metadata_source_image``, for glance-download
``import_ext_metadata_source_region``, ``import_ext_metadata_copied``
(the keys that now carry the source's value) and, when some were refused,
``import_ext_metadata_skipped`` (keys the caller may not write).

Glance's own glance-download metadata step (``[glance_download_properties]
extra_properties``) runs before any plugin and copies its list regardless
of this plugin's options; set it to ``[]`` to let this plugin decide alone.
"""

import uuid

from oslo_config import cfg
from oslo_config import types
from oslo_log import log as logging

from glance_import_ext.common import errors
from glance_import_ext.common import options
from glance_import_ext.common import plugin
from glance_import_ext.common import records
from glance_import_ext.common import source
from glance_import_ext.common import task
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)
NAME = 'metadata_copy'
SOURCE_PROPERTY = 'copy_metadata_from'
SOURCE_IMAGE = 'import_ext_metadata_source_image'
SOURCE_REGION = 'import_ext_metadata_source_region'
COPIED = 'import_ext_metadata_copied'
SKIPPED = 'import_ext_metadata_skipped'
RESERVED = glance_internals.RESERVED_PREFIX
METHODS = ('glance-direct', 'web-download', 'glance-download')

metadata_copy_opts = [
    options.ListOpt('extra_properties_prefixes',
                    default=['hw_', 'trait:', 'os_distro', 'os_secure_boot',
                             'os_type'],
                    help='Source properties whose key starts with one of '
                         'these are copied. Default: what an instance needs '
                         'to boot as the source did.'),
    options.ListOpt('exclude_prefixes', default=[],
                    help='Keys starting with one of these are not copied, '
                         'even when extra_properties_prefixes selects them.'),
    options.ListOpt('sync_formats', default=['glance-download'],
                    item_type=types.String(
                        choices=METHODS, quotes=True),
                    help='Import methods for which disk_format and '
                         'container_format are set from the source.'),
    cfg.BoolOpt('copy_tags', default=False,
                help="Add the source's tags to the image."),
    cfg.StrOpt('on_conflict', default='keep-target',
               choices=[('keep-target', "the image's own value stays"),
                        ('use-source', "the source's value replaces it")],
               help='What happens to a key the image already had when the '
                    'import started and the source has too.'),
]

cfg.CONF.register_opts(metadata_copy_opts, group=NAME)


def check_prefixes(conf):
    """Refuse prefixes that would copy everything or Glance's own keys."""
    for opt in ('extra_properties_prefixes', 'exclude_prefixes'):
        for prefix in getattr(conf, opt):
            if not prefix.strip():
                raise errors.ConfigError(
                    'option [%s] %s has an empty prefix; remove it (an empty '
                    'prefix matches every key)' % (NAME, opt))
            if (opt == 'extra_properties_prefixes' and
                    prefix.startswith(glance_internals.GLANCE_NAMESPACE)):
                raise errors.ConfigError(
                    'option [%s] %s has %r: keys under %s are reserved by '
                    'Glance and never copied' % (NAME, opt, prefix, RESERVED))


def select(properties, prefixes, excludes):
    """Properties chosen by prefix, minus excluded ones.

    Never Glance's reserved keys, nor the library's records: those describe
    the source's own import, not this one.
    """
    return {k: v for k, v in properties.items()
            if k.startswith(tuple(prefixes))
            and not k.startswith(tuple(excludes))
            and not k.startswith(RESERVED)
            and not records.is_record(k)}


def plan(selected, target_before, on_conflict):
    """Which selected keys to write: {key: value}, and the copied key list.

    A key the target had before the import keeps the target's value under
    keep-target. Keys already equal to the source count as copied.
    """
    writes = {}
    copied = []
    for key, value in sorted(selected.items()):
        if key in target_before and on_conflict == 'keep-target' \
                and target_before[key] != value:
            continue
        copied.append(key)
        writes[key] = value
    return writes, copied


class CopyMetadata(task.ImageTask):
    """Copy the source image's selected properties to the new image.

    :param plugin: the plugin's context for this import.
    :param target_before: the new image's properties before the copy.
    :param local_source_id: the source image of a copy in this Glance.
    """

    def __init__(self, plugin, target_before, local_source_id):
        self.target_before = target_before
        self.local_source_id = local_source_id
        super().__init__(plugin)

    def read_source(self):
        """The source image, read with the caller's rights."""
        p = self.plugin
        if p.import_method == 'glance-download':
            method = p.import_req.get('method', {})
            return source.read_remote_image(
                p.context, method.get('glance_region'),
                method.get('glance_image_id'),
                method.get('glance_service_interface') or 'public')
        return source.read_local_image(p.user_image_repo,
                                       self.local_source_id)

    def run(self):
        """Copy what the options select; record what was copied."""
        conf = cfg.CONF[NAME]
        try:
            src = self.read_source()
            src.require_active()
        except source.SourceError as exc:
            raise self.failure('%s; nothing was copied' % exc)
        selected = select(src.properties, conf.extra_properties_prefixes,
                          conf.exclude_prefixes)
        writes, copied = plan(selected, self.target_before, conf.on_conflict)
        refused = self.copy_properties(writes)
        if refused:
            LOG.warning('Image %s: metadata_copy skipped %s',
                        self.plugin.image_id, ', '.join(
                            '%s (%s)' % item
                            for item in sorted(refused.items())))
        record = {SOURCE_IMAGE: src.id,
                  COPIED: ','.join(k for k in copied if k not in refused)}
        if refused:
            record[SKIPPED] = ','.join(sorted(refused))
        if src.region:
            record[SOURCE_REGION] = src.region
        attributes = {}
        if self.plugin.import_method in conf.sync_formats:
            attributes = {'disk_format': src.disk_format,
                          'container_format': src.container_format}
        tags = sorted(src.tags) if conf.copy_tags else ()
        self.update_image(record, add_tags=tags, **attributes)


def _tasks(p):
    conf = cfg.CONF[NAME]
    check_prefixes(conf)
    # Taken now, before Glance's own metadata step runs: "the image's own
    # value" in on_conflict means what the user had set.
    before = p.properties_at_build()
    local_source = None
    if p.import_method != 'glance-download':
        local_source = before.get(SOURCE_PROPERTY)
        if not local_source:
            return []
        try:
            uuid.UUID(local_source)
        except ValueError:
            return [plugin.RefuseToRun(p, (
                'property %s=%s is not an image id; set it to the id of '
                'the image to copy metadata from' % (
                    SOURCE_PROPERTY, errors.shorten(local_source))))]
    return [CopyMetadata(p, before, local_source)]


def get_flow(**kwargs):
    """Copy the source image's metadata onto the image being imported."""
    return plugin.build_flow(NAME, kwargs, _tasks,
                             [(NAME, metadata_copy_opts)])
