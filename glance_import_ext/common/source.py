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

"""Reading the image an import copies from: in another region, or local.

Both readers act as the caller: a remote image is read with the caller's
token from the region's image endpoint in the caller's service catalog, a
local one through the caller's own image repository. So a caller never
learns about an image they could not see through the API.
"""

import time
import uuid

from keystoneauth1.access import service_catalog
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from glance_import_ext.common import errors
from glance_import_ext.common import options
from glance_import_ext import glance_internals

RETRIABLE_STATUS = (500, 502, 503, 504)
# Keystone's column for region ids.
MAX_REGION = 255
# Longest wait between two tries, whatever a Retry-After header asks:
# the import holds Glance's lock meanwhile.
MAX_RETRY_DELAY = 10.0
# Image API fields that are not the image's own extra properties.
CORE_FIELDS = frozenset((
    'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'owner',
    'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value',
    'disk_format', 'container_format', 'min_ram', 'min_disk', 'tags',
    'created_at', 'updated_at', 'self', 'file', 'schema', 'locations',
    'direct_url', 'stores'))


class SourceError(Exception):
    """The source image cannot be used; the message says why and what to do.

    :param problem: what is wrong.
    :param remedy: what to do, where it is to try again: a check in warn
        mode leaves it out, since its import goes on.
    """

    def __init__(self, problem, remedy=None):
        super().__init__('; '.join(filter(None, [problem, remedy])))
        self.problem = problem
        self.remedy = remedy


class SourceImage:
    """What an import needs to know of its source image."""

    def __init__(self, image_id, status, properties, tags=(),
                 disk_format=None, container_format=None, size=None,
                 checksum=None, os_hash_algo=None, os_hash_value=None,
                 region=None):
        self.id = image_id
        self.status = status
        self.properties = dict(properties)
        self.tags = set(tags or ())
        self.disk_format = disk_format
        self.container_format = container_format
        self.size = size
        self.checksum = checksum
        self.os_hash_algo = os_hash_algo
        self.os_hash_value = os_hash_value
        self.region = region

    def __str__(self):
        if self.region:
            return 'image %s in region %s' % (self.id, self.region)
        return 'image %s' % self.id

    def require_active(self):
        """Raise SourceError unless the source image is active."""
        if self.status != 'active':
            raise SourceError('source %s is %s, not active' % (
                self, self.status), 'import again once it is active')

    @classmethod
    def from_api(cls, body, region=None):
        """The source image from an Images API answer.

        :param body: the JSON body of ``GET /v2/images/{id}``.
        :param region: the region it was read from (for messages).
        """
        props = {k: v for k, v in body.items() if k not in CORE_FIELDS}
        return cls(body['id'], body.get('status'), props, body.get('tags'),
                   body.get('disk_format'), body.get('container_format'),
                   body.get('size'), body.get('checksum'),
                   body.get('os_hash_algo'), body.get('os_hash_value'),
                   region)

    @classmethod
    def from_domain(cls, image):
        """The source image from a domain image of this Glance.

        :param image: an image of a caller's repository.
        """
        return cls(image.image_id, image.status,
                   glance_internals.properties_of(image), image.tags,
                   image.disk_format, image.container_format, image.size,
                   image.checksum, image.os_hash_algo, image.os_hash_value)


def image_endpoint(catalog, region, interface='public'):
    """The image service URL of ``region`` in a service catalog.

    Looked up by keystoneauth's service catalog, in the v2 form
    keystonemiddleware hands Glance (``publicURL``...) or the v3 form
    (``interface``/``url``). The region matches whatever its case, as
    Glance's own glance-download finds it.
    """
    try:
        if not (isinstance(region, str) and region and
                isinstance(interface, str) and interface):
            raise ks_exceptions.EndpointNotFound()
        found = _service_catalog(catalog)
        url = found.url_for(service_type='image', interface=interface,
                            region_name=_listed_region(found, region))
    except (ks_exceptions.EndpointNotFound, ks_exceptions.EmptyCatalog,
            KeyError, TypeError, AttributeError):
        # The last three: a catalog entry keystoneauth cannot read.
        raise SourceError('region %s has no %s image endpoint in your '
                          'service catalog; check the region name and '
                          'interface' % (errors.clip(region),
                                         errors.clip(interface)))
    return url.rstrip('/')


def _service_catalog(catalog):
    """keystoneauth's view of ``catalog``: v3 if its endpoints say so."""
    catalog = [service for service in catalog or ()
               if isinstance(service, dict)]
    v3 = any(isinstance(endpoint, dict) and 'interface' in endpoint
             for service in catalog
             for endpoint in service.get('endpoints') or ())
    if v3:
        return service_catalog.ServiceCatalogV3(catalog)
    return service_catalog.ServiceCatalogV2(catalog)


def _listed_region(found, region):
    # keystoneauth compares region names exactly; Glance's glance-download
    # (get_glance_endpoint) ignores their case. The catalog's own spelling
    # of ``region``, if it lists it in any case.
    wanted = region.lower()
    for data in found.get_endpoint_data_list(service_type='image'):
        if data.region_name and data.region_name.lower() == wanted:
            return data.region_name
    return region


def read_remote_image(context, region, image_id, interface='public'):
    """The source image in another region, read with the caller's token."""
    conf = options.CONF[options.GROUP]
    # Both come from the import request: check before they reach a URL or
    # a message.
    if not _is_uuid(image_id):
        raise SourceError('glance_image_id %s is not an image id' %
                          errors.shorten(image_id))
    if not isinstance(region, str) or not 0 < len(region) <= MAX_REGION:
        raise SourceError('glance_region %s is not a region name' %
                          errors.shorten(region))
    endpoint = image_endpoint(context.service_catalog, region, interface)
    session = ks_session.Session(
        auth=token_endpoint.Token(endpoint, context.auth_token))
    where = 'image %s in region %s' % (image_id, region)
    url = '%s/v2/images/%s' % (endpoint, image_id)
    for attempt in range(conf.source_retries + 1):
        try:
            resp = session.get(
                url, raise_exc=False, connect_retries=conf.source_retries,
                timeout=(conf.source_connect_timeout,
                         conf.source_read_timeout))
        except ks_exceptions.ConnectionError as exc:
            raise SourceError('cannot reach region %s to read source %s '
                              'after %d retries (%s)' % (
                                  region, where, conf.source_retries,
                                  type(exc).__name__),
                              'try again when it answers')
        if (resp.status_code not in RETRIABLE_STATUS or
                attempt == conf.source_retries):
            break
        time.sleep(retry_delay(resp, attempt))
    if resp.status_code in (403, 404):
        raise SourceError('source %s not found, or not visible to you' %
                          where)
    if resp.status_code == 401:
        raise SourceError('region %s did not accept your token' % region)
    if resp.status_code >= 400:
        raise SourceError('region %s answered HTTP %d for source image %s' % (
            region, resp.status_code, image_id), 'try again later')
    try:
        return SourceImage.from_api(resp.json(), region)
    except (ValueError, KeyError, AttributeError):
        raise SourceError('region %s answered for source %s with something '
                          'that is not an image record' % (region, where))


def _is_uuid(value):
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (TypeError, ValueError, AttributeError):
        return False


def retry_delay(resp, attempt):
    """Seconds before the next try: Retry-After or backoff, both capped."""
    try:
        delay = float(resp.headers.get('Retry-After'))
    except (TypeError, ValueError):
        delay = 0.5 * 2 ** attempt
    return max(0.0, min(delay, MAX_RETRY_DELAY))


def read_local_image(image_repo, image_id):
    """A local image, read through the caller's own image repository."""
    image = glance_internals.visible_image(image_repo, image_id)
    if image is None:
        raise SourceError('source image %s not found, or not visible to '
                          'you' % image_id)
    return SourceImage.from_domain(image)
