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

"""Errors a plugin raises to fail an import with a message for the operator.

Glance copies the text of an ``UploadException`` into the task message;
any other exception becomes "Task failed due to Internal Error". So every
failure a plugin means to report derives from it. Outside Glance (config
generation, docs) the base is a plain Exception.

Task messages are bounded: Glance stores them in a TEXT column (64 KiB on
MySQL); a longer one makes the save fail and the task stays ``processing``
for good with no message. Values a user wrote never appear whole in a
message (``shorten``), and every message is capped at ``MAX_MESSAGE``.
"""

from glance_import_ext import glance_internals

_GlanceFailure = glance_internals.upload_failure_base()

# Characters; at most 4 bytes each in UTF-8, far below every Glance
# release's task message column, and still readable in a task listing.
MAX_MESSAGE = 1500
# How much of a user's value a message shows.
MAX_VALUE = 80
_TRUNCATED = ' [...]'


def shorten(value, limit=MAX_VALUE):
    """``repr(value)``, cut to ``limit`` characters with its full length."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return '%s... (%d characters)' % (text[:limit], len(str(value)))


def clip(value, limit=MAX_VALUE):
    """``str(value)`` cut to ``limit`` characters with its full length."""
    text = str(value)
    if len(text) <= limit:
        return text
    return '%s... (%d characters)' % (text[:limit], len(text))


def bounded(message, limit=MAX_MESSAGE):
    """``message`` cut to ``limit`` characters, saying it was cut."""
    message = str(message)
    if len(message) <= limit:
        return message
    return message[:limit - len(_TRUNCATED)] + _TRUNCATED


class ImportFailed(_GlanceFailure):
    """The import cannot go on; ``str()`` is the task message."""

    def __init__(self, plugin, message):
        self.notes = []
        self._text = '%s: %s' % (plugin, message)
        self.msg = bounded(self._text)
        # GlanceException formats with kwargs only; none are given here.
        super().__init__(self.msg)
        self.args = (plugin, message)  # so copy and pickle rebuild it

    def add_note(self, note):
        """Append what a revert could not undo; the message stays bounded.

        Glance writes ``str()`` of the failure that stopped the flow into
        the task once every revert has run, so notes added by reverts
        reach the operator in the task message.
        """
        self.notes.append(note)
        self.msg = bounded('; '.join([self._text] + self.notes))

    def __str__(self):
        return self.msg


class GlanceMismatch(RuntimeError):
    """Glance does not give a plugin what this library was verified with."""


class ConfigError(ValueError):
    """An option of this library has a value it cannot work with."""
