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

"""Test-only import plugin: preset the image's os_hash_value.

It does what a "ride-along" verification would do (let Glance compare a
preset hash while it writes to the store), so a test can show what Glance
33 does with a mismatch. Never installed outside the functional tests.
"""

from taskflow.patterns import linear_flow as lf
from taskflow import task

PROPERTY = 'test_preset_os_hash_value'


class PresetHash(task.Task):

    def __init__(self, action_wrapper, name):
        self.action_wrapper = action_wrapper
        super().__init__(name=name)

    def execute(self):
        with self.action_wrapper as action:
            value = action.image_extra_properties.get(PROPERTY)
            if value:
                action._image.os_hash_value = value


def get_flow(**kwargs):
    return lf.Flow('preset_hash').add(PresetHash(
        kwargs['action_wrapper'], 'PresetHash-%s' % kwargs['task_id']))
