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

"""Read-only access to the image data Glance staged for this import."""

import os

from glance_import_ext.common import options

FILE_SCHEME = 'file://'


class StagedData:
    """The staged file behind the ``file_path`` Glance's flow provides."""

    def __init__(self, file_uri):
        if not file_uri or not file_uri.startswith(FILE_SCHEME):
            raise ValueError('staged data is not a local file: %r' % (
                file_uri,))
        self.uri = file_uri
        self.path = file_uri[len(FILE_SCHEME):]

    def exists(self):
        return os.path.isfile(self.path)

    def size(self):
        return os.path.getsize(self.path)

    def chunks(self, chunk_size=None):
        """Yield the data in chunks; memory stays at one chunk per reader."""
        chunk_size = chunk_size or options.CONF[options.GROUP].read_chunk_size
        with open(self.path, 'rb') as f:
            while True:
                chunk = f.read(chunk_size)
                if not chunk:
                    return
                yield chunk
