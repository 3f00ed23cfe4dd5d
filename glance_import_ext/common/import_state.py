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

"""What the plugins of one import share.

Glance builds each plugin's flow on its own (stevedore calls every
``get_flow``), with the same keyword arguments. The one object of the
import they all get is Glance's ``ImportActionWrapper``: ``build_flow``
keeps the import's ``ImportState`` on it (``glance_internals.import_slot``)
and hands it to every plugin as ``PluginContext.shared``. It lives exactly
as long as Glance's flow, and two imports never share one, whatever their
task ids.
"""

from glance_import_ext.common import hashing
from glance_import_ext import glance_internals


class ImportState:
    """One import's state, shared by its plugins' tasks.

    Grouped below by the module that owns each field: it writes it (the
    one exception said where it is), the others only read it.
    """

    def __init__(self):
        # guards.py: which guards ran, in order (the first acts on
        # failure), and what is only known while the flow is built.
        self.ran = []
        self.read = False
        # The image as read while the flows were built (plugin.PluginContext
        # .image_at_build): one read for every plugin's get_flow.
        self.image_at_build = None
        self.before = None  # (properties, disk_format, container_format)
        self.stage_host = None
        # glance-direct: the staged file as the user staged it, taken
        # before any plugin ran (staging.Snapshot); None until then.
        self.staged = None
        # plugin.py (build_flow): this import's plugins of the library, by
        # name; the keepalive watches the import once, and the configured
        # plugin list is checked once.
        self.plugins = []
        self.watched = False
        self.list_checked = False
        # dry_run.py: whether the user asked for a dry run (read_request).
        self.dry_run = False
        # checks.py (VerifyingTask): what each check found, for the dry
        # run's report.
        self.outcomes = []
        # hashing.py: one hashing pass for every verifying plugin (each
        # plugin's get_flow announces its algorithms, VerifyingTask
        # .staged_digests computes them).
        self.digests = hashing.ImportDigests()
        # records.py (AnchoredRepo): the image's records as this import's
        # plugins last saved them; None until the first guard cleared them
        # (guards.py sets {} then).
        self.records = None
        # task.py: records the plugins' tasks wrote since, not saved yet
        # ({key: value, or task.REMOVED}); every RecordPluginRun built
        # (plugin.py) and run: the last one saves them all at once
        # (task.ImageTask.save_staged_records), then written is True.
        self.staged_records = {}
        self.record_tasks = 0
        self.record_runs = 0
        self.records_written = False

    def is_last(self, name):
        """True if ``name`` is the last of this import's library plugins.

        Glance adds the plugins' flows in the configured order; a plugin
        not in that list (built by another plugin's get_flow) counts as
        last.

        :param name: a plugin's entry-point name.
        """
        configured = glance_internals.image_import_plugins()
        ours = [n for n in configured if n in self.plugins]
        return not ours or ours[-1] == name


def of(action_wrapper):
    """The ImportState of the import ``action_wrapper`` belongs to."""
    return glance_internals.import_slot(action_wrapper, ImportState)
