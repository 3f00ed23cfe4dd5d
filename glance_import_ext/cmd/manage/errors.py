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

"""The admin command's exit codes and the errors that stop a change."""

import re

from glance_import_ext.cmd.manage import values

# The command's name, in its messages and in what they tell to run.
PROG = 'glance-import-ext-manage'

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_ERROR = 2

_CREDENTIALS = re.compile(r'(//)[^/@\s]*@')


class CommandError(Exception):
    """Stops the command with one line (exit 2); ``hint`` says what to do.

    :param message: what went wrong.
    :param hint: what the operator can do about it, or None.
    """

    def __init__(self, message, hint=None):
        self.hint = hint
        super().__init__(message)

    def __str__(self):
        text = super().__str__()
        return '%s. Hint: %s' % (text, self.hint) if self.hint else text


class Changed(Exception):
    """A conditional change found the image or task changed meanwhile."""


def reason(exc):
    """One line about ``exc``, without credentials of a database URL.

    :param exc: an exception, possibly an oslo.db wrapper of another.
    """
    inner = getattr(exc, 'inner_exception', None) or exc
    lines = [line for line in str(inner).splitlines() if line.strip()]
    text = lines[0] if lines else type(inner).__name__
    return values.show(_CREDENTIALS.sub(r'\1***@', text), limit=300)
