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

    def execute(self, **inputs):
        try:
            result = super().execute(**inputs)
        except errors.ImportFailed as exc:
            self.shared.outcomes.append('%s FAILED: %s' % (
                self.plugin.name, exc.args[1] if len(exc.args) > 1 else exc))
            if self.mode == ENFORCE and not self.shared.dry_run:
                raise
            LOG.warning('Image %s, import %s (%s): check failed, import goes '
                        'on: %s', self.plugin.image_id, self.plugin.task_id,
                        'dry run' if self.shared.dry_run else 'warn mode',
                        exc)
            if not self.shared.dry_run:
                self._record_warning(str(exc))
            return None
        self.shared.outcomes.append('%s passed' % self.plugin.name)
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
