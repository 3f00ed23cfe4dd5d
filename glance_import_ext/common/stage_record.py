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

"""Digests taken while the data was staged, beside the staged file.

The ``stage_digests`` paste filter hashes a glance-direct stage request's
body as Glance writes it, and once Glance answered 2xx writes
``<staged file>.import_ext_digests``. A verifying plugin then uses it
instead of reading the data, but only if it still describes exactly that
file:

- the staged file's device, inode, size, mtime and ctime are unchanged
  (a plugin that rewrote the file, a re-stage: no longer valid);
- it was written during this boot (``/proc/sys/kernel/random/boot_id``);
- it names this image;
- its HMAC-SHA256 (key: ``[glance_import_ext] record_key``, else a random
  key of this host kept in the staging directory, mode 0600) matches: a
  record edited by hand is never trusted.

It is written atomically (a temporary file opened with ``O_EXCL |
O_NOFOLLOW``, then renamed) and read with ``O_NOFOLLOW``; Glance's own
staging cleanup removes ``<image id>.*`` files of deleted images.
"""

import hashlib
import hmac
import json
import os
import stat

from glance_import_ext.common import options

SUFFIX = '.import_ext_digests'
KEY_FILE = '.import_ext_stage_key'
VERSION = 1
MAX_BYTES = 64 * 1024
BOOT_ID = '/proc/sys/kernel/random/boot_id'


class Invalid(Exception):
    """The record does not describe the staged file; the text says why."""


def path_of(staged_path):
    """Where the stage record of the staged file ``staged_path`` lives.

    :param staged_path: the staged file's path.
    """
    return staged_path + SUFFIX


def boot_id():
    """This host's boot id: a record is only good until the next boot."""
    try:
        with open(BOOT_ID) as f:
            return f.read().strip()
    except OSError:
        return 'unknown'


def identity(staged_path):
    """What pins the staged file: raises Invalid if it is not a file."""
    try:
        st = os.lstat(staged_path)
    except FileNotFoundError:
        raise Invalid('the staged file is gone')
    if not stat.S_ISREG(st.st_mode):
        raise Invalid('the staged path is not a regular file')
    return {'dev': st.st_dev, 'ino': st.st_ino, 'size': st.st_size,
            'mtime_ns': st.st_mtime_ns, 'ctime_ns': st.st_ctime_ns}


def _key(staging_dir):
    conf = options.CONF[options.GROUP]
    if conf.record_key:
        return conf.record_key.encode('utf-8')
    path = os.path.join(staging_dir, KEY_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, 'w') as f:
            f.write(os.urandom(32).hex())
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd) as f:
        key = f.read().strip()
    if len(key) < 32:
        # Another process is writing it: its first read came too early.
        raise Invalid('the host key %s is not written yet' % path)
    return key.encode('ascii')


def _mac(key, body):
    text = json.dumps(body, sort_keys=True, separators=(',', ':'))
    return hmac.new(key, text.encode('utf-8'), hashlib.sha256).hexdigest()


def write(staged_path, image_id, digests):
    """Record ``digests`` ({algorithm: hex}) of the staged file."""
    staging_dir = os.path.dirname(staged_path)
    body = {'version': VERSION, 'image': image_id, 'boot': boot_id(),
            'file': identity(staged_path), 'digests': dict(digests)}
    record = dict(body, mac=_mac(_key(staging_dir), body))
    target = path_of(staged_path)
    temp = '%s.%d.tmp' % (target, os.getpid())
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                 0o600)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(record, f)
        # rename replaces a symlink at the target, never follows it.
        os.replace(temp, target)
    except BaseException:
        remove_path(temp)
        raise


def read(staged_path, image_id):
    """{algorithm: hex} of the staged file, or raise Invalid (why)."""
    try:
        # O_NONBLOCK: a FIFO put there must not hang the import.
        fd = os.open(path_of(staged_path),
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise Invalid('no record')
    except OSError as exc:
        raise Invalid('record unreadable (%s)' % exc.strerror)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Invalid('record is not a regular file')
        raw = os.read(fd, MAX_BYTES + 1)
    except OSError as exc:
        raise Invalid('record unreadable (%s)' % exc.strerror)
    finally:
        os.close(fd)
    if len(raw) > MAX_BYTES:
        raise Invalid('record larger than %d bytes' % MAX_BYTES)
    try:
        record = json.loads(raw)
        mac = record.pop('mac')
        digests = record['digests']
        if not isinstance(digests, dict) or not all(
                isinstance(v, str) for v in digests.values()):
            raise ValueError('digests')
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Invalid('record malformed')
    key = _key(os.path.dirname(staged_path))
    if not isinstance(mac, str) or not hmac.compare_digest(
            mac, _mac(key, record)):
        raise Invalid('record not written by the stage filter (its MAC '
                      'does not match)')
    if record.get('version') != VERSION:
        raise Invalid('record of another version')
    if record.get('image') != image_id:
        raise Invalid('record of another image')
    if record.get('boot') != boot_id():
        raise Invalid('record of an earlier boot')
    if record.get('file') != identity(staged_path):
        raise Invalid('the staged file changed since it was staged')
    return dict(digests)


def take(staged_path, image_id):
    """(digests, None) from a valid record, or (None, why); removes it.

    Used once: whatever the outcome, the record is gone afterwards.
    """
    try:
        return read(staged_path, image_id), None
    except Invalid as exc:
        return None, str(exc)
    finally:
        remove(staged_path)


def remove(staged_path):
    """Remove the stage record of ``staged_path``, if there is one.

    :param staged_path: the staged file's path.
    """
    remove_path(path_of(staged_path))


def remove_path(path):
    """Remove the file at ``path``; a directory there stays.

    Whatever it is, it is never trusted as a record (read checks).
    """
    try:
        os.remove(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        pass
