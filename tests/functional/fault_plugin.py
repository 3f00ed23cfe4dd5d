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
