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

"""``imports list|recover|clean``: imports that cannot end, and their images.

Exit codes: 0 done, or nothing to do; 1 refused (a live import or a worker
that answers would be touched, something changed meanwhile); 2 error.
"""

import os

from oslo_log import log as logging

from glance_import_ext.cmd.manage import assess
from glance_import_ext.cmd.manage import errors
from glance_import_ext.cmd.manage import output
from glance_import_ext.cmd.manage import recovery
from glance_import_ext.cmd.manage import values
from glance_import_ext.common import records
from glance_import_ext.common import workers

LOG = logging.getLogger(__name__)

# What a change does to an image, once made.
DONE = {'recover': 'recovered', 'reset': 'reset', 'delete': 'deleted'}


def _probe(urls, probe):
    return {url: probe(url) for url in sorted({u for u in urls if u})}


def _answers(url, timeout=2.0):
    return workers.connection_state(url, timeout=timeout) == \
        workers.CONNECTED


def list_imports(db, args, out, here, now, probe=_answers):
    """``imports list``: every image an import holds, alive or dead.

    :param db: the GlanceDb (or a fake).
    :param args: the parsed arguments (format, no_probe).
    :param out: the stream (stdout).
    :param here: the Here of this configuration.
    :param now: the time (naive UTC datetime) ages are counted to.
    :param probe: tells whether a worker URL accepts connections.
    :returns: the exit code.
    """
    found = assess.collect(db, now, here.interval)
    answers = {} if args.no_probe else _probe(
        (a.data_worker for a in found), probe)
    rows = []
    for a in found:
        row = a.as_dict()
        row['data_worker_answers'] = answers.get(a.data_worker)
        rows.append(row)
    if args.format == output.JSON:
        output.write_json(out, rows)
        return errors.EXIT_OK
    output.write_table(
        out, (36, 9, 6, 6, 7),
        ('IMAGE', 'STATUS', 'IMPORT', 'AGE', 'ANSWERS', 'WORKER'),
        [(values.show(row['image'], 36), values.show(row['status'], 9),
          row['import'],
          '-' if row['age_seconds'] is None else '%ds' % row['age_seconds'],
          _yes_no(row['data_worker_answers']),
          values.show(row['data_worker'] or '(not recorded)', 200))
         for row in rows])
    return errors.EXIT_OK


def _yes_no(state):
    return '-' if state is None else ('yes' if state else 'NO')


def recover_imports(db, args, out, here, now):
    """``imports recover``: make images of dead imports retryable.

    :param db: the GlanceDb (or a fake).
    :param args: the parsed arguments (image, apply, format).
    :param out: the stream (stdout).
    :param here: the Here of this configuration.
    :param now: the time (naive UTC datetime) ages are counted to.
    :returns: the exit code.
    """
    report = output.Reporter(out, args.format)
    ids = args.image or None
    found = assess.collect(db, now, here.interval, image_ids=ids)
    if ids:
        missing = set(ids) - {a.image_id for a in found}
        for image_id in sorted(missing):
            report.say('Not found: image %s' % values.show(image_id))
    planned, refused = _plan_recoveries(found, here, report, named=bool(ids))
    ok = apply_changes(db, planned, args.apply, 'recover', report)
    if not ids:
        remove_residue(db, here, args.apply, report)
    if not planned and not ids:
        report.say('No dead import to recover.')
    elif planned and not args.apply:
        report.say('Dry run: nothing changed. Add --apply to recover %d '
                   'image(s).' % len(planned))
    report.finish(apply=args.apply)
    if ids and len(found) < len(ids):
        return errors.EXIT_ERROR
    return errors.EXIT_REFUSED if (refused or not ok) else errors.EXIT_OK


def _plan_recoveries(found, here, report, named):
    """(Changes of the dead imports, whether one was refused)."""
    planned = []
    refused = False
    for a in found:
        if a.verdict == assess.NONE:
            if named:
                report.say('Nothing to recover: image %s (%s): %s' % (
                    a.image_id, a.status, a.reason))
            continue
        change, why = recovery.plan_recovery(a, here)
        if change is None:
            report.untouched(a.image_id, why, a.status)
            refused = refused or named or a.verdict == assess.DEAD
            continue
        planned.append(change)
    return planned, refused


def apply_changes(db, changes, apply, verb, report):
    """Make ``changes`` (or say them, for a dry run); False if one failed.

    :param db: the GlanceDb (or a fake).
    :param changes: recovery.Change objects.
    :param apply: make them; else only say what would change.
    :param verb: ``recover``, ``reset`` or ``delete``.
    :param report: the output.Reporter.
    """
    ok = True
    for change in changes:
        if not apply:
            report.changed('would %s' % verb, change)
            continue
        try:
            _apply(db, change)
        except errors.Changed as exc:
            ok = False
            report.untouched(change.image_id, str(exc))
            LOG.warning('Not changing image %s: %s', change.image_id, exc)
            continue
        for path in change.remove_files + change.store_files:
            _remove(path, change.image_id)
        report.changed(DONE[verb], change)
    return ok


def _apply(db, change):
    if change.delete or not any(k.startswith(records.NAMESPACE)
                                for k in change.remove):
        db.apply(change)
        return
    # The records it removes are anchored as removed by the library, not
    # by someone else.
    with records.anchoring(change.image_id, change.properties_after):
        db.apply(change)


def _remove(path, image_id):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        LOG.warning('image %s: could not remove staged file %s: %s',
                    image_id, path, exc)


def remove_residue(db, here, apply, report):
    """Remove staged residue here of queued images no import holds.

    :param db: the GlanceDb (or a fake).
    :param here: the Here of this configuration.
    :param apply: remove; else only say what would be removed.
    :param report: the output.Reporter.
    """
    if not here.staging_dir:
        return
    try:
        names = here.listdir(here.staging_dir)
    except OSError:
        return
    for image_id in sorted({n.split('.', 1)[0] for n in names}):
        if not values.is_image_id(image_id):
            continue
        image = db.image(image_id)
        if image is None:
            continue  # Glance's own cleaner removes a deleted image's
        paths = recovery.plan_residue(image, here)
        if not paths:
            continue
        line = '%s staged residue of queued image %s: %s' % (
            'removed' if apply else 'would remove', image_id,
            ', '.join(values.show(p, 200) for p in paths))
        if apply:
            for path in paths:
                _remove(path, image_id)
            LOG.info('%s', line)
        report.say(line)


def clean_worker(db, args, out, here, now, down=workers.down):
    """``imports clean``: reset or delete the images of a gone worker.

    :param db: the GlanceDb (or a fake).
    :param args: the parsed arguments (worker, action, apply, format).
    :param out: the stream (stdout).
    :param here: the Here of this configuration.
    :param now: the time (naive UTC datetime) ages are counted to.
    :param down: why a worker URL refuses connections, None if it answers.
    :returns: the exit code.
    """
    report = output.Reporter(out, args.format)
    worker = args.worker
    state = down(worker)
    if state is None:
        report.say('Refusing: worker %s answers. Its staged data may still '
                   'be imported; clean only a worker that is gone for good.'
                   % worker)
        LOG.warning('clean refused: worker %s answers', worker)
        report.finish(apply=args.apply)
        return errors.EXIT_REFUSED
    report.say('Worker %s does not accept connections (%s).' % (
        worker, state))
    mine = [a for a in assess.collect(db, now, here.interval)
            if a.data_worker == worker]
    planned = []
    for a in mine:
        change, why = recovery.plan_clean(a, args.action)
        if change is None:
            report.untouched(a.image_id, why, a.status)
        else:
            planned.append(change)
    ok = apply_changes(db, planned, args.apply, args.action, report)
    if not mine:
        report.say('No stuck image has its data on %s.' % worker)
    elif planned and not args.apply:
        report.say('Dry run: nothing changed. Add --apply to %s %d image(s).'
                   % (args.action, len(planned)))
    report.finish(apply=args.apply)
    refused = len(planned) < len(mine)
    return errors.EXIT_REFUSED if (refused or not ok) else errors.EXIT_OK
