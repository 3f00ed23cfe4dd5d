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

"""The dry run of one import, from the user's request to its report.

A user can ask for a **dry run** of one import by setting
``import_ext_dry_run=true`` on the image: every check runs (a failure does
not stop the others), nothing reaches a store, the outcome of each check is
recorded in ``import_ext_dry_run_report``, the request is removed, and the
image is left ready for the real import (glance-direct: still
``uploading`` with its staged data). ``import_ext_dry_run`` is the one
property under the library's namespace a user sets; it is a request, not a
record.

Its course, and who calls what here:

- the first guard built reads the request while the flow is built
  (``read_request``, into ``ImportState.dry_run``);
- a check that fails goes on (``carries_on``, from
  ``checks.VerifyingTask``);
- the last of the library's plugins stops the import before the stores
  (``FinishDryRun``, ending every plugin's flow);
- the guard that acts on failure writes the report once every revert has
  run (``finish``).
"""

from oslo_log import log as logging

from glance_import_ext.common import errors
from glance_import_ext.common import records
from glance_import_ext.common import task as image_task

LOG = logging.getLogger(__name__)

REQUEST = records.DRY_RUN
REPORT = records.NAMESPACE + 'dry_run_report'
TRUE = ('true', 'yes', '1', 'on')


class DryRunFinished(errors.ImportFailed):
    """A dry run ran every check; it stops the import before the stores."""


def requested(properties):
    """True if ``properties`` ask for a dry run.

    :param properties: the image's extra properties, a dict.
    """
    return str(properties.get(REQUEST, '')).strip().lower() in TRUE


def read_request(shared, properties):
    """Note in ``shared`` whether this import is a dry run.

    :param shared: the import's ImportState.
    :param properties: the image's extra properties as the flow is built.
    """
    shared.dry_run = requested(properties)


def carries_on(plugin, problem):
    """True in a dry run, where a failed check does not stop the others.

    :param plugin: the PluginContext of the check that failed.
    :param problem: what the check found, for the log.
    """
    if not plugin.shared.dry_run:
        return False
    LOG.warning('Image %s, import %s (dry run): check failed, the other '
                'checks go on: %s: %s', plugin.image_id, plugin.task_id,
                plugin.name, problem)
    return True


class FinishDryRun(image_task.ImageTask):
    """Stop a dry run after the last of the library's plugins.

    Raises once every check ran, so Glance writes nothing to a store and
    the guards leave the image ready for the real import; the report is
    written by the guard once every revert has run (``finish``).

    :param plugin: the PluginContext of the plugin whose flow it ends.
    """

    def __init__(self, plugin):
        super().__init__(plugin)
        self.shared = plugin.shared

    def run(self):
        """Stop the dry run after the last plugin, with every outcome."""
        if not self.shared.dry_run or not self.shared.is_last(
                self.plugin.name):
            return
        raise DryRunFinished(self.plugin.name, summary(self.shared))


def summary(shared):
    """The dry run's report: every check's outcome.

    :param shared: the import's ImportState.
    """
    checks = '; '.join(shared.outcomes) or 'no check applied to this image'
    return errors.bounded('dry run: %s. Nothing was stored; %s was removed, '
                          'import again for the real import' % (
                              checks, REQUEST), records.MAX_RECORD)


def finish(plugin, shared):
    """In a dry run: record its report, consume the request (no journal).

    :param plugin: the PluginContext of the guard that acts on failure.
    :param shared: the import's ImportState.
    """
    if not shared.dry_run:
        return
    text = summary(shared)
    with plugin.library_wrapper as action:
        action.set_image_extra_properties({REPORT: text})
        action.pop_extra_property(REQUEST)
        image_task.reseal(action)
