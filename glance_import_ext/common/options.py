"""Options shared by every plugin, and checking option values at load time.

Options live in glance-image-import.conf (Glance reads it with
glance-api.conf). oslo.config checks types and ranges only when a value is
read; ``check_options`` reads them all while the flow is built so that a bad
value fails the import with a message naming the option, instead of the
plugin silently not loading.
"""

from oslo_config import cfg

GROUP = 'glance_import_ext'

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
]

CONF = cfg.CONF
CONF.register_opts(common_opts, group=GROUP)


def check_options(group, opts, conf=CONF):
    """Read every option of ``group``; raise ConfigError naming a bad one."""
    from glance_import_ext.common import errors
    for opt in opts:
        try:
            getattr(conf[group], opt.dest)
        except (ValueError, cfg.Error) as exc:
            raise errors.ConfigError(
                'option [%s] %s has an invalid value: %s; fix it in '
                'glance-image-import.conf and restart glance-api' % (
                    group, opt.name, _reason(exc)))


def _reason(exc):
    # oslo.config's message names the file and option again; keep the part
    # after "is not valid:", which says what is wrong.
    text = str(exc).strip()
    return text.split('is not valid:', 1)[-1].strip().rstrip('.')
