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

"""The plugin list the operator wrote: does every name run, in safe order?

Glance loads ``[image_import_opts] image_import_plugins`` with stevedore's
NamedExtensionManager, which logs one WARNING for a name it cannot load (no
such entry point, a module that does not import, a ``get_flow`` that
raises) and drops it: every import then passes without that check. The
library cannot stop Glance from dropping a name, but every plugin of the
library still loaded sees the whole list, and fails the import when it
cannot keep its promise (plugin.build_flow). The pre-flight command
(``glance-import-ext-status upgrade check``) asks the same questions
before a restart; it also covers what no import can report: the library
not installed at all.

The order rules, and why:

- ``staging_owner`` first: a plugin before it would read staged data that
  may be on another worker;
- the verifying plugins before any plugin that changes the data
  (``image_conversion``, ``image_decompression``): published digests are
  of the bytes as published. ``[glance_import_ext] verify_changed_data``
  allows the other order on purpose, for digests of the changed data;
- ``image_versions`` after every check: its intent is recorded once the
  checks passed;
- no name twice: the second run of a plugin would undo nothing the first
  did and check the same data again (Glance would also run it twice).
"""

import difflib
import functools
import importlib.metadata
import threading

from glance_import_ext.common import errors
from glance_import_ext.common import options
from glance_import_ext import glance_internals

LIBRARY_MODULES = 'glance_import_ext.'
STAGING_OWNER = 'staging_owner'
VERIFYING = ('checksum_verify', 'manifest_verify', 'glance_download_verify')
CHECKS = (STAGING_OWNER,) + VERIFYING
VERSIONS = 'image_versions'
DATA_CHANGING = glance_internals.DATA_CHANGING_PLUGINS
PREFLIGHT = 'glance-import-ext-status upgrade check'


class Problem:
    """One reason a listed plugin list cannot keep the library's promise.

    :param name: the listed name concerned.
    :param text: what is wrong and what to do, in an operator's words.
    :param fatal: False: only logged (a name of another package, with
        ``require_every_plugin = false``).
    """

    def __init__(self, name, text, fatal=True):
        self.name = name
        self.text = text
        self.fatal = fatal

    def __str__(self):
        return self.text

    def __repr__(self):
        return 'Problem(%r, %r, fatal=%r)' % (self.name, self.text,
                                              self.fatal)


@functools.lru_cache(maxsize=1)
def installed():
    """{name: EntryPoint} of Glance's plugin namespace, as stevedore sees it.

    The first entry point of a name wins, as in stevedore. Read once per
    process: what is installed changes with a restart, as Glance's list.
    """
    found = {}
    for ep in importlib.metadata.entry_points(
            group=glance_internals.PLUGIN_NAMESPACE):
        found.setdefault(ep.name, ep)
    return found


def is_library(entry_point):
    """True if ``entry_point`` is one of this library's plugins.

    :param entry_point: an entry point of Glance's plugin namespace.
    """
    return entry_point.value.startswith(LIBRARY_MODULES)


def load_problems(names, entry_points=None, require_every_plugin=True):
    """Names that do not resolve to a get_flow that imports."""
    eps = installed() if entry_points is None else entry_points
    out = []
    for name in _unique(names):
        ep = eps.get(name)
        if ep is None:
            close = difflib.get_close_matches(name, sorted(eps), n=1)
            # A name like one of the library's is a check that does not
            # run, relaxed or not.
            ours = bool(close) and is_library(eps[close[0]])
            out.append(Problem(name, '%s: no plugin of that name is '
                                     'installed%s' % (
                                         errors.shorten(name, 60),
                                         ' (did you mean %s?)' % close[0]
                                         if close else ''),
                               fatal=ours or require_every_plugin))
            continue
        reason = _load_failure(ep)
        if reason:
            out.append(Problem(
                name, '%s: its module does not load (%s)' % (name, reason),
                fatal=is_library(ep) or require_every_plugin))
    return out


@functools.lru_cache(maxsize=64)
def _load_failure_of(value):
    ep = importlib.metadata.EntryPoint(name='x', value=value,
                                       group=glance_internals.PLUGIN_NAMESPACE)
    try:
        loaded = ep.load()
    except Exception as exc:
        return '%s: %s' % (type(exc).__name__, errors.bounded(exc, 200))
    if not callable(loaded):
        return '%s is not a get_flow function' % value
    return None


def _load_failure(ep):
    # Imports are cached by Python; a failing one is cached here, so that
    # every import of an image does not retry a broken module.
    return _load_failure_of(ep.value)


def flow_problems(names, kwargs, entry_points=None, require_every_plugin=True):
    """Names of other packages whose get_flow raises with ``kwargs``.

    Stevedore drops such a plugin with a WARNING. To know, its get_flow is
    called once more and the flow it builds thrown away (Glance's own
    plugins only build task objects). It gets an action wrapper of its
    own: a plugin that builds this library's flows inside (a wrapper)
    leaves the import's shared state alone. The library's own get_flow
    never raises (plugin.build_flow).
    """
    eps = installed() if entry_points is None else entry_points
    out = []
    for name in _unique(names):
        ep = eps.get(name)
        if ep is None or is_library(ep) or _load_failure(ep):
            continue
        probe = dict(kwargs, action_wrapper=glance_internals
                     .import_action_wrapper(
                         kwargs.get('admin_repo') or kwargs.get('image_repo'),
                         kwargs.get('image_id'), kwargs.get('task_id')))
        _PROBING.active = True
        try:
            ep.load()(**probe)
        except Exception as exc:
            out.append(Problem(name, '%s: its get_flow raised %s: %s' % (
                name, type(exc).__name__, errors.bounded(exc, 200)),
                fatal=require_every_plugin))
        finally:
            _PROBING.active = False
    return out


_PROBING = threading.local()


def probing():
    """True while flow_problems builds another package's flow."""
    return getattr(_PROBING, 'active', False)


def order_problems(names, verify_changed_data=False):
    """The order rules the list breaks (module docstring)."""
    names = list(names)
    out = []
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append(Problem(name, '%s is listed %d times: list each plugin '
                                 'once' % (name, names.count(name))))
    if STAGING_OWNER in names and names[0] != STAGING_OWNER:
        out.append(Problem(STAGING_OWNER, (
            'staging_owner must be listed first: %s before it would read '
            'staged data that may be on another worker') % names[0]))
    changers = [i for i, n in enumerate(names) if n in DATA_CHANGING]
    if changers and not verify_changed_data:
        first = changers[0]
        for name in _unique(names[first + 1:]):
            if name in VERIFYING:
                out.append(Problem(name, (
                    '%s is listed after %s, which changes the data: it would '
                    'check bytes the publisher never hashed. List it before '
                    '%s, or set [%s] verify_changed_data = true if the '
                    'declared digests are of the changed data') % (
                        name, names[first], names[first], options.GROUP)))
    if VERSIONS in names:
        at = names.index(VERSIONS)
        late = _unique(n for n in names[at + 1:] if n in CHECKS)
        if late:
            out.append(Problem(VERSIONS, (
                'image_versions must be listed after every check (%s): it '
                'records its intent once the checks passed') % ', '.join(
                    late)))
    return out


def problems(names, kwargs=None, conf=None, entry_points=None):
    """Every Problem of the list ``names``.

    :param kwargs: get_flow's keyword arguments, to build the flows of the
        other packages' plugins; None: not built (the pre-flight).
    """
    conf = conf or options.CONF[options.GROUP]
    eps = installed() if entry_points is None else entry_points
    strict = conf.require_every_plugin
    found = load_problems(names, eps, strict)
    if kwargs is not None:
        found += flow_problems(names, kwargs, eps, strict)
    return found + order_problems(names, conf.verify_changed_data)


def import_refusal(conf=None):
    """The refusal of an import request, or None: the list runs as written.

    For the paste filters, which see every import request even when no
    plugin of the library loads (every listed name of it misspelt). Other
    packages' flows are not built here (no import to build them for);
    the plugins do that.
    """
    found = [p for p in problems(glance_internals.image_import_plugins(),
                                 conf=conf) if p.fatal]
    return refusal(found) if found else None


def refusal(found):
    """The task message for fatal problems; bounded."""
    return errors.bounded(
        'the configured plugin list does not run as written ([%s] '
        'image_import_plugins): %s. Every import fails until it is fixed; '
        'run "%s" on the glance-api host before restarting it' % (
            glance_internals.IMPORT_PLUGINS_GROUP,
            '; '.join(str(p) for p in found), PREFLIGHT), 1000)


def _unique(names):
    return list(dict.fromkeys(names))
