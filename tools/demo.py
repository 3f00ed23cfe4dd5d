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

"""A local cloud with the plugins enabled, and what each plugin did.

Starts MariaDB, Keystone and two Glance regions on 127.0.0.1 (RegionTwo
with the plugins listed in its glance-image-import.conf), a vendor-style
mirror (an image, SHA256SUMS and SHA256SUMS.gpg signed by a key made for
the run), imports images through them and prints a summary. Everything
stops when it ends. Run it with tools/demo.sh.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time

from tests.functional.harness import cloud as cloud_mod
from tests.functional.harness import glance
from tests.functional.harness import loopback_http
from tests import pgp

PLUGINS = ['staging_owner', 'metadata_copy', 'glance_download_verify',
           'checksum_verify', 'manifest_verify', 'image_versions']
SHOWN = ('status', 'import_ext_plugins', 'import_ext_staged_on',
         'import_ext_imported_on', 'import_ext_verified_digests',
         'import_ext_metadata_source_image',
         'import_ext_metadata_source_region', 'import_ext_metadata_copied',
         'import_ext_download_verified',
         'import_ext_manifest_url', 'import_ext_manifest_entry',
         'import_ext_manifest_algorithms', 'import_ext_manifest_signer',
         'hw_disk_bus', 'trait:CUSTOM_FAST_DISK', 'os_distro', 'build_note')
# What image_versions records; shown in its own step only.
VERSION_SHOWN = ('status', 'os_hidden', 'import_ext_version_state',
                 'import_ext_version_lineage', 'import_ext_previous_image',
                 'import_ext_superseded_by', 'import_ext_superseded_at')
VERSIONED = 'demo-ubuntu'
VENDOR_IMAGE = 'vendor-cloud-1.0-amd64.img'
RELEASE = '/releases/1.0/'
RECORD_SUFFIX = '.import_ext_digests'
SOURCE_PROPERTIES = {'hw_disk_bus': 'scsi', 'trait:CUSTOM_FAST_DISK':
                     'required', 'os_distro': 'ubuntu',
                     'build_note': 'not copied: outside every prefix'}


def say(text=''):
    print(text, flush=True)


def show(title, image, task=None, keys=SHOWN):
    say('  %s' % title)
    if task is not None:
        say('    task: %s%s' % (task['status'], ' - ' + task['message']
                                if task['status'] == 'failure' else ''))
    for key in keys:
        if key in image:
            say('    %-28s %s' % (key, image[key]))


def check(ok, what):
    if not ok:
        raise RuntimeError('demo: expected %s' % what)


def log_size(worker):
    """Where the worker's log ends now: its lines after that are new."""
    try:
        return os.path.getsize(worker.log_file)
    except FileNotFoundError:
        return 0


def show_record(worker, image_id):
    """The stage_digests record written beside the staged file."""
    path = os.path.join(worker.staging_dir, image_id + RECORD_SUFFIX)
    check(os.path.isfile(path), 'the stage_digests record %s after '
          'staging' % path)
    with open(path) as f:
        record = json.load(f)
    say('  staged; stage_digests wrote %s (%s; %d bytes)' % (
        os.path.basename(path), '+'.join(sorted(record['digests'])),
        record['file']['size']))


def show_digest_source(worker, image_id, since):
    """How the import that logged after ``since`` got its digests."""
    with open(worker.log_file, 'rb') as f:
        f.seek(since)
        log = f.read().decode('utf-8', 'replace')
    staged = os.path.join(worker.staging_dir, image_id)
    source = re.findall(r'((?:Digests of %s taken while it was staged|'
                        r'No stage-time digests of %s): .*)' % (
                            re.escape(staged), re.escape(staged)), log)
    ready = re.findall(r'(\S+): digests \(([^)]*)\) of image %s ready in '
                       r'([0-9.]+) s' % re.escape(image_id), log)
    check(source and ready, 'the glance-api log of %s to say how the '
          'digests of image %s were taken' % (worker.name, image_id))
    say('    glance-api log (%s):' % worker.name)
    for line in source:
        say('      %s' % line.replace(staged, '<staging>/' + image_id))
    for plugin, algorithms, seconds in ready:
        say('      %s: digests (%s) ready in %s s' % (
            plugin, algorithms, seconds))
    return source[-1].startswith('Digests of')


def rotated(client, image_id, timeout=30):
    """The image once image_versions' rotation is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        image = client.get(image_id)
        if image.get('import_ext_version_state') != 'pending':
            return image
        check(time.monotonic() < deadline, 'the rotation of image %s to '
              'end within %d s' % (image_id, timeout))
        time.sleep(0.3)


def import_version(client, data):
    image = client.create(name=VERSIONED)
    client.stage(image['id'], data)
    client.import_(image['id'])
    image, task = client.wait_for_import(image['id'])
    check(task['status'] == 'success', 'the import of %s to succeed: %s' % (
        image['id'], task.get('message')))
    return rotated(client, image['id']), task


class Mirror:
    """A vendor's image mirror on 127.0.0.1, with a signed SHA256SUMS.

    ``RELEASE`` holds the image, its SHA256SUMS and SHA256SUMS.gpg, signed
    by a key made for this run; ``/tampered/`` the same image and
    signature, but a SHA256SUMS changed after signing.
    """

    def __init__(self, cloud, data):
        root = os.path.join(cloud.base_dir, 'mirror')
        keydir = os.path.join(cloud.base_dir, 'vendor-key')
        os.makedirs(keydir)
        self.key = pgp.make_key(keydir, 'Vendor Cloud Images')
        manifest = ('%s *%s\n' % (
            hashlib.sha256(data).hexdigest(), VENDOR_IMAGE)).encode()
        signature = pgp.sign_detached(self.key, manifest)
        tampered = ('%s *%s\n' % (
            hashlib.sha256(b'other').hexdigest(), VENDOR_IMAGE)).encode()
        for folder, sums in ((RELEASE, manifest), ('/tampered/', tampered)):
            path = os.path.join(root, folder.strip('/'))
            os.makedirs(path)
            for name, body in ((VENDOR_IMAGE, data), ('SHA256SUMS', sums),
                               ('SHA256SUMS.gpg', signature)):
                with open(os.path.join(path, name), 'wb') as f:
                    f.write(body)
        self.server = loopback_http.FileServer(cloud.reserve_port(), root)
        self.url = self.server.url
        # The operator trusts the vendor's key for everything under the
        # mirror: a manifest there must carry a good .gpg signature.
        self.trust_rule = '%s/ %s .gpg' % (self.url, self.key.keyring_path)

    def stop(self):
        self.server.stop()
        pgp.cleanup(self.key)


def demo(cloud, mirror):
    t0 = time.monotonic()
    say('Starting Keystone, glance-api RegionOne, glance-api RegionTwo '
        '(plugins: %s) ...' % ', '.join(PLUGINS))
    cloud.with_keystone()
    cloud.add_user('alice', 'demo')
    cloud.add_glance('region-one', region='RegionOne')
    # RegionTwo: two replicas, each staging on its own disk. Glance's own
    # glance-download metadata step off: metadata_copy decides. Manifests
    # from the vendor's mirror must be signed by the vendor's key.
    # stage_digests hashes glance-direct data while it is staged.
    for name in ('region-two', 'region-two-b'):
        cloud.add_glance(name, region='RegionTwo', plugins=PLUGINS,
                         paste_filters=[glance.STAGE_HOST_CHECK,
                                        glance.STAGE_DIGESTS],
                         conf={'glance_download_properties': {
                             'extra_properties': '[]'}},
                         import_conf={'manifest_verify': {
                             'trust_rule': [mirror.trust_rule]}})
    say('Cloud up in %.0f s: Keystone %s' % (
        time.monotonic() - t0, cloud.keystone.url))
    for name, worker in cloud.workers.items():
        say('  %-11s %s  (staging %s)' % (
            name, worker.url, worker.staging_dir))
    say('  %-11s %s  (vendor key %s)' % ('mirror', mirror.url,
                                         mirror.key.fingerprint))
    say('  RegionTwo [manifest_verify] trust_rule = %s' % mirror.trust_rule)
    say('  RegionTwo paste filters after context: stage_host_check '
        'stage_digests')
    one = cloud.client('region-one')
    two = cloud.client('region-two')
    worker_two = cloud.workers['region-two']
    data = os.urandom(4 * 1024 * 1024)
    sha256 = hashlib.sha256(data).hexdigest()

    say('\n1. glance-direct into RegionTwo, declaring expected_digest_sha256')
    image = two.create(name='demo-direct', expected_digest_sha256=sha256)
    two.stage(image['id'], data)
    show_record(worker_two, image['id'])
    since = log_size(worker_two)
    two.import_(image['id'])
    image, task = two.wait_for_import(image['id'])
    show('image %s' % image['id'], image, task)
    check(task['status'] == 'success', 'the import of %s to succeed: %s' % (
        image['id'], task.get('message')))
    check(show_digest_source(worker_two, image['id'], since),
          'checksum_verify to use the digests taken while staging')

    say('\n2. glance-direct with a wrong declared sha256')
    wrong = hashlib.sha256(b'x').hexdigest()
    image = two.create(name='demo-wrong', expected_digest_sha256=wrong)
    two.stage(image['id'], data)
    show_record(worker_two, image['id'])
    since = log_size(worker_two)
    two.import_(image['id'])
    image, task = two.wait_for_import(image['id'])
    show('image %s (nothing stored; ready for a new import)' % image['id'],
         image, task)
    check(task['status'] == 'failure' and wrong in task['message'] and
          sha256 in task['message'], 'the import of %s to fail naming the '
          'declared and the actual sha256: %s' % (image['id'], task))
    check(show_digest_source(worker_two, image['id'], since),
          'checksum_verify to use the digests taken while staging')
    say('   ... the user corrects the declaration and imports again (the '
        'record was used once: this')
    say('       import reads the staged data)')
    two.update(image['id'], expected_digest_sha256=sha256)
    since = log_size(worker_two)
    two.import_(image['id'])
    image, task = two.wait_for_import(image['id'])
    show('image %s' % image['id'], image, task)
    check(task['status'] == 'success', 'the import of %s to succeed: %s' % (
        image['id'], task.get('message')))
    check(not show_digest_source(worker_two, image['id'], since),
          'the second import to read the staged data')

    say('\n3. glance-download RegionOne -> RegionTwo, declaring sha256; the '
        'source has %s' % ', '.join(sorted(SOURCE_PROPERTIES)))
    source = one.create(name='demo-source', **SOURCE_PROPERTIES)
    one.upload(source['id'], data)
    image = two.create(name='demo-download', expected_digest_sha256=sha256)
    two.import_(image['id'], 'glance-download', glance_image_id=source['id'],
                glance_region='RegionOne', glance_service_interface='public')
    show('image %s' % image['id'], *two.wait_for_import(image['id']))

    say('\n4. glance-direct copying metadata from a local image '
        '(copy_metadata_from)')
    local = two.create(name='demo-local-source', **SOURCE_PROPERTIES)
    two.upload(local['id'], b'local source data')
    image = two.create(name='demo-local-copy', copy_metadata_from=local['id'])
    two.stage(image['id'], data)
    two.import_(image['id'])
    show('image %s' % image['id'], *two.wait_for_import(image['id']))

    say('\n5. Two RegionTwo replicas: staged on region-two, import requested '
        'through region-two-b')
    replica_a = cloud.workers['region-two']
    via_b = cloud.client('region-two-b')
    image = two.create(name='demo-replicas')
    two.stage(image['id'], data)
    say('   region-two stops before the import is requested ...')
    replica_a.stop()
    resp = via_b.import_(image['id'], expect=(503,))
    say('  HTTP %d, Retry-After %s: %s' % (
        resp.status_code, resp.headers['Retry-After'],
        resp.json()['error']['message']))
    say('  image status: %s (staged data kept on region-two)' %
        via_b.get(image['id'])['status'])
    say('   region-two is back; the same import through region-two-b ...')
    replica_a.start()
    resp = via_b.import_(image['id'])
    say('  HTTP %d, proxied to %s' % (
        resp.status_code, resp.headers['X-Import-Ext-Staging-Worker']))
    show('image %s' % image['id'], *via_b.wait_for_import(image['id']))

    say('\n6. web-download from the vendor\'s mirror into RegionTwo, naming '
        'its signed manifest')
    say('   (expected_digests_url=%s)' % (mirror.url + RELEASE + 'SHA256SUMS'))
    image = two.create(name='demo-vendor', expected_digests_url=(
        mirror.url + RELEASE + 'SHA256SUMS'))
    two.import_(image['id'], 'web-download',
                uri=mirror.url + RELEASE + VENDOR_IMAGE)
    show('image %s' % image['id'], *two.wait_for_import(image['id']))
    say('   ... the same from a copy of the mirror whose SHA256SUMS was '
        'changed after signing')
    image = two.create(name='demo-vendor-tampered', expected_digests_url=(
        mirror.url + '/tampered/SHA256SUMS'))
    two.import_(image['id'], 'web-download',
                uri=mirror.url + '/tampered/' + VENDOR_IMAGE)
    show('image %s (nothing stored)' % image['id'],
         *two.wait_for_import(image['id']))

    say('\n7. A new version replaces the old one: glance-direct "%s" into '
        'RegionTwo, then another image of that name' % VERSIONED)
    v1_data = os.urandom(1024 * 1024)
    v1, task = import_version(two, v1_data)
    show('v1 image %s' % v1['id'], v1, task, keys=VERSION_SHOWN)
    say('   ... a second image named "%s" (v2), imported the same way' %
        VERSIONED)
    v2, task = import_version(two, os.urandom(1024 * 1024))
    show('v2 image %s (once no longer pending)' % v2['id'], v2, task,
         keys=VERSION_SHOWN)
    v1 = two.get(v1['id'])
    show('v1 image %s now' % v1['id'], v1, keys=VERSION_SHOWN)
    check(v2.get('import_ext_version_state') == 'current' and
          v2.get('import_ext_previous_image') == v1['id'],
          'v2 current, replacing v1: %s' % v2)
    check(v1['os_hidden'] and v1['status'] == 'active' and
          v1.get('import_ext_version_state') == 'superseded' and
          v1.get('import_ext_superseded_by') == v2['id'] and
          'import_ext_superseded_at' in v1,
          'v1 hidden and superseded by v2: %s' % v1)
    for query in ('', '&os_hidden=true'):
        listed = [i['id'] for i in two.request(
            'GET', '/v2/images?name=%s%s' % (VERSIONED, query)).json()[
                'images']]
        say('  GET /v2/images?name=%s%s -> %s' % (VERSIONED, query, ', '.join(
            {v1['id']: 'v1', v2['id']: 'v2'}.get(i, i) for i in listed)))
        check(listed == [v1['id'] if query else v2['id']],
              'the listing to show %s only: %s' % (
                  'v1' if query else 'v2', listed))
    downloaded = two.download(v1['id'])
    check(downloaded == v1_data, "v1's data by id")
    say('  GET /v2/images/%s/file -> %d bytes, v1\'s data (still usable by '
        'id)' % (v1['id'], len(downloaded)))

    say('\nWhat each plugin did:')
    say('  staging_owner   checked the staged file was on the importing '
        'worker with the staged size;')
    say('                  recorded import_ext_staged_on / '
        'import_ext_imported_on; its paste filter')
    say('                  answered 503 while the staging replica was down '
        '(Glance alone: 500).')
    say('  metadata_copy   copied the properties selected by prefix from the '
        'source (remote, read')
    say('                  with the caller\'s token; or local, by '
        'copy_metadata_from) and recorded where from.')
    say('  glance_download_verify checked the downloaded bytes against the '
        'source image\'s size, md5 and')
    say('                  sha512 before anything was stored; recorded '
        'import_ext_download_verified.')
    say('  checksum_verify checked every declared digest (from the '
        'stage_digests record, else one pass')
    say('                  over the data); refused the wrong one (task '
        'message above), recorded')
    say('                  import_ext_verified_digests.')
    say('  stage_digests   hashed glance-direct data while it was staged '
        '(sha256+sha512) and wrote')
    say('                  <image id>.import_ext_digests beside it; '
        'checksum_verify took the digests from')
    say('                  it (no pass over the data at import; a wrong '
        'declaration still refused with')
    say('                  both values); used once, so the re-import read '
        'the data.')
    say('  manifest_verify fetched the image\'s SHA256SUMS from the vendor\'s '
        'mirror, checked its')
    say('                  .gpg signature with the trusted key (gpgv), '
        'verified the sha256 it lists in the')
    say('                  import\'s one hashing pass; refused the manifest '
        'changed after signing;')
    say('                  recorded import_ext_manifest_url/entry/algorithms'
        '/signer.')
    say('  image_versions  recorded the intent before the data was written '
        '(version_state pending);')
    say('                  once v2 was active, hid v1 (os_hidden, '
        'import_ext_superseded_by/at) and marked')
    say('                  v2 current with import_ext_previous_image; v1 '
        'stays active, downloadable by id.')
    say('  (all)           import_ext_plugins lists the plugins that ran, '
        'in the configured order.')
    say('\nDemo finished in %.0f s.' % (time.monotonic() - t0))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--keep', action='store_true',
                        help='keep the cloud\'s directory (configs, logs)')
    args = parser.parse_args()
    with cloud_mod.Cloud(keep_dir=args.keep) as cloud:
        mirror = Mirror(cloud, os.urandom(4 * 1024 * 1024))
        try:
            demo(cloud, mirror)
        except Exception:
            say(cloud.logs()[-20000:])
            raise
        finally:
            mirror.stop()
        if args.keep:
            say('Configs and logs kept in %s' % cloud.base_dir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
