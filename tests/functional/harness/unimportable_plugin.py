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

"""Test-only import plugin whose module does not import.

As a plugin whose package is installed but broken (a dependency missing):
importing it raises ModuleNotFoundError, so stevedore drops the name with
a WARNING. Never installed outside the functional tests.
"""

import glance_import_ext_functional_missing_dependency  # noqa: F401


def get_flow(**kwargs):  # pragma: no cover - never reached
    raise AssertionError('the module cannot be imported')
