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

"""Read-only access to the image data Glance staged for this import.

And what the failure guard needs to know whether the staged file is still
the one the user staged (``Snapshot``).
"""

import os
import stat

from glance_import_ext.common import options
from glance_import_ext import glance_internals

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
        """True if the staged file is on this worker."""
        return os.path.isfile(self.path)

    def size(self):
        """The staged file's size in bytes."""
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


def staged_path(image_id, conf=None):
    """Where Glance stages glance-direct data of ``image_id`` on this worker.

    ``<staging dir>/<image id>``, as Glance's api_image_import.get_flow
    builds it; None if the staging directory is not a local one.
    """
    directory = glance_internals.staging_dir(conf)
    return os.path.join(directory, image_id) if directory else None


def file_identity(path):
    """(st_dev, st_ino, st_size, st_mtime_ns) of the file at ``path``.

    None if there is no file there. Something else than a regular file
    (a directory, a symbolic link) gets an identity no file can have.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return ('not a regular file', stat.S_IFMT(st.st_mode))
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class Snapshot:
    """The staged file as it was before any plugin of the import ran.

    Taken while Glance builds the import's flow: stevedore calls every
    plugin's ``get_flow`` before any task runs, so the file is still the
    one the user staged. Glance's ``image_decompression`` later replaces
    it (``os.replace`` of the decompressed file over it): a new inode, a
    new size and mtime. Comparing identities tells that without reading
    the data again.

    :param path: the staged file; None if unknown (nothing is recorded).
    """

    INTACT = 'intact'      # the file the user staged
    GONE = 'gone'          # no file any more
    REPLACED = 'replaced'  # another file (or one that cannot be vouched for)

    def __init__(self, path):
        self.path = path
        self.identity = file_identity(path) if path else None

    @property
    def known(self):
        """True once the staged file was taken (a glance-direct import)."""
        return self.path is not None

    def state(self):
        """INTACT, GONE or REPLACED, as the file is now."""
        try:
            now = file_identity(self.path)
        except OSError:
            return self.REPLACED  # unreadable: not vouched for
        if now is None:
            return self.GONE
        if self.identity is not None and now == self.identity:
            return self.INTACT
        return self.REPLACED

    def remove(self):
        """Remove the file now at the path; False if it could not be."""
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return True
