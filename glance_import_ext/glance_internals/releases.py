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

"""The releases the seam was verified on, as its ``VERIFIED`` tables say.

"Source" means the item was read in that release's published source;
"matrix" means it is exercised by the functional tests of that release
only (``tox -e functional-glanceNN``).
"""

RELEASES = ('28.2.0', '29.2.1', '30.2.0', '31.1.0', '32.0.0', '33.0.0')
EVERY = 'source of 28.2.0, 29.2.1, 30.2.0, 31.1.0, 32.0.0, 33.0.0'
