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

"""Glance's reserved image properties, stores and task type."""

from glance_import_ext.glance_internals import releases


# glance/api/common.py GLANCE_RESERVED_NS: users may not write keys starting
# with it, and _ImportActions.set_image_extra_properties drops them.
GLANCE_NAMESPACE = 'os_glance'
# The keys Glance itself writes start with this.
RESERVED_PREFIX = GLANCE_NAMESPACE + '_'
# The import lock: the id of the task that holds the image
# (ImportActionWrapper.assert_task_lock / drop_lock_for_task).
IMPORT_LOCK = 'os_glance_import_task'
# The worker that staged the data (glance/api/v2/image_data.py stage());
# get_flow removes it once the flow is built.
STAGE_HOST = 'os_glance_stage_host'
# _ImportActions.IMPORTING_STORES_KEY.
IMPORTING_TO_STORES = 'os_glance_importing_to_stores'
# The reserved stores glance-api registers with multiple backends
# (glance/common/wsgi_app.py RESERVED_STORES, and glance/common/wsgi.py on
# 28.2.0-32.0.0).
STAGING_STORE = 'os_glance_staging_store'
TASKS_STORE = 'os_glance_tasks_store'
RESERVED_STORES = {STAGING_STORE: 'file', TASKS_STORE: 'file'}
# The task type of an interoperable import (glance/api/v2/images.py).
IMPORT_TASK_TYPE = 'api_image_import'


# name -> where it was checked.
VERIFIED = {
    'GLANCE_NAMESPACE': releases.EVERY,
    'RESERVED_PREFIX': releases.EVERY,
    'IMPORT_LOCK': releases.EVERY,
    'STAGE_HOST': releases.EVERY,
    'IMPORTING_TO_STORES': releases.EVERY,
    'STAGING_STORE': releases.EVERY,
    'TASKS_STORE': releases.EVERY,
    'RESERVED_STORES': releases.EVERY,
    'IMPORT_TASK_TYPE': releases.EVERY,
}
