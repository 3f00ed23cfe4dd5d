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

"""WSGI filters for glance-api's paste pipeline.

Both filters see every import request: while the configured plugin list
does not run as written (common/plugin_list.py), they refuse it before
Glance starts a task, also when no plugin of the library loaded at all.
"""

import re

from oslo_log import log as logging
import webob

from glance_import_ext.common import plugin_list

LOG = logging.getLogger(__name__)

IMPORT_PATH = re.compile(r'^/v2/images/([0-9a-fA-F-]{36})/import/?$')


def broken_plugin_list_answer(environ):
    """A 500 answer to an import request while the list is broken.

    None when the request is not an import, or the list runs as written.
    """
    if (environ.get('REQUEST_METHOD') != 'POST' or
            not IMPORT_PATH.match(environ.get('PATH_INFO', ''))):
        return None
    text = plugin_list.import_refusal()
    if text is None:
        return None
    LOG.error('Import request refused: %s', text)
    resp = webob.Response(status=500, content_type='application/json',
                          charset='UTF-8')
    resp.json_body = {'error': {
        'code': 500, 'title': 'Internal Server Error',
        'message': 'The import did not start: %s' % text}}
    return resp
