"""Test-only: the real checksum_verify with a database fault while its
flow is built.

For an image carrying ``test_fault_while_building=db``, every read of the
image through the repository Glance hands the plugin raises oslo.db's
``DBConnectionError`` (what a lost database connection gives), from the
moment ``get_flow`` is called. Without the marker it is checksum_verify.
Never installed outside the functional tests.
"""

from oslo_db import exception as db_exception

from glance_import_ext.plugins import checksum_verify

MARKER = 'test_fault_while_building'


class _FailingRepo:

    def __init__(self, repo):
        self._repo = repo

    def get(self, image_id):
        raise db_exception.DBConnectionError('injected: lost connection')

    def __getattr__(self, name):
        return getattr(self._repo, name)


def get_flow(**kwargs):
    repo = kwargs['image_repo']
    image = repo.get(kwargs['image_id'])
    if dict(image.extra_properties).get(MARKER) == 'db':
        kwargs = dict(kwargs, image_repo=_FailingRepo(repo))
    return checksum_verify.get_flow(**kwargs)
