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

"""image_versions: a new import replaces the previous version of the image.

Which earlier images the new one replaces (its *lineage*, see
rotation.py): by default the owner's images of the same name;
with ``lineage = properties``, those with the same values of
``lineage_properties``; whatever the rule, ``replaces=<image id>`` set by
the user names the image replaced. Never another project's image.

Before the data is written, the plugin checks that the caller may change
every version the import would hide or deactivate (Glance's
``modify_image`` and ``deactivate`` policies; the import fails otherwise,
nothing changed) and records the intent on the new image
(``import_ext_version_state=pending``, ``import_ext_version_lineage``,
``import_ext_version_task``). A failed import takes the intent back with
every other record: no other image changes.

Once the import task succeeded and the image is active, the rotation runs
in this glance-api process (polled every ``rotation_poll_interval``
seconds): the other visible versions get ``os_hidden=true``,
``import_ext_superseded_by`` and ``import_ext_superseded_at``; with
``keep_versions = N`` superseded versions beyond the N newest are
deactivated; the new image gets ``import_ext_previous_image`` and
``import_ext_version_state=current``. If the process dies first, the next
import of the lineage completes it, or ``glance-import-ext-manage versions
rotate --apply``.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.common import errors
from glance_import_ext.common import keepalive
from glance_import_ext.common import options
from glance_import_ext.common import plugin
from glance_import_ext.common import task
from glance_import_ext import glance_internals
from glance_import_ext.plugins.image_versions import lock
from glance_import_ext.plugins.image_versions import rotation

LOG = logging.getLogger(__name__)
NAME = 'image_versions'

image_versions_opts = [
    cfg.StrOpt('lineage', default='name',
               choices=[('name', "the owner's images with the same name"),
                        ('properties', "the owner's images with the same "
                                       'values of lineage_properties')],
               help='Which earlier images a new import replaces. An image '
                    'with the property replaces=<image id> replaces that '
                    'image (and the images that replaced it before) '
                    'whatever the rule.'),
    options.ListOpt('lineage_properties',
                    default=['os_distro', 'os_version', 'architecture'],
                    help='With lineage = properties: the image properties '
                         'versions share (SCS-0102). An image with none of '
                         'them has no lineage; one with some but not all is '
                         'refused.'),
    cfg.IntOpt('keep_versions', default=0, min=0, max=1000,
               help='Keep this many newest versions active, the new one '
                    'included; older superseded versions are deactivated '
                    '(never deleted). 0: deactivate none.'),
    cfg.FloatOpt('rotation_poll_interval', default=1.0, min=0.1, max=60,
                 help='Seconds between looks at a finishing import: the '
                      'previous version is hidden within this time of the '
                      "new one's import succeeding."),
    cfg.IntOpt('lock_timeout', default=30, min=1, max=600,
               help="Seconds to wait for another import's rotation of the "
                    'same lineage (the lineage lock) before giving up.'),
    cfg.StrOpt('coordination_url', secret=True,
               help='tooz backend URL for the lineage lock every glance-api '
                    'and the admin command share (e.g. etcd3+http://host:'
                    '2379, redis://host:6379, zookeeper://host:2181). Unset: '
                    "the database's own lock: GET_LOCK on MySQL/MariaDB, "
                    'advisory locks on PostgreSQL. Required on a MariaDB '
                    'Galera cluster (GET_LOCK holds on one node only): '
                    'without it image_versions refuses every import there.'),
]

cfg.CONF.register_opts(image_versions_opts, group=NAME)


def check_lineage_properties(conf):
    """Refuse a ``lineage_properties`` option that cannot name a lineage.

    :param conf: the ``[image_versions]`` group.
    :raises ConfigError: no name, an empty name, or a reserved namespace.
    """
    if conf.lineage != 'properties':
        return
    names = [n.strip() for n in conf.lineage_properties]
    if not names or not all(names):
        raise errors.ConfigError(
            'option [%s] lineage_properties needs at least one property '
            'name and no empty one' % NAME)
    for name in names:
        if name.startswith((glance_internals.RESERVED_PREFIX,
                            rotation.NS)):
            raise errors.ConfigError(
                'option [%s] lineage_properties has %s: keys under %s and %s '
                'are not image properties users set' % (
                    NAME, name, glance_internals.RESERVED_PREFIX,
                    rotation.NS))


class RecordIntent(task.ImageTask):
    """Check the caller's rights, record the intent, rotate after success."""

    def run(self):
        """Record the intent; the rotation runs once the import ends.

        Refuses the import when its caller may not change a version the
        rotation would change.
        """
        p = self.plugin
        conf = cfg.CONF[NAME]
        image = p.library_repo.get(p.image_id)
        try:
            lineage = rotation.Lineage.of_image(
                image, conf.lineage, [n.strip() for n in
                                      conf.lineage_properties])
            if lineage is None:
                return
            self._check_named(lineage)
        except rotation.VersionError as exc:
            raise self.failure(str(exc))
        planned = rotation.Rotation(p.context, image, lineage,
                                    conf.keep_versions).plan(p.library_repo)
        if planned.refused:
            raise self.failure(planned.refusal_message())
        self.update_records({rotation.STATE: rotation.PENDING,
                             rotation.LINEAGE: lineage.record,
                             rotation.TASK: p.task_id})
        keepalive.KEEPALIVE.when_done(
            p.task_id, _after_import(p.context, p.image_id, p.task_id),
            poll=conf.rotation_poll_interval)

    def _check_named(self, lineage):
        named = lineage.key.get(rotation.REPLACES)
        if not named:
            return
        image = glance_internals.visible_image(self.plugin.library_repo,
                                               named)
        if image is None or image.owner != lineage.owner:
            raise rotation.VersionError(
                'property %s=%s: your project has no such image; only images '
                'of the same project can be replaced' % (
                    rotation.REPLACES, named))


def _after_import(context, image_id, task_id):
    def rotate(status):
        if status != 'success':
            LOG.info('Image versions: import task %s of image %s ended %s; '
                     'no other image changes', task_id, image_id, status)
            return
        conf = cfg.CONF[NAME]
        try:
            rotation.rotate(context, image_id, conf.keep_versions,
                            conf.lock_timeout)
        except Exception:
            LOG.exception('Image versions: rotation after image %s failed; '
                          'the next import of its lineage or '
                          'glance-import-ext-manage versions rotate --apply '
                          'completes it', image_id)
    return rotate


def check_lineage_lock(conf):
    """Refuse to run where rotations cannot share one lineage lock.

    :param conf: the ``[image_versions]`` group.
    :raises ConfigError: saying why and what to set.
    """
    why = lock.problem(conf)
    if why:
        raise errors.ConfigError('%s refuses to run: %s' % (NAME, why))


def _tasks(p):
    conf = cfg.CONF[NAME]
    check_lineage_properties(conf)
    check_lineage_lock(conf)
    return [RecordIntent(p)]


def get_flow(**kwargs):
    """Replace the previous version of the image once this one is active."""
    return plugin.build_flow(NAME, kwargs, _tasks,
                             [(NAME, image_versions_opts)])
