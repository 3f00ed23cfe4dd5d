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

"""What the verifying plugins share: modes, outcomes, the dry run.

Every verifying plugin (checksum_verify, glance_download_verify,
manifest_verify) has an option ``mode``:

- ``enforce`` (default): a failed check fails the import;
- ``warn``: the check runs in full; a failure is logged with the same
  detail and recorded on the image (``import_ext_warnings``), and the
  import goes on. For rolling verification out on a live cloud.

A user can ask for a **dry run** of one import by setting
``import_ext_dry_run=true`` on the image: every check runs (a failure does
not stop the others), nothing reaches a store, the outcome of each check is
recorded in ``import_ext_dry_run_report``, the request is removed, and the
image is left ready for the real import (glance-direct: still
``uploading`` with its staged data). ``import_ext_dry_run`` is the one
property under the library's namespace a user sets; it is a request, not a
record.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance_import_ext.common import errors
from glance_import_ext.common import records
from glance_import_ext.common import task as image_task
from glance_import_ext import glance_internals

LOG = logging.getLogger(__name__)

ENFORCE, WARN = 'enforce', 'warn'
WARNINGS = records.NAMESPACE + 'warnings'
REPORT = records.NAMESPACE + 'dry_run_report'
MAX_RECORD = 2000
TRUE = ('true', 'yes', '1', 'on')


# What became of the image after a failed check. Said here, the one place
# that knows the mode, and never in a plugin's problem text: a warn-mode
# record must not carry the enforce-mode outcome. A dry run's report says
# its outcome once (summary).
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


def dry_run_requested(properties):
    return str(properties.get(records.DRY_RUN, '')).strip().lower() in TRUE


class CheckFailed(errors.ImportFailed):
    """A failed check: what is wrong and how to put it right, no outcome.

    ``remedy`` ("correct it and import again") holds only while the image
    can still be imported: it is left out where the import went on.
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
    """

    def __init__(self, plugin):
        super().__init__(plugin)
        self.shared = plugin.shared

    @property
    def mode(self):
        return cfg.CONF[self.plugin.name].mode

    def failure(self, problem, remedy=None):
        """A CheckFailed to raise: the outcome is added by ``execute``."""
        return CheckFailed(self.plugin.name, problem, remedy)

    def execute(self, **inputs):
        name = self.plugin.name
        try:
            result = super().execute(**inputs)
        except errors.ImportFailed as exc:
            problem, remedy = _problem(exc)
            self.shared.outcomes.append('%s FAILED: %s' % (
                name, _join(problem, remedy)))
            if self.shared.dry_run:
                LOG.warning('Image %s, import %s (dry run): check failed, '
                            'the other checks go on: %s: %s',
                            self.plugin.image_id, self.plugin.task_id, name,
                            problem)
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

    def _record_warning(self, message):
        current = self.plugin.records().get(WARNINGS)
        text = '; '.join(filter(None, [current, message]))
        self.update_records({WARNINGS: errors.bounded(text, MAX_RECORD)})


class FinishDryRun(image_task.ImageTask):
    """Stop a dry run after the last of the library's plugins.

    Raises once every check ran, so Glance writes nothing to a store and
    the guards leave the image ready for the real import; the report is
    written by the guard once every revert has run.
    """

    def __init__(self, plugin):
        super().__init__(plugin)
        self.shared = plugin.shared

    def run(self):
        if not self.shared.dry_run or not self._last():
            return
        raise errors.DryRunFinished(self.plugin.name, summary(self.shared))

    def _last(self):
        configured = glance_internals.image_import_plugins()
        ours = [n for n in configured if n in self.shared.plugins]
        return not ours or ours[-1] == self.plugin.name


def summary(shared):
    checks = '; '.join(shared.outcomes) or 'no check applied to this image'
    return errors.bounded('dry run: %s. Nothing was stored; %s was removed, '
                          'import again for the real import' % (
                              checks, records.DRY_RUN), MAX_RECORD)


def finish_dry_run(plugin, shared):
    """Record the dry run's report and consume the request (no journal)."""
    text = summary(shared)
    with plugin.library_wrapper as action:
        action.set_image_extra_properties({REPORT: text})
        action.pop_extra_property(records.DRY_RUN)
        image_task.reseal(action)
