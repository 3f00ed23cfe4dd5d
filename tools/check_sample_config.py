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

"""Fail when etc/glance-image-import.conf is not what the generator writes."""

import difflib
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, 'etc', 'glance-image-import.conf')
GENERATOR_CONF = os.path.join(ROOT, 'etc', 'oslo-config-generator',
                              'glance-image-import.conf')


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'glance-image-import.conf')
        subprocess.run(['oslo-config-generator', '--config-file',
                        GENERATOR_CONF, '--output-file', out], check=True)
        with open(out) as f:
            generated = f.readlines()
    with open(SAMPLE) as f:
        committed = f.readlines()
    if generated != committed:
        sys.stdout.writelines(difflib.unified_diff(
            committed, generated, 'committed', 'generated'))
        print('etc/glance-image-import.conf is stale: run tox -e genconfig')
        return 1
    print('etc/glance-image-import.conf matches the generator')
    return 0


if __name__ == '__main__':
    sys.exit(main())
