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

"""Glance's options the library reads, and their registration.

Glance registers its options as its modules are imported; the admin
command and the pre-flight register them as glance-api has them.
"""

from oslo_config import cfg

from glance_import_ext.glance_internals import releases
from glance_import_ext.glance_internals import reserved

_EVERY = releases.EVERY

# keystonemiddleware's group. Glance 28.2.0-32.0.0 read its
# ``identity_uri`` when proxying an import to the staging worker
# (glance.context.get_ksa_client); 33.0.0 does not.
AUTHTOKEN_GROUP = 'keystone_authtoken'

IMPORT_PLUGINS_GROUP = 'image_import_opts'          # image_import_plugins
# The stevedore namespace Glance loads image_import_plugins from
# (async_/flows/plugins get_import_plugins: NamedExtensionManager,
# invoke_on_load, with get_flow's keyword arguments).
PLUGIN_NAMESPACE = 'glance.image_import.plugins'
# Glance's own plugins that change the staged data: image_decompression
# replaces the staged file, image_conversion writes a converted one and
# hands it on as file_path.
DATA_CHANGING_PLUGINS = ('image_conversion', 'image_decompression')
# Glance's own plugins whose revert sets the image ``queued`` itself, from
# ``importing`` or ``uploading`` (``queued`` again raises, and taskflow
# stops reverting: the import lock would stay). _ConvertImage.revert also
# removes the staged file, which its execute removes once converted.
QUEUED_BY_REVERT_PLUGINS = ('image_conversion',)
GLANCE_DOWNLOAD_GROUP = 'glance_download_properties'  # extra_properties
IMPORT_FILTERING_GROUP = 'import_filtering_opts'


def image_import_plugins(conf=None):
    """``[image_import_opts] image_import_plugins``; [] if not registered.

    Glance registers the option when its import flow module is first
    imported (api_image_import), which a paste filter may run before.
    """
    conf = cfg.CONF if conf is None else conf
    try:
        import glance.async_.flows.api_image_import  # noqa: F401
    except ImportError:  # pragma: no cover - only outside Glance
        pass
    try:
        return list(conf[IMPORT_PLUGINS_GROUP].image_import_plugins)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return []


def glance_download_copied_prefixes(conf=None):
    """What Glance's glance-download metadata step copies (a tuple).

    ``[glance_download_properties] extra_properties``; () if not
    registered.
    """
    conf = cfg.CONF if conf is None else conf
    try:
        return tuple(conf[GLANCE_DOWNLOAD_GROUP].extra_properties)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return ()


def hashing_algorithm(conf=None):
    """``[DEFAULT] hashing_algorithm`` (os_hash_algo); sha512 if absent."""
    conf = cfg.CONF if conf is None else conf
    try:
        return conf.hashing_algorithm
    except cfg.NoSuchOptError:
        return 'sha512'


def worker_url(conf=None):
    """This worker's URL as Glance announces it to its peers, or None.

    ``worker_self_reference_url`` (written to os_glance_stage_host), else
    ``public_endpoint``.
    """
    conf = cfg.CONF if conf is None else conf
    for name in ('worker_self_reference_url', 'public_endpoint'):
        try:
            url = getattr(conf, name)
        except cfg.NoSuchOptError:
            continue
        if url:
            return url
    return None


def staging_dir(conf=None):
    """The directory this worker stages data in, or None.

    ``[os_glance_staging_store] filesystem_store_datadir`` with
    ``enabled_backends``, else the ``node_staging_uri`` file URI.
    Raises cfg.Error or ValueError for an invalid option.
    """
    conf = cfg.CONF if conf is None else conf
    if conf.enabled_backends:
        return conf[reserved.STAGING_STORE].filesystem_store_datadir or None
    uri = conf.node_staging_uri or ''
    if not uri.startswith('file://'):
        return None
    return uri[len('file://'):] or None


def store_objects(image_id, stores, conf=None):
    """Where the file stores ``stores`` would hold ``image_id``'s data.

    glance_store's filesystem driver writes ``<datadir>/<image id>``
    (``filesystem_store_datadir``, or one of ``filesystem_store_datadirs``
    given as ``path[:priority]``), refuses to write over an existing one
    (Duplicate) and leaves a partial one when its process dies mid-write.
    Needs register_staging_store_options (the stores' options).

    :returns: (paths of regular files there, names of the stores that are
        not file stores of this configuration: not looked at).
    """
    import os
    if not stores:
        return [], []
    conf = cfg.CONF if conf is None else conf
    backends = conf.enabled_backends or {}
    paths, unseen = [], []
    for store in stores:
        if backends.get(store) != 'file':
            unseen.append(store)
            continue
        group = conf[store]
        dirs = [group.filesystem_store_datadir] + [
            d.rsplit(':', 1)[0] if d.rsplit(':', 1)[-1].isdigit() else d
            for d in group.filesystem_store_datadirs or ()]
        for datadir in filter(None, dirs):
            path = os.path.join(datadir, image_id)
            if os.path.isfile(path) and not os.path.islink(path):
                paths.append(path)
    return paths, unseen


def register_glance_options(conf=None):
    """Register Glance's options as glance-api has them (admin command).

    Glance registers its options as its modules are imported:
    glance.common.config (worker_self_reference_url, node_staging_uri,
    hashing_algorithm; enabled_backends from 32.0.0), the SQLAlchemy API
    (database; it imports glance.common.wsgi, which has enabled_backends
    on 28.2.0-31.1.0), glance.api.versions (public_endpoint).
    """
    conf = cfg.CONF if conf is None else conf
    import glance.common.config  # noqa: F401
    import glance.db.sqlalchemy.api  # noqa: F401
    try:
        conf.import_opt('public_endpoint', 'glance.api.versions')
    except (ImportError, cfg.Error):
        pass


def register_staging_store_options(conf=None):
    """Register the reserved stores' options, with ``enabled_backends``.

    As glance-api does: glance_store.register_store_opts with Glance's
    RESERVED_STORES.
    """
    conf = cfg.CONF if conf is None else conf
    if conf.enabled_backends:
        import glance_store
        glance_store.register_store_opts(
            conf, reserved_stores=dict(reserved.RESERVED_STORES))


def register_preflight_options(conf=None):
    """Register what the pre-flight command reads beyond the admin command.

    ``[image_import_opts]`` (glance.async_.flows.api_image_import) and the
    property protection options (glance.common.property_utils).
    """
    conf = cfg.CONF if conf is None else conf
    conf.import_opt('image_import_plugins',
                    'glance.async_.flows.api_image_import',
                    group=IMPORT_PLUGINS_GROUP)
    conf.import_opt('property_protection_file',
                    'glance.common.property_utils')


# name -> where it was checked.
VERIFIED = {
    'store_objects': 'source of glance_store 5.7.0 (with 33.0.0: '
                     '_drivers/filesystem.py Store.add: <datadir>/<image '
                     'id>, Duplicate if it exists; datadirs path:priority); '
                     'matrix of 33.0.0 (test_parallel_stores)',
    'AUTHTOKEN_GROUP': 'source: get_ksa_client reads identity_uri on '
                       '28.2.0-32.0.0, not on 33.0.0',
    'IMPORT_PLUGINS_GROUP': _EVERY,
    'PLUGIN_NAMESPACE': _EVERY + ' (get_import_plugins)',
    'DATA_CHANGING_PLUGINS': _EVERY + ' (async_/flows/plugins)',
    'QUEUED_BY_REVERT_PLUGINS': 'source of 33.0.0 (_ConvertImage.revert '
                                'sets queued, removes src_path)',
    'GLANCE_DOWNLOAD_GROUP': _EVERY,
    'IMPORT_FILTERING_GROUP': _EVERY,
    'image_import_plugins': _EVERY + ' (registered by api_image_import)',
    'glance_download_copied_prefixes': _EVERY,
    'hashing_algorithm': _EVERY,
    'worker_url': _EVERY,
    'staging_dir': _EVERY,
    'register_glance_options': _EVERY + ' (where each option lives)',
    'register_staging_store_options': _EVERY,
    'register_preflight_options': _EVERY + ' (where each option lives)',
}
