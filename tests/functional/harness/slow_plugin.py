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

"""Test-only import plugin: holds an import while a file says so.

For an image carrying ``test_hold_file=<path>``, the plugin's task writes
``<path>.started`` (the pid of the glance-api process running the import)
and then waits while ``<path>`` exists (at most ``MAX_SECONDS``). A test
can so keep an import running as long as it likes, see which uWSGI
process runs it, and kill that process mid-import. Without the property
it does nothing. Built with the library's ``build_flow``, so the import is
watched by the keepalive and guarded like any plugin's. Never installed
outside the functional tests.
"""

import os
import time

from glance_import_ext.common import plugin
from glance_import_ext.common import task

NAME = 'slow'
HOLD = 'test_hold_file'
MAX_SECONDS = 600


class Hold(task.ImageTask):

    inputs = ('file_path',)

    def run(self, file_path):
        path = self.plugin.image_properties().get(HOLD)
        if not path:
            return
        started = path + '.started'
        with open(started + '.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.replace(started + '.tmp', started)
        deadline = time.monotonic() + MAX_SECONDS
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.2)


def get_flow(**kwargs):
    return plugin.build_flow(NAME, kwargs, lambda p: [Hold(p)])
