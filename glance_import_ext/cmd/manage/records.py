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

"""``records verify``: are the library's records as its plugins wrote them.

Exit codes: 0 every record checked is valid; 1 forged, rolled-back,
removed or unsealed records found; 2 error (no key here to check sealed
records, an image not found).
"""

from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import output
from glance_import_ext.cmd.manage import values
from glance_import_ext.common import options
from glance_import_ext.common import records
from glance_import_ext import glance_internals


def verify_records(db, args, out, here, now):
    """``records verify``: each image's records against seal and anchor.

    :param db: the GlanceDb (or a fake).
    :param args: the parsed arguments (images, format).
    :param out: the stream (stdout).
    :param here: the Here of this configuration (unused).
    :param now: unused: the records' verdicts do not age.
    :returns: the exit code.
    :raises errors.CommandError: no record_key to check sealed records
        with, or a named image not found.
    """
    images, missing = _images_to_verify(db, args.images)
    results = []
    for image in images:
        verdict, detail = records.verify(image['id'], image['properties'])
        if verdict == records.NO_RECORDS and not args.images:
            continue
        results.append({'image': image['id'], 'status': image['status'],
                        'verdict': verdict, 'detail': detail})
    if args.format == output.JSON:
        output.write_json(out, {'images': results, 'not_found': missing})
    else:
        output.write_table(
            out, (36, 9, 8), ('IMAGE', 'STATUS', 'RECORDS', 'DETAIL'),
            [(values.show(r['image'], 36), values.show(r['status'], 9),
              r['verdict'], values.show(r['detail'], 300)) for r in results])
        for image_id in missing:
            out.write('Not found: image %s\n' % values.show(image_id))
    verdicts = {r['verdict'] for r in results}
    if records.NO_KEY in verdicts:
        raise errors.CommandError(
            'sealed records cannot be checked: [%s] record_key is not set in '
            'the configuration read' % options.GROUP,
            'run where glance-image-import.conf has it, or pass its '
            'directory\'s glance-api.conf with --config-file')
    if missing:
        raise errors.CommandError('%d image(s) not found: %s' % (
            len(missing), ', '.join(values.show(i) for i in missing)),
            'give ids of existing images')
    if verdicts & records.BAD:
        return errors.EXIT_REFUSED
    return errors.EXIT_OK


def _images_to_verify(db, image_ids):
    """(images, ids not found): those named, else every one with records."""
    if image_ids:
        found = [(i, db.image(i)) for i in image_ids]
        return ([image for _, image in found if image is not None],
                [i for i, image in found if image is None])
    images = [i for i in db.images('active')
              if any(k.startswith(records.NAMESPACE) for k in i['properties'])]
    # An image whose records were all removed has none to find it by: its
    # anchor still names it.
    listed = {i['id'] for i in images}
    for image_id in sorted(set(glance_internals.anchored_image_ids()) -
                           listed):
        image = db.image(image_id)
        if image is not None:
            images.append(image)
    return images, []
