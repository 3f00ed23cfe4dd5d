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

"""Who calls: Glance's request context, the caller as data, image policy.

The request context Glance's ``context`` filter puts on a request; the
caller an import's records name (``caller_facts``), and a context that
acts as that caller again (``caller_context``); Glance's own image
policy checks (ImageAPIPolicy).
"""

from glance_import_ext import glance_internals as seam
from glance_import_ext.glance_internals import releases

_EVERY = releases.EVERY


def request_context(req):
    """The RequestContext Glance's ``context`` filter put on ``req``."""
    return getattr(req, 'context', None)


# What of a RequestContext the admin command needs to act later as that
# caller (oslo.context's names; Glance's policies read these).
CALLER_FIELDS = ('user_id', 'project_id', 'roles', 'user_domain_id',
                 'project_domain_id', 'system_scope')


def caller_facts(context):
    """The caller of ``context``, as plain data (anchor_begin)."""
    facts = {name: getattr(context, name, None) for name in CALLER_FIELDS}
    facts['roles'] = list(facts['roles'] or [])
    return facts


def caller_context(facts):
    """A RequestContext for the caller ``facts`` describe.

    With Glance's policy enforcer: Glance's policies and DB API judge it
    as that user.
    """
    import glance.context
    facts = {k: v for k, v in dict(facts).items() if k in CALLER_FIELDS}
    return glance.context.RequestContext(**facts)


def may_modify_image(context, image):
    """Glance's ``modify_image`` policy for ``context`` on ``image``: bool."""
    # Through the package: a patch of check_image_policy reaches it.
    return seam.check_image_policy(context, image, 'modify_image')


def check_image_policy(context, image, rule):
    """Glance's image policy check ``rule``: True if allowed.

    ``rule`` names an ImageAPIPolicy method (modify_image,
    deactivate_image...). ``image`` is a domain image (an ImageRepo's);
    ImageAPIPolicy.check turns a refusal into False.
    """
    from glance.api.v2 import policy as api_policy
    return api_policy.ImageAPIPolicy(
        context, image,
        enforcer=getattr(context, 'policy_enforcer', None)).check(rule)


# name -> where it was checked.
VERIFIED = {
    'request_context': _EVERY + ' (ContextMiddleware sets req.context)',
    'CALLER_FIELDS': _EVERY + ' (RequestContext is oslo.context\'s)',
    'caller_facts': _EVERY,
    'caller_context': _EVERY + ' (RequestContext(policy_enforcer=None) '
                               'makes policy.Enforcer())',
    'may_modify_image': _EVERY + ' (ImageAPIPolicy(context, image, '
                                 'enforcer).check)',
    'check_image_policy': _EVERY + ' (ImageAPIPolicy.modify_image, '
                                   'deactivate_image)',
}
