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

"""Every Glance internal the library relies on, and where it was verified.

Glance offers import plugins no API: a plugin gets Glance's own objects and
must know their shape. This package is the one place that knows it.
Nothing else in ``glance_import_ext`` imports ``glance``, ``sqlalchemy``
or ``oslo_db``, or calls Glance's DB API; every other module uses the
names below (``glance_internals.X``). When a Glance release changes one
of these, the submodule that has it is the file to change, and its
``VERIFIED`` (at its end) says what was checked where; ``VERIFIED`` here
gathers them all.

Releases (the project's functional tests pass on each, through the release
matrix, ``tox -e functional-glanceNN``): 28.2.0, 29.2.1, 30.2.0, 31.1.0,
32.0.0, 33.0.0. "Source" means the item was read in that release's
published source; "matrix" means it is exercised by the functional tests
of that release only.

Every ``glance`` import is inside a function: this package, like the
modules that use it, imports where Glance is not installed
(oslo-config-generator, docs, the remote fetch's unit tests). And the
tests' patches of Glance's own names (``glance.db.get_api``...) reach the
library, since each name is looked up when it is used. So do patches of
this package's names: its submodules call each other's public names
through the package (``seam.X``), as every caller does.

Submodules:

``reserved``
    Glance's reserved image properties (``os_glance_*``), stores and
    task type.
``actions``
    The ``get_flow`` keyword arguments (``FlowArguments``), the
    ``ImportActionWrapper``, its private ``_image``, the import's slot.
``glance_exceptions``
    Glance's exceptions (``exceptions``, ``upload_failure_base``).
``images``
    Domain images as a caller's repository hands them out.
``db``
    The database: repositories, the DB API, sessions, the named lock,
    the records' anchor table, and the verbs the rest of the library
    reads and changes images and tasks with (the admin command's SQL
    among them).
``policy``
    The request context, the caller as data, Glance's image policy.
``config``
    Glance's options the library reads, and their registration.
``http``
    The paste pipeline, request bodies, Glance's import filtering of
    URLs (``import_filter``) and its refusals.
"""

from glance_import_ext.glance_internals import actions
from glance_import_ext.glance_internals import config
from glance_import_ext.glance_internals import db
from glance_import_ext.glance_internals import glance_exceptions
from glance_import_ext.glance_internals import http
from glance_import_ext.glance_internals import images
from glance_import_ext.glance_internals import policy
from glance_import_ext.glance_internals import releases
from glance_import_ext.glance_internals import reserved

RELEASES = releases.RELEASES

# -- Reserved image properties, stores, task type (reserved) -----------------
GLANCE_NAMESPACE = reserved.GLANCE_NAMESPACE
RESERVED_PREFIX = reserved.RESERVED_PREFIX
IMPORT_LOCK = reserved.IMPORT_LOCK
STAGE_HOST = reserved.STAGE_HOST
IMPORTING_TO_STORES = reserved.IMPORTING_TO_STORES
STAGING_STORE = reserved.STAGING_STORE
TASKS_STORE = reserved.TASKS_STORE
RESERVED_STORES = reserved.RESERVED_STORES
IMPORT_TASK_TYPE = reserved.IMPORT_TASK_TYPE

# -- get_flow's arguments, the ImportActionWrapper (actions) -----------------
FlowArguments = actions.FlowArguments
WRAPPER_OPERATIONS = actions.WRAPPER_OPERATIONS
ACTION_OPERATIONS = actions.ACTION_OPERATIONS
import_action_wrapper = actions.import_action_wrapper
IMPORT_SLOT = actions.IMPORT_SLOT
import_slot = actions.import_slot
wrapped_image = actions.wrapped_image

# -- Glance's exceptions (glance_exceptions) ---------------------------------
properties_of = images.properties_of
visible_image = images.visible_image

exceptions = glance_exceptions.exceptions
upload_failure_base = glance_exceptions.upload_failure_base

# -- The database and its verbs (db) -----------------------------------------
db_api = db.db_api
image_repo = db.image_repo
admin_context = db.admin_context
sqlalchemy_api = db.sqlalchemy_api
sqlalchemy_models = db.sqlalchemy_models
SHARED_LOCK_KINDS = db.SHARED_LOCK_KINDS
database_lock_kind = db.database_lock_kind
database_lock_kind_at = db.database_lock_kind_at
named_lock = db.named_lock
LockTimeout = db.LockTimeout
LockUnavailable = db.LockUnavailable
ANCHOR_TABLE = db.ANCHOR_TABLE
anchor_get = db.anchor_get
anchored_image_ids = db.anchored_image_ids
anchor_begin = db.anchor_begin
anchor_confirm = db.anchor_confirm
anchor_abort = db.anchor_abort
read_session = db.read_session
write_session = db.write_session
get_image = db.get_image
image_or_none = db.image_or_none
images_with_status = db.images_with_status
update_image = db.update_image
get_task = db.get_task
task_or_none = db.task_or_none
task_statuses = db.task_statuses
touch_tasks = db.touch_tasks
set_task_result = db.set_task_result
locked_image_ids = db.locked_image_ids
latest_import_task = db.latest_import_task
RecoveryConflict = db.RecoveryConflict
recover_image = db.recover_image
PARALLEL_IMPORT_TAG = db.PARALLEL_IMPORT_TAG
PARALLEL_IMPORT_STATUSES = db.PARALLEL_IMPORT_STATUSES
parallel_import_leftovers = db.parallel_import_leftovers
register_database_options = db.register_database_options
database_failure = db.database_failure

# -- Request context, caller, image policy (policy) --------------------------
request_context = policy.request_context
CALLER_FIELDS = policy.CALLER_FIELDS
caller_facts = policy.caller_facts
caller_context = policy.caller_context
may_modify_image = policy.may_modify_image
check_image_policy = policy.check_image_policy

# -- Glance's options (config) -----------------------------------------------
AUTHTOKEN_GROUP = config.AUTHTOKEN_GROUP
IMPORT_PLUGINS_GROUP = config.IMPORT_PLUGINS_GROUP
PLUGIN_NAMESPACE = config.PLUGIN_NAMESPACE
DATA_CHANGING_PLUGINS = config.DATA_CHANGING_PLUGINS
QUEUED_BY_REVERT_PLUGINS = config.QUEUED_BY_REVERT_PLUGINS
GLANCE_DOWNLOAD_GROUP = config.GLANCE_DOWNLOAD_GROUP
IMPORT_FILTERING_GROUP = config.IMPORT_FILTERING_GROUP
image_import_plugins = config.image_import_plugins
glance_download_copied_prefixes = config.glance_download_copied_prefixes
hashing_algorithm = config.hashing_algorithm
worker_url = config.worker_url
staging_dir = config.staging_dir
store_objects = config.store_objects
register_glance_options = config.register_glance_options
register_staging_store_options = config.register_staging_store_options
register_preflight_options = config.register_preflight_options

# -- Paste pipeline, request bodies, import filtering (http) -----------------
CONTEXT_FILTER = http.CONTEXT_FILTER
UNAUTHENTICATED_CONTEXT_FILTER = http.UNAUTHENTICATED_CONTEXT_FILTER
PASTE_PIPELINES = http.PASTE_PIPELINES
DEFAULT_FLAVOR = http.DEFAULT_FLAVOR
CHUNKED_BODY_HEADER = http.CHUNKED_BODY_HEADER
REFUSALS = http.REFUSALS
import_filter = http.import_filter
refusal_reason = http.refusal_reason

# name -> where it was checked, for every name above.
VERIFIED = {}
for _part in (reserved, actions, images, glance_exceptions, db, policy,
              config, http):
    VERIFIED.update(_part.VERIFIED)
del _part
