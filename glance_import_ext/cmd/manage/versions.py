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

"""``versions rotate``: image-version rotations a dead worker left undone.

Exit codes: 0 done, or nothing to do; 1 an image was left alone (the
caller of its import may not change it, or it is not recorded); 2 error.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import output
from glance_import_ext import glance_internals
from glance_import_ext.plugins import image_versions
from glance_import_ext.plugins.image_versions import rotation

LOG = logging.getLogger(__name__)


def rotate_versions(db, args, out, here, now):
    """``versions rotate``: complete the rotations imports left pending.

    :param db: the GlanceDb (its admin context is used).
    :param args: the parsed arguments (image, apply, format).
    :param out: the stream (stdout).
    :param here: the Here of this configuration (unused).
    :param now: the time the rotations are dated.
    :returns: the exit code.
    """
    report = output.Reporter(out, args.format)
    distrusted = []
    found = rotation.stranded(db.context, glance_internals.image_repo(
        db.context), now=now, refused=distrusted)
    if args.image:
        wanted = set(args.image)
        found = [i for i in found if i.image_id in wanted]
        distrusted = [(i, w) for i, w in distrusted if i.image_id in wanted]
    for image, why in distrusted:
        report.untouched(image.image_id, why)
        LOG.warning('Not completing the rotation of image %s: %s',
                    image.image_id, why)
    if not found:
        report.say('No image version waits for its rotation.')
    for image in found:
        _rotate(image, now, args.apply, report, distrusted)
    if found and not args.apply:
        report.say('Dry run: nothing changed. Add --apply to complete %d '
                   'rotation(s).' % len(found))
    report.finish(apply=args.apply)
    return errors.EXIT_REFUSED if distrusted else errors.EXIT_OK


def _rotate(image, now, apply, report, distrusted):
    """Complete (or show) the rotation of one image, as its import's caller.

    Images it may not change are appended to ``distrusted``.
    """
    conf = cfg.CONF[image_versions.NAME]
    # The admin's rights are never lent: the rotation acts as the caller
    # of the image's import, as recorded in the anchor.
    caller = rotation.import_caller(image.image_id)
    if caller is None:
        distrusted.append((image, 'the caller of its import is not '
                                  'recorded'))
        report.untouched(image.image_id, 'the caller of its import is not '
                         'recorded (imported before this release); its '
                         'owner can import it again')
        return
    try:
        done = rotation.rotate(caller, image.image_id, conf.keep_versions,
                               conf.lock_timeout, now, apply=apply)
    except glance_internals.LockTimeout as exc:
        report.untouched(image.image_id, '%s (an import of its lineage is '
                         'rotating; run again)' % exc)
        return
    except image_versions.lock.LockUnavailable as exc:
        # A configuration to fix, not one image's state: stop here.
        raise errors.CommandError('no lineage lock to rotate under: %s' % exc)
    for rotated in done:
        distrusted.extend(rotated.refused)
        _report_rotation(rotated, apply, report)


def _report_rotation(rotated, apply, report):
    """Say one rotation: the images it changes and those it may not."""
    verb = 'completed' if apply else 'would complete'
    lines = ['%s the rotation of image %s (lineage %s)' % (
        verb, rotated.image.image_id, rotated.lineage.describe())]
    for other, why in rotated.refused:
        lines.append('  not changing image %s: the caller of the import may '
                     'not (%s)' % (other.image_id, why))
    changes = rotated.done if apply else rotated.changes
    for change in changes:
        line = '  %s image %s: %s' % (
            'changed' if apply else 'would change', change.image_id,
            change.describe())
        lines.append(line)
        LOG.info('%s', line.strip())
    report.add('rotations', {
        'image': rotated.image.image_id,
        'lineage': rotated.lineage.describe(),
        'action': verb,
        'not_changed': [{'image': other.image_id, 'reason': str(why)}
                        for other, why in rotated.refused],
        'changes': [{'image': change.image_id,
                     'description': change.describe()}
                    for change in changes]}, lines)
