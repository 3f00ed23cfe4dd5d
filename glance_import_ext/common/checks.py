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

"""What the verifying plugins share: modes, outcomes, the staged digests.

Every verifying plugin (checksum_verify, glance_download_verify,
manifest_verify) has an option ``mode``:

- ``enforce`` (default): a failed check fails the import;
- ``warn``: the check runs in full; a failure is logged with the same
  detail and recorded on the image (``import_ext_warnings``), and the
  import goes on. For rolling verification out on a live cloud.

In a dry run (dry_run.py) a failed check is recorded in the report and
the other checks go on, whatever the mode.

The checks read the staged data through one hashing pass shared by the
import's verifying plugins (``VerifyingTask.staged_digests``).
"""

import time

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.common import dry_run
from glance_import_ext.common import errors
from glance_import_ext.common import keepalive
from glance_import_ext.common import records
from glance_import_ext.common import stage_record
from glance_import_ext.common import staging
from glance_import_ext.common import task as image_task

LOG = logging.getLogger(__name__)

ENFORCE, WARN = 'enforce', 'warn'
WARNINGS = records.NAMESPACE + 'warnings'


# What became of the image after a failed check. Said here, the one place
# that knows the mode, and never in a plugin's problem text: a warn-mode
# record must not carry the enforce-mode outcome. A dry run's report says
# its outcome once (dry_run.summary).
OUTCOME = {
    ENFORCE: 'nothing was stored',
    WARN: 'warn mode: the import went on and the data was stored',
}


def mode_opt():
    """The ``mode`` option of a verifying plugin's group."""
    return cfg.StrOpt(
        'mode', default=ENFORCE,
        choices=[(ENFORCE, 'a failed check fails the import'),
                 (WARN, 'a failed check is logged and recorded on the '
                        'image (import_ext_warnings); the import goes on')],
        help='What a failed check does.')


class CheckFailed(errors.ImportFailed):
    """A failed check: what is wrong and how to put it right, no outcome.

    ``remedy`` ("correct it and import again") holds only while the image
    can still be imported: it is left out where the import went on.

    :param plugin: the name of the plugin whose check failed.
    :param problem: what is wrong.
    :param remedy: how to put it right, or None.
    """

    def __init__(self, plugin, problem, remedy=None):
        super().__init__(plugin, _join(problem, remedy))
        self.problem = problem
        self.remedy = remedy
        self.args = (plugin, problem, remedy)


def _join(*parts):
    return '; '.join(p for p in parts if p)


def _problem(exc):
    """(problem, remedy) of a plugin's failure, outcome aside."""
    if isinstance(exc, CheckFailed):
        return exc.problem, exc.remedy
    return (exc.args[1] if len(exc.args) > 1 else str(exc)), None


class VerifyingTask(image_task.ImageTask):
    """A check of the image; ``run`` raises ``self.failure`` when it fails.

    Its outcome goes into the import's shared state (for the dry-run
    report); in ``warn`` mode or a dry run a failure is recorded instead of
    failing the import.

    :param plugin: the PluginContext of the plugin the check belongs to.
    """

    def __init__(self, plugin):
        super().__init__(plugin)
        self.shared = plugin.shared

    @property
    def mode(self):
        """ENFORCE or WARN: the plugin's ``mode`` option."""
        return cfg.CONF[self.plugin.name].mode

    def failure(self, problem, remedy=None):
        """A CheckFailed to raise: the outcome is added by ``execute``.

        :param problem: what is wrong.
        :param remedy: how to put it right, or None.
        """
        return CheckFailed(self.plugin.name, problem, remedy)

    def execute(self, **inputs):
        """Run the check; a failure fails the import, or is recorded.

        In enforce mode a failure fails the import with the outcome sentence;
        in warn mode or a dry run it is recorded and the import goes on.
        """
        name = self.plugin.name
        try:
            result = super().execute(**inputs)
        except errors.ImportFailed as exc:
            problem, remedy = _problem(exc)
            self.shared.outcomes.append('%s FAILED: %s' % (
                name, _join(problem, remedy)))
            if dry_run.carries_on(self.plugin, problem):
                return None
            if self.mode == ENFORCE:
                raise errors.ImportFailed(
                    name, _join(problem, OUTCOME[ENFORCE], remedy)) from exc
            text = '%s: %s' % (name, _join(problem, OUTCOME[WARN]))
            LOG.warning('Image %s, import %s: check failed, %s: %s',
                        self.plugin.image_id, self.plugin.task_id,
                        OUTCOME[WARN], text)
            self._record_warning(errors.bounded(text))
            return None
        self.shared.outcomes.append('%s passed' % name)
        return result

    def staged_digests(self, file_path, algorithms):
        """({algorithm: hex}, size) of the staged data.

        Shares one pass with the import's other verifying plugins (see
        hashing.ImportDigests) and keeps the task fresh while it hashes.

        :param file_path: the staged data Glance's flow hands on.
        :param algorithms: the names of the digests the check needs.
        """
        data = staging.StagedData(file_path)
        beat = keepalive.Heartbeat(self.plugin.task_repo,
                                   self.plugin.task_id)
        label = self.plugin.name

        def progress(done):
            beat.beat('%s: hashed %d MiB' % (label, done // 2 ** 20))

        digests = self.plugin.shared.digests
        image_id = self.plugin.image_id
        start = time.monotonic()
        # No pass over the data for an import another one took over.
        found = digests.of(data.chunks, data.path, algorithms, progress,
                           recorded=lambda: stage_record.take(data.path,
                                                              image_id),
                           before_pass=self.plugin.action_wrapper
                           .assert_task_lock)
        LOG.info('%s: digests (%s) of image %s ready in %.3f s', label,
                 '+'.join(sorted(found)), image_id, time.monotonic() - start)
        return found, data.size()

    def _record_warning(self, message):
        current = self.plugin.records().get(WARNINGS)
        text = '; '.join(filter(None, [current, message]))
        self.update_records({WARNINGS: errors.bounded(text,
                                                      records.MAX_RECORD)})
