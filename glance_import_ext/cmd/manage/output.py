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

"""What the admin command prints: tables, JSON documents, change reports."""

import json

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

TABLE = 'table'
JSON = 'json'
FORMATS = (TABLE, JSON)


def write_json(out, document):
    """Write ``document`` as indented JSON with sorted keys.

    :param out: the stream (stdout).
    :param document: a JSON-serialisable value.
    """
    json.dump(document, out, indent=2, sort_keys=True)
    out.write('\n')


def write_table(out, widths, header, rows):
    """Write left-aligned columns; the last one is as wide as its values.

    :param out: the stream (stdout).
    :param widths: the widths of every column but the last.
    :param header: the column titles.
    :param rows: sequences of already escaped values, one per column.
    """
    line = ''.join('%%-%ds  ' % width for width in widths) + '%s\n'
    out.write(line % tuple(header))
    for row in rows:
        out.write(line % tuple(row))


class Reporter:
    """Says every change and refusal, and logs each change.

    As lines on ``out``, or with ``fmt`` json as one JSON document written
    by finish(): ``changes``, ``not_touched`` and ``messages`` (the other
    lines), with the fields finish() is given.

    :param out: the stream (stdout).
    :param fmt: ``table`` (lines) or ``json``.
    """

    def __init__(self, out, fmt=TABLE):
        self.out = out
        self.json = fmt == JSON
        self.document = {'changes': [], 'not_touched': [], 'messages': []}

    def say(self, text):
        """One line: printed, or a message of the JSON document.

        :param text: the line, values in it already escaped.
        """
        if self.json:
            self.document['messages'].append(text)
        else:
            self.out.write(text + '\n')

    def add(self, key, item, lines):
        """One result: ``item`` in the JSON document, else ``lines``.

        :param key: the list of the JSON document ``item`` goes in.
        :param item: a JSON-serialisable value.
        :param lines: what is printed instead.
        """
        if self.json:
            self.document.setdefault(key, []).append(item)
            return
        for line in lines:
            self.out.write(line + '\n')

    def untouched(self, image_id, why, status=None):
        """An image the command leaves alone, and why.

        :param image_id: the image's id.
        :param why: the reason, values in it already escaped.
        :param status: the image's status, when it says something.
        """
        line = 'Not touched: image %s%s: %s' % (
            image_id, ' (%s)' % status if status else '', why)
        self.add('not_touched', {'image': image_id, 'status': status,
                                 'reason': str(why)}, [line])

    def changed(self, verb, change):
        """A recovery.Change made (or that would be), logged with notes.

        :param verb: what happens to the image, e.g. ``would recover``.
        :param change: the recovery.Change.
        """
        line = '%s image %s: %s' % (verb, change.image_id, change.describe())
        LOG.info('%s', line)
        for note in change.notes:
            LOG.info('image %s: %s', change.image_id, note)
        self.add('changes', dict(change.as_dict(), action=verb),
                 [line] + ['  note: ' + note for note in change.notes])

    def finish(self, **fields):
        """Write the JSON document, with ``fields``; nothing for lines.

        :param fields: more members of the document, e.g. ``apply``.
        """
        if self.json:
            write_json(self.out, dict(self.document, **fields))
