"""glance-import-ext-stuck-imports: find and clean imports stuck on a worker.

An image staged on a glance-api worker that is gone stays ``uploading``
(or ``importing``, if the import was running there) for good, and its
staged data lives only on that worker. Run where glance-api's config is::

    glance-import-ext-stuck-imports list
    glance-import-ext-stuck-imports clean --worker URL            # dry run
    glance-import-ext-stuck-imports clean --worker URL --apply

``clean`` touches only images staged on the named worker, and refuses
while that worker answers. ``--action reset`` (default) puts the image
back to ``queued`` without the dead worker's staging and lock records, so
its owner can upload or stage it again; ``--action delete`` deletes it.
Either leaves nothing behind here: the staged data was on that worker.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.common import workers

STUCK = ('uploading', 'importing')
LOCK = 'os_glance_import_task'
# Glance's bookkeeping of the import that can no longer finish.
STALE_KEYS = (workers.STAGE_HOST, LOCK, 'os_glance_importing_to_stores')
STAGED_ON = 'import_ext_staged_on'

cli_opts = [
    cfg.SubCommandOpt('command', handler=lambda subparsers: _add_commands(
        subparsers), help='list or clean'),
]


def _add_commands(subparsers):
    subparsers.add_parser('list', help='list stuck imports')
    clean = subparsers.add_parser(
        'clean', help='clean stuck imports of a worker that is gone')
    clean.add_argument('--worker', required=True,
                       help="the gone worker's worker_self_reference_url")
    clean.add_argument('--apply', action='store_true',
                       help='change the images (default: dry run)')
    clean.add_argument('--action', choices=('reset', 'delete'),
                       default='reset')


def stuck_images(db_api, context):
    """[(image id, status, staging worker or None, properties)]."""
    found = []
    for status in STUCK:
        for image in db_api.image_get_all(context,
                                          filters={'status': status}):
            props = {p['name']: p['value'] for p in image['properties']
                     if not p['deleted']}
            worker = props.get(workers.STAGE_HOST) or props.get(STAGED_ON)
            found.append((image['id'], status, worker, props))
    return found


def list_stuck(db_api, context, out):
    rows = stuck_images(db_api, context)
    alive = {w: workers.answers(w) for w in {row[2] for row in rows} if w}
    row = '%-36s  %-9s  %-8s  %s\n'
    out.write(row % ('image', 'status', 'answers', 'staging worker'))
    for image_id, status, worker, _ in rows:
        state = 'unknown' if not worker else (
            'yes' if alive[worker] else 'NO')
        out.write(row % (image_id, status, state,
                         worker or '(not recorded)'))
    return 0


def clean(db_api, context, worker, apply, action, out):
    worker = worker.rstrip('/')
    if workers.answers(worker):
        out.write('Refusing: worker %s answers. Its staged data may still be '
                  'imported; clean only a worker that is gone for good.\n' %
                  worker)
        return 1
    mine = [row for row in stuck_images(db_api, context)
            if (row[2] or '').rstrip('/') == worker]
    verb = ('would ' if not apply else '') + action
    for image_id, status, _, props in mine:
        out.write('%s image %s (%s, staged on %s)\n' % (
            verb, image_id, status, worker))
        if apply:
            _clean_one(db_api, context, image_id, status, props, action)
    if not mine:
        out.write('No stuck image is staged on %s.\n' % worker)
    elif not apply:
        out.write('Dry run: nothing changed. Add --apply to %s %d image(s).\n'
                  % (action, len(mine)))
    return 0


def _clean_one(db_api, context, image_id, status, props, action):
    if action == 'delete':
        db_api.image_update(context, image_id, {'status': 'deleted'},
                            from_state=status)
        db_api.image_destroy(context, image_id)
        return
    kept = {k: v for k, v in props.items() if k not in STALE_KEYS}
    # from_state: only if nobody changed the image since it was listed.
    db_api.image_update(context, image_id,
                        {'status': 'queued', 'size': None,
                         'properties': kept},
                        purge_props=True, from_state=status)


def main(argv=None, out=sys.stdout):
    from glance.common import config
    import glance.context
    import glance.db
    conf = cfg.CONF
    conf.register_cli_opts(cli_opts)
    logging.register_options(conf)
    config.parse_args(args=sys.argv[1:] if argv is None else argv,
                      default_config_files=cfg.find_config_files(
                          project='glance', prog='glance-api'))
    logging.setup(conf, 'glance')
    db_api = glance.db.get_api()
    context = glance.context.get_admin_context()
    if conf.command.name == 'list':
        return list_stuck(db_api, context, out)
    return clean(db_api, context, conf.command.worker, conf.command.apply,
                 conf.command.action, out)


if __name__ == '__main__':
    sys.exit(main())
