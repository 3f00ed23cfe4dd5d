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

"""What Glance hands an import plugin: get_flow's arguments, its wrapper.

``FlowArguments`` reads ``get_flow``'s keyword arguments; Glance's
``ImportActionWrapper`` (api_image_import) is the import's door to its
image, and the one object every plugin of an import shares
(``import_slot``).
"""

from glance_import_ext.glance_internals import releases

_EVERY = releases.EVERY


class FlowArguments:
    """What Glance passes to a plugin's ``get_flow(**kwargs)``.

    glance/async_/taskflow_executor.py builds them (``task_id``,
    ``task_type``, ``context``, ``task_repo``, ``image_repo``,
    ``backend``, ``admin_repo`` when there is one, ``image_id``,
    ``import_req``); api_image_import.get_flow adds ``action_wrapper``
    and hands them to every plugin (async_/flows/plugins
    get_import_plugins, stevedore's ``invoke_kwds``).

    :param kwargs: the keyword arguments ``get_flow`` was called with.
    """

    REQUIRED = ('task_id', 'image_id', 'action_wrapper', 'task_repo',
                'image_repo')

    def __init__(self, kwargs):
        self.missing = [k for k in self.REQUIRED if not kwargs.get(k)]
        self.task_id = kwargs.get('task_id')
        self.task_type = kwargs.get('task_type')
        self.image_id = kwargs.get('image_id')
        self.context = kwargs.get('context')
        # The import request's body: {'method': {'name': ...}, ...}.
        self.import_req = kwargs.get('import_req')
        self.action_wrapper = kwargs.get('action_wrapper')
        self.task_repo = kwargs.get('task_repo')
        # The repo Glance's action wrapper uses: admin's if there is one.
        self.admin_repo = kwargs.get('admin_repo')
        # The caller's own view.
        self.image_repo = kwargs.get('image_repo')
        self.backends = kwargs.get('backend')


# What the library calls on Glance's wrapper (api_image_import
# .ImportActionWrapper) and on the _ImportActions its ``with`` yields.
WRAPPER_OPERATIONS = ('__enter__', '__exit__', 'assert_task_lock',
                      'drop_lock_for_task')
ACTION_OPERATIONS = ('image_id', 'image_status', 'image_locations',
                     'image_disk_format', 'image_container_format',
                     'image_extra_properties', 'set_image_attribute',
                     'set_image_extra_properties', 'pop_extra_property',
                     'remove_importing_stores')


def import_action_wrapper(image_repo, image_id, task_id):
    """Glance's ImportActionWrapper over ``image_repo``."""
    from glance.async_.flows import api_image_import
    return api_image_import.ImportActionWrapper(image_repo, image_id,
                                                task_id)


# The attribute of Glance's ImportActionWrapper the library keeps its
# per-import state in (import_slot).
IMPORT_SLOT = '_glance_import_ext_state'


def import_slot(action_wrapper, factory):
    """The library's object for this import, kept on Glance's wrapper.

    api_image_import.get_flow creates one ImportActionWrapper per import
    and passes that same object to every plugin's get_flow: the one thing
    the plugins of an import share. ``factory()`` makes the object on
    first use.
    """
    state = getattr(action_wrapper, IMPORT_SLOT, None)
    if state is None:
        state = factory()
        setattr(action_wrapper, IMPORT_SLOT, state)
    return state


def wrapped_image(action):
    """The domain image an _ImportActions changes (its private ``_image``).

    _ImportActions offers no tag operations, and its
    set_image_extra_properties drops ``os_glance_*`` keys; the image it
    wraps is saved with its tags and every property by the same
    ImportActionWrapper.__exit__.
    """
    return action._image


# name -> where it was checked.
VERIFIED = {
    'FlowArguments': _EVERY + ' (taskflow_executor kwds, get_flow)',
    'WRAPPER_OPERATIONS': _EVERY,
    'ACTION_OPERATIONS': _EVERY + ' (_ImportActions identical)',
    'import_action_wrapper': _EVERY,
    'wrapped_image': _EVERY + ' (_ImportActions._image)',
    'IMPORT_SLOT': _EVERY + ' (no such attribute in Glance)',
    'import_slot': _EVERY + ' (get_flow passes one wrapper to every '
                            'plugin)',
}
