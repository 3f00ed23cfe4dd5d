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

"""A small, explicit client for the Image API v2 as the tests use it.

Plain requests so every status code is seen: openstacksdk's import_image()
does not fail on 4xx/5xx.
"""

import time

import requests


class APIError(Exception):

    def __init__(self, resp):
        self.status = resp.status_code
        self.resp = resp
        super().__init__('%s %s -> %d: %s' % (
            resp.request.method, resp.request.url, resp.status_code,
            resp.text[:2000]))


class ImageClient:

    def __init__(self, url, token, extra_headers=None):
        self.url = url.rstrip('/')
        self.headers = {'X-Auth-Token': token}
        self.headers.update(extra_headers or {})
        self._earlier_tasks = {}

    def request(self, method, path, expect=(200,), **kwargs):
        headers = dict(self.headers)
        headers.update(kwargs.pop('headers', {}))
        resp = requests.request(method, self.url + path, headers=headers,
                                timeout=kwargs.pop('timeout', 120), **kwargs)
        if expect and resp.status_code not in expect:
            raise APIError(resp)
        return resp

    def create(self, name='functional', disk_format='raw',
               container_format='bare', **props):
        body = dict(name=name, disk_format=disk_format,
                    container_format=container_format, **props)
        return self.request('POST', '/v2/images', json=body,
                            expect=(201,)).json()

    def get(self, image_id):
        return self.request('GET', '/v2/images/' + image_id).json()

    def update(self, image_id, **props):
        ops = [{'op': 'add', 'path': '/' + k, 'value': v}
               for k, v in props.items()]
        return self.request(
            'PATCH', '/v2/images/' + image_id, json=ops,
            headers={'Content-Type':
                     'application/openstack-images-v2.1-json-patch'}).json()

    def patch(self, image_id, ops, expect=(200,)):
        """A JSON-patch of ``ops`` (dicts with op, path, value)."""
        return self.request(
            'PATCH', '/v2/images/' + image_id, json=ops, expect=expect,
            headers={'Content-Type':
                     'application/openstack-images-v2.1-json-patch'})

    def stage(self, image_id, data):
        self.request('PUT', '/v2/images/%s/stage' % image_id, data=data,
                     expect=(204,),
                     headers={'Content-Type': 'application/octet-stream'})

    def upload(self, image_id, data):
        self.request('PUT', '/v2/images/%s/file' % image_id, data=data,
                     expect=(204,),
                     headers={'Content-Type': 'application/octet-stream'})

    def import_(self, image_id, method='glance-direct', expect=(202,),
                stores=None, all_stores_must_succeed=None, **method_args):
        """Import ``image_id``; ``stores``: the target stores' names."""
        # Tasks created in the same second sort in any order: remember
        # which exist, so wait_for_import waits for the new one.
        self._earlier_tasks[image_id] = {
            t['id'] for t in self.tasks(image_id)}
        body = {'method': dict(name=method, **method_args)}
        if stores is not None:
            body['stores'] = list(stores)
        if all_stores_must_succeed is not None:
            body['all_stores_must_succeed'] = all_stores_must_succeed
        return self.request('POST', '/v2/images/%s/import' % image_id,
                            json=body, expect=expect)

    def download(self, image_id):
        return self.request('GET', '/v2/images/%s/file' % image_id).content

    def delete(self, image_id):
        self.request('DELETE', '/v2/images/' + image_id, expect=(204,))

    def tasks(self, image_id):
        return self.request('GET',
                            '/v2/images/%s/tasks' % image_id).json()['tasks']

    def wait_for_import(self, image_id, timeout=120, poll=0.3):
        """Wait until the latest import task ends; return (image, task)."""
        deadline = time.monotonic() + timeout
        settled = None
        while time.monotonic() < deadline:
            earlier = self._earlier_tasks.get(image_id, set())
            tasks = [t for t in self.tasks(image_id) if t['id'] not in earlier]
            if tasks and tasks[-1]['status'] in ('success', 'failure'):
                image = self.get(image_id)
                # The task is marked failed before the flow's reverts end:
                # give the image a moment to leave 'importing'.
                settled = settled or time.monotonic() + 10
                if (image['status'] != 'importing' or
                        time.monotonic() > settled):
                    return image, tasks[-1]
            time.sleep(poll)
        raise AssertionError('import of %s did not finish in %ss: image %s, '
                             'tasks %s' % (image_id, timeout,
                                           self.get(image_id), tasks))
