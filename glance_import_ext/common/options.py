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

"""Options shared by every plugin, and checking option values at load time.

Options live in glance-image-import.conf (Glance reads it with
glance-api.conf). oslo.config checks types and ranges only when a value is
read; ``check_options`` reads them all while the flow is built so that a bad
value fails the import with a message naming the option, instead of the
plugin silently not loading.
"""

from oslo_config import cfg
from oslo_config import types

from glance_import_ext.common import errors

GROUP = 'glance_import_ext'


CONF = cfg.CONF


class List(types.List):
    """A list option that also accepts Glance's forms: [a,b], ['a', 'b'].

    Glance's own list options in the same file need brackets, some take
    quoted items; operators write ours the same way, so every form means
    the same list.
    """

    def __init__(self, item_type=None, **kwargs):
        super().__init__(item_type=item_type or types.String(quotes=True),
                         **kwargs)

    def __call__(self, value):
        if isinstance(value, str):
            text = value.strip()
            if text.startswith('[') and text.endswith(']'):
                value = text[1:-1]
        return super().__call__(value)


def ListOpt(name, item_type=None, **kwargs):
    """cfg.ListOpt with the bracket-tolerant List type."""
    return cfg.Opt(name, type=List(item_type=item_type), **kwargs)


common_opts = [
    cfg.IntOpt('heartbeat_interval', default=60, min=5, max=1800,
               help='Seconds between updates of the import task while a '
                    'plugin works through the image data. Glance breaks an '
                    'import lock whose task has not been updated for 60 '
                    'minutes, so this must stay well below that.'),
    cfg.IntOpt('read_chunk_size', default=4 * 1024 * 1024,
               min=64 * 1024, max=64 * 1024 * 1024,
               help='Bytes read from the staged image at a time. Memory used '
                    'by a plugin that reads the data is a small multiple of '
                    'this, whatever the image size.'),
    cfg.FloatOpt('source_connect_timeout', default=5.0, min=0.1, max=300,
                 help='Seconds to wait for a connection to another '
                      "region's glance-api when reading a source image."),
    cfg.FloatOpt('source_read_timeout', default=30.0, min=0.1, max=3600,
                 help="Seconds to wait for another region's glance-api to "
                      'answer once connected.'),
    cfg.IntOpt('source_retries', default=3, min=0, max=10,
               help='How often a source image read is retried after a '
                    'connection error or an HTTP 5xx answer, with growing '
                    'delays, before the import fails.'),
    cfg.StrOpt('record_key', secret=True,
               help='Secret key that seals the records the plugins write '
                    '(import_ext_* properties) with an HMAC over the image id '
                    'and the records, so that a later edit by the image '
                    'owner shows (glance-import-ext-manage records '
                    'verify). Set the same value on every glance-api '
                    'and where the admin command runs. Unset: records are '
                    'written unsealed.'),
    ListOpt('previous_record_keys', default=[], secret=True,
            help='Keys that sealed records before the current record_key; '
                 'records they sealed still verify (key rotation).'),
    cfg.BoolOpt('require_every_plugin', default=True,
                help='While any plugin of this library is listed in '
                     '[image_import_opts] image_import_plugins, every import '
                     'fails when a listed name of another package (Glance\'s '
                     'image_conversion, image_decompression...) does not '
                     'run: no such plugin, its module does not import, or '
                     'its get_flow raises. False: such a name is only '
                     'logged as a WARNING at every import (a name of this '
                     'library, or a missing name close to one, always '
                     'fails the import).'),
    cfg.BoolOpt('verify_changed_data', default=False,
                help='Allow the verifying plugins (checksum_verify, '
                     'manifest_verify, glance_download_verify) to be listed '
                     'after a plugin that changes the data (image_conversion, '
                     'image_decompression): they then check the digests of '
                     'the changed data, which the publisher must have '
                     'declared. False: such an order fails every import.'),
]

CONF.register_opts(common_opts, group=GROUP)


def check_options(group, opts, conf=CONF):
    """Read every option of ``group``; raise ConfigError naming a bad one."""
    for opt in opts:
        try:
            getattr(conf[group], opt.dest)
        except (ValueError, cfg.Error) as exc:
            # The reason of a secret (record_key...) may quote its value.
            reason = '(not shown: secret)' if opt.secret else _reason(exc)
            raise errors.ConfigError(
                'option [%s] %s has an invalid value: %s; fix it in '
                'glance-image-import.conf and restart glance-api' % (
                    group, opt.name, reason))


def _reason(exc):
    # oslo.config's message names the file and option again; keep the part
    # after "is not valid:", which says what is wrong.
    text = str(exc).strip()
    return text.split('is not valid:', 1)[-1].strip().rstrip('.')
