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

"""Test-only import plugin: holds Glance's upload to the stores mid-way.

Plugins run before Glance writes to the stores, so a plugin cannot pause
the upload itself: for an image carrying ``test_hold_upload=<path>``, the
plugin's task makes this process's ``glance_store.add_with_multihash``
(which Glance 33's parallel import calls once per store, each in a thread
of its own) hand each store the first chunk of the data, write
``<path>.<store>.started`` (the pid of the glance-api process), and then
wait while ``<path>`` exists (at most ``MAX_SECONDS``). A test can so kill
the process while every store holds a partial object and Glance's
``pending://parallel-import`` location rows are ``uploading``. Without the
property it does nothing. Never installed outside the functional tests.
"""

import os
import threading
import time

import glance_store

from glance_import_ext.common import plugin
from glance_import_ext.common import task

NAME = 'slow_upload'
HOLD = 'test_hold_upload'
MAX_SECONDS = 600

_held = {}   # image id -> hold file, for this process's uploads
_patch_lock = threading.Lock()


class _HeldReader:
    """Glance's reader of the staged data, held after its first chunk.

    The second read comes once the store wrote the first chunk.
    """

    def __init__(self, data, path, store):
        self._data = data
        self._path = path
        self._store = store
        self._reads = 0

    def read(self, *args):
        self._reads += 1
        if self._reads == 2:
            started = '%s.%s.started' % (self._path, self._store)
            with open(started + '.tmp', 'w') as f:
                f.write('%d\n' % os.getpid())
            os.replace(started + '.tmp', started)
            deadline = time.monotonic() + MAX_SECONDS
            while os.path.exists(self._path) and time.monotonic() < deadline:
                time.sleep(0.2)
        return self._data.read(*args)

    def __getattr__(self, name):
        return getattr(self._data, name)


def _install():
    with _patch_lock:
        if getattr(glance_store.add_with_multihash, 'held_by_test', False):
            return
        original = glance_store.add_with_multihash

        def add_with_multihash(conf, image_id, data, size, backend, *args,
                               **kwargs):
            path = _held.get(image_id)
            if path:
                data = _HeldReader(data, path, backend)
            return original(conf, image_id, data, size, backend, *args,
                            **kwargs)

        add_with_multihash.held_by_test = True
        glance_store.add_with_multihash = add_with_multihash


class HoldUpload(task.ImageTask):

    def run(self):
        path = self.plugin.image_properties().get(HOLD)
        if path:
            _install()
            _held[self.plugin.image_id] = path


def get_flow(**kwargs):
    return plugin.build_flow(NAME, kwargs, lambda p: [HoldUpload(p)])
