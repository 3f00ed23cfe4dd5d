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

"""staging_owner: show where an image was staged and where its import ran.

With several glance-api workers that each stage on their own disk, Glance
proxies an import to the worker that staged the data and records that
worker only in the hidden ``os_glance_stage_host``, which it removes as
the import starts. This plugin learns it while the flow is built, checks
before any other plugin reads the data that the staged file is on this
worker with the staged size, and records on the image:

- ``import_ext_staged_on``: worker that holds the staged data;
- ``import_ext_imported_on``: worker that ran the import.

List it first in ``image_import_plugins``.
"""

from glance_import_ext.common import plugin
from glance_import_ext.common import staging
from glance_import_ext.common import task
from glance_import_ext.common import workers
from glance_import_ext import glance_internals

NAME = 'staging_owner'
STAGED_ON = 'import_ext_staged_on'
IMPORTED_ON = 'import_ext_imported_on'


class CheckStagedHere(task.ImageTask):
    """Refuse an import whose staged data is not on this worker.

    :param plugin: the plugin's context for this import.
    :param stage_host: the worker that staged the data (Glance's record).
    :param staged_size: bytes Glance recorded at stage time (glance-direct).
    """

    inputs = ('file_path',)

    def __init__(self, plugin, stage_host, staged_size):
        self.stage_host = stage_host
        self.staged_size = staged_size
        super().__init__(plugin)

    def run(self, file_path):
        """Check the staged file is here, whole; record where it was.

        :param file_path: the staged data's path on this worker.
        """
        here = workers.this_worker()
        data = staging.StagedData(file_path)
        if not data.exists():
            raise self.failure(
                'the staged data of image %s is not on this worker (%s); it '
                'was staged on %s. Import it through that worker, or stage '
                'it again.' % (self.plugin.image_id, here or 'unnamed',
                               self.stage_host or 'an unknown worker'))
        size = data.size()
        if self.staged_size is not None and size != self.staged_size:
            raise self.failure(
                'the staged file of image %s has %d bytes, but %d were '
                'staged; stage the image again' % (
                    self.plugin.image_id, size, self.staged_size))
        record = {}
        if self.stage_host or here:
            record[STAGED_ON] = self.stage_host or here
        if here:
            record[IMPORTED_ON] = here
        if record:
            self.update_image(record)


def _tasks(p):
    image = p.image_at_build()
    # Read now: Glance removes os_glance_stage_host once the flow is built.
    stage_host = glance_internals.properties_of(image).get(
        workers.STAGE_HOST)
    staged_size = image.size if p.import_method == 'glance-direct' else None
    return [CheckStagedHere(p, stage_host, staged_size)]


def get_flow(**kwargs):
    """Check and record which worker holds the staged data."""
    return plugin.build_flow(NAME, kwargs, _tasks)
