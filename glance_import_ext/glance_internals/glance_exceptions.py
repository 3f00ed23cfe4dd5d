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

"""Glance's exceptions the library catches, and the one it raises."""

from glance_import_ext.glance_internals import releases


class _Exceptions:
    """glance.common.exception's classes the library catches, on first use."""

    NAMES = ('UploadException', 'TaskAbortedError', 'NotFound',
             'ImageNotFound', 'Forbidden', 'ReservedProperty', 'Conflict')

    def __getattr__(self, name):
        if name not in self.NAMES:
            raise AttributeError(name)
        from glance.common import exception
        return getattr(exception, name)


exceptions = _Exceptions()


def upload_failure_base():
    """UploadException (whose text Glance copies into the task message).

    A plain Exception where Glance is not installed (config generation,
    docs).
    """
    try:
        from glance.common.exception import UploadException
    except ImportError:  # pragma: no cover - only outside Glance
        return Exception
    return UploadException


# name -> where it was checked.
VERIFIED = {
    'exceptions': releases.EVERY,
    'upload_failure_base': releases.EVERY,
}
