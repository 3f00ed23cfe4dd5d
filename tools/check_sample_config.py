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
