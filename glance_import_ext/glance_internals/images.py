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

"""Glance's domain images as a caller's repository hands them out.

A caller's image repository (``image_repo`` and the ``image_repo`` Glance
passes to a plugin) wraps each image in the proxies of policy, property
protection and notification: these helpers read through them.
"""

from glance_import_ext import glance_internals as seam
from glance_import_ext.glance_internals import releases


def properties_of(image):
    """A domain image's extra properties, as a plain dict copy.

    ``image.extra_properties`` is Glance's ``ExtraProperties`` (or a
    proxy of it, e.g. property protection's): a live mapping that saving
    the image writes back. The copy can be kept and compared.

    :param image: a domain image, or an image of a caller's repository.
    """
    return dict(image.extra_properties)


def visible_image(repo, image_id):
    """The image as ``repo``'s caller sees it; None if they cannot.

    Glance answers an image that does not exist and one the caller may
    not see alike (404, its repository raising NotFound or Forbidden):
    so does this.

    :param repo: a caller's image repository.
    :param image_id: the image's id.
    """
    try:
        return repo.get(image_id)
    except (seam.exceptions.NotFound, seam.exceptions.Forbidden):
        return None


# name -> where it was checked.
VERIFIED = {
    'properties_of': releases.EVERY + ' (glance.domain.ExtraProperties, '
                                      'ExtraPropertiesProxy)',
    'visible_image': releases.EVERY + ' (ImageRepo.get, the policy '
                                      'proxy: NotFound, Forbidden)',
}
