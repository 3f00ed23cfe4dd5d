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

"""Image versions: which images a new one replaces, and the rotation.

A *lineage* is a set of images of one owner that are versions of one
another: same name, or same values of some properties (SCS-0102's
``os_distro, os_version, architecture``), or the images that name one
image in ``replaces=<id>`` together with that image. Its *current* version
is its visible (not ``os_hidden``) active image.

The image_versions plugin records the intent on the new image before its
data is written (``import_ext_version_state=pending``, the lineage, the
task). Once the import task succeeded and the image is active, the
*rotation* runs (the keepalive calls it; after a crash, the next import of
the lineage or the admin command does):

1. every visible active version is hidden (``os_hidden=true``) and linked
   (``import_ext_superseded_by``, ``import_ext_superseded_at``): the new
   image is active and visible before any other is hidden, so a client
   listing the lineage always sees one current version;
2. with ``keep_versions=N``, superseded versions beyond the N newest are
   deactivated (never deleted);
3. last, the new image is marked ``current``, with
   ``import_ext_previous_image``. Until then it stays ``pending``, so a
   rotation cut short is run again, and each step is idempotent.

Rotations of one lineage take the lineage lock (lock.py) and
each hides every other visible version, so concurrent imports end with
one visible version: the one rotated last, within a poll of its
activation. Every rotation acts as the caller of its own import, whoever
runs it (this process, the next import of the lineage, the admin
command): Glance's policies are asked for each image it changes, and
Glance's DB refuses another project's image. The caller is read from the
records' anchor, which users cannot write, never from the image. A
version the caller may not change is not replaced, and the import is
refused before its data is written. A rotation is only ever done for an
intent whose records match their anchor (records.check).
"""

import contextlib
import datetime
import hashlib
import json
import uuid

from oslo_log import log as logging

from glance_import_ext.common import errors
from glance_import_ext.common import keepalive
from glance_import_ext.common import records
from glance_import_ext import glance_internals
from glance_import_ext.plugins.image_versions import lock

LOG = logging.getLogger(__name__)

NS = records.NAMESPACE
STATE = NS + 'version_state'
LINEAGE = NS + 'version_lineage'
TASK = NS + 'version_task'
PREVIOUS = NS + 'previous_image'
SUPERSEDED_BY = NS + 'superseded_by'
SUPERSEDED_AT = NS + 'superseded_at'
NOTE = NS + 'version_note'
# What the user sets to name the image the new one replaces.
REPLACES = 'replaces'

PENDING = 'pending'          # intent recorded, rotation not done
CURRENT = 'current'          # rotated: this image replaced the others
SUPERSEDED = 'superseded'    # hidden, replaced by SUPERSEDED_BY
RETIRED = 'retired'          # superseded and deactivated (keep_versions)
NOT_CURRENT = 'not-current'  # active but hidden itself: replaced nothing

# Who sees an image: a version is only hidden for a successor that at
# least the same clients see.
REACH = {'private': 0, 'shared': 1, 'community': 2, 'public': 3}
RULES = ('name', 'properties')


class VersionError(Exception):
    """A lineage or rotation that cannot be done; the text says why."""


def _now_text(now=None):
    now = now or keepalive.utcnow()
    return now.strftime('%Y-%m-%dT%H:%M:%SZ')


def _label(image):
    return '%s (%s)' % (image.image_id, errors.shorten(image.name or '', 60))


class Lineage:
    """The versions of one owner's image that share ``key``.

    :param owner: the project owning every version.
    :param key: {'name': n}, {property: value, ...} or {'replaces': id}.
    """

    def __init__(self, owner, key):
        self.owner = owner
        self.key = dict(key)

    @classmethod
    def of_image(cls, image, rule, properties):
        """The lineage ``image`` joins, or None: it has no lineage.

        :raises VersionError: the image names its lineage badly.
        """
        props = glance_internals.properties_of(image)
        replaces = props.get(REPLACES)
        if replaces:
            try:
                replaces = str(uuid.UUID(replaces))
            except ValueError:
                raise VersionError(
                    'property %s=%s is not an image id; set it to the id of '
                    'the image this one replaces' % (
                        REPLACES, errors.shorten(replaces)))
            if replaces == image.image_id:
                raise VersionError('property %s names the image itself'
                                   % REPLACES)
            return cls(image.owner, {REPLACES: replaces})
        if rule == 'name':
            return cls(image.owner, {'name': image.name}) if image.name \
                else None
        values = {k: props.get(k) for k in properties}
        missing = sorted(k for k, v in values.items() if v in (None, ''))
        if len(missing) == len(values):
            return None
        if missing:
            raise VersionError(
                'the image has %s but not %s: its versions are found by all '
                'of %s; set the missing properties, or %s=<id> to name the '
                'image it replaces' % (
                    ', '.join(sorted(set(values) - set(missing))),
                    ', '.join(missing), ', '.join(properties), REPLACES))
        return cls(image.owner, values)

    @classmethod
    def of_record(cls, owner, text):
        """The lineage an image's ``import_ext_version_lineage`` names.

        :param owner: the image's owner.
        :param text: the record's JSON text.
        :raises VersionError: the record is unreadable.
        """
        try:
            key = json.loads(text)
        except (TypeError, ValueError):
            key = None
        if not isinstance(key, dict) or not key or not all(
                isinstance(v, str) for v in key.values()):
            raise VersionError('unreadable lineage record %s' %
                               errors.shorten(text))
        return cls(owner, key)

    @property
    def record(self):
        """The lineage as the JSON text recorded on its images."""
        return json.dumps(self.key, sort_keys=True, separators=(',', ':'))

    @property
    def lock_name(self):
        """The name of the database lock rotations of this lineage take."""
        digest = hashlib.sha256(('%s\n%s' % (self.owner, self.record))
                                .encode('utf-8')).hexdigest()
        return 'import_ext_lineage_' + digest[:40]

    def describe(self):
        """The lineage for messages: ``key=value, ...``."""
        return ', '.join('%s=%s' % (k, errors.shorten(v, 60))
                         for k, v in sorted(self.key.items()))

    def has(self, image):
        """Whether ``image`` is a version of this lineage, compared exactly.

        The one test every lineage rule's members pass. The database only
        narrows the search: MariaDB's default collation compares without
        case and trailing blanks (some collations without accents too), so
        it answers 'RT-WEB_X ' for 'Rt-Web_x'. Here values are equal only
        as Python strings (no case folding, no Unicode normalisation).
        """
        if image.owner != self.owner:
            return False
        props = glance_internals.properties_of(image)
        if REPLACES in self.key:
            return (_same_image_id(image.image_id, self.key[REPLACES]) or
                    props.get(LINEAGE) == self.record)
        if set(self.key) == {'name'}:
            return image.name == self.key['name']
        return all(props.get(k) == v for k, v in self.key.items())

    def members(self, repo):
        """Every image of the lineage ``repo`` sees (deleted ones aside)."""
        found = {}
        base = {'owner': self.owner, 'deleted': False}
        if REPLACES in self.key:
            named = glance_internals.visible_image(repo,
                                                   self.key[REPLACES])
            candidates = [named] if named is not None else []
            queries = [dict(base, properties={LINEAGE: self.record})]
        elif set(self.key) == {'name'}:
            candidates = []
            queries = [dict(base, name=self.key['name'])]
        else:
            candidates = []
            queries = [dict(base, properties=dict(self.key))]
        for filters in queries:
            candidates.extend(repo.list(filters=filters))
        for image in candidates:
            if self.has(image):
                found[image.image_id] = image
        return list(found.values())


def _same_image_id(image_id, named):
    # An image id is a UUID: its case is not part of it (Glance accepts
    # upper case ids at creation), unlike a name's.
    try:
        return uuid.UUID(image_id) == uuid.UUID(named)
    except (TypeError, ValueError, AttributeError):
        return False


def _newest_first(images):
    """``images`` newest first: by creation, then along the lineage.

    Glance keeps ``created_at`` to the second on MySQL, and versions
    imported within one second tie: among them, a version comes after
    every version it superseded, directly or not (``SUPERSEDED_BY``).
    """
    by_id = {i.image_id: i for i in images}
    older = dict.fromkeys(by_id, 0)   # image id -> versions it superseded
    for image in images:
        seen = {image.image_id}
        successor = glance_internals.properties_of(image).get(SUPERSEDED_BY)
        while successor in by_id and successor not in seen:
            older[successor] += 1
            seen.add(successor)
            successor = glance_internals.properties_of(
                by_id[successor]).get(SUPERSEDED_BY)
    return sorted(images, key=lambda i: (i.created_at, older[i.image_id],
                                         i.image_id), reverse=True)


class Change:
    """What a rotation does to one image."""

    def __init__(self, image, records_set, hide=False, deactivate=False):
        self.image = image
        self.records = dict(records_set)
        self.hide = hide
        self.deactivate = deactivate

    @property
    def image_id(self):
        """The id of the image this change is for."""
        return self.image.image_id

    def describe(self):
        """The change for the admin command: each field before and after."""
        parts = []
        if self.hide:
            parts.append('os_hidden false -> true')
        if self.deactivate:
            parts.append('status active -> deactivated')
        before = glance_internals.properties_of(self.image)
        for key in sorted(self.records):
            parts.append('%s: %s -> %s' % (
                key, before.get(key, '(absent)'), self.records[key]))
        return '; '.join(parts)


class Rotation:
    """The changes that make ``image`` its lineage's current version.

    :param context: whose rights the changes are made with.
    :param image: the new version (a domain image).
    :param lineage: its Lineage.
    :param keep_versions: superseded versions beyond this many newest are
        deactivated; 0: none.
    """

    def __init__(self, context, image, lineage, keep_versions, now=None):
        self.context = context
        self.image = image
        self.lineage = lineage
        self.keep_versions = keep_versions
        self.now = now or keepalive.utcnow()
        self.changes = []
        self.refused = []    # (image, why): versions left as they are
        self.kept = []       # more widely visible versions left visible
        self.previous = None
        self.done = []

    def plan(self, repo, members=None):
        """Work out the changes; returns this Rotation.

        :param repo: the image repository of the import's caller.
        :param members: the lineage's members as ``repo`` sees them, read
            under the lineage lock; None: read them now.
        """
        new = self.image
        if members is None:
            members = self.lineage.members(repo)
        others = [m for m in members if m.image_id != new.image_id]
        # A version whose own rotation is pending is left to it: that
        # rotation comes later (in the order the imports ended) and hides
        # whatever is current then.
        visible = [m for m in others
                   if m.status == 'active' and not m.os_hidden and
                   glance_internals.properties_of(m).get(STATE) != PENDING]
        reach = REACH.get(new.visibility, 0)
        to_hide = []
        for m in visible:
            if REACH.get(m.visibility, 0) > reach:
                self.kept.append(m)
            else:
                to_hide.append(m)
        at = _now_text(self.now)
        hidden = []
        for m in to_hide:
            why = self._refusal(m, 'modify_image')
            if why:
                self.refused.append((m, why))
                continue
            hidden.append(m)
            self.changes.append(Change(m, {
                SUPERSEDED_BY: new.image_id, SUPERSEDED_AT: at,
                STATE: SUPERSEDED}, hide=True))
        hidden_ids = {m.image_id for m in hidden}
        # Already linked to this image: a rotation cut short, run again.
        linked = [m for m in others if glance_internals.properties_of(
            m).get(SUPERSEDED_BY) == new.image_id]
        candidates = _newest_first(hidden + linked)
        self.previous = candidates[0] if candidates else None
        if self.keep_versions:
            self._retire(others, hidden_ids)
        mine = {STATE: CURRENT}
        if self.previous is not None:
            mine[PREVIOUS] = self.previous.image_id
        notes = self.notes()
        if notes:
            mine[NOTE] = errors.clip('; '.join(notes), 250)
        # Last: until it is written the image stays pending, so a
        # rotation cut short runs again.
        self.changes.append(Change(new, mine))
        return self

    def _retire(self, others, hidden_ids):
        superseded = [m for m in others if m.status == 'active' and (
            m.image_id in hidden_ids or (
                m.os_hidden and
                glance_internals.properties_of(m).get(SUPERSEDED_BY)))]
        # The new version counts as the newest of the versions kept.
        for m in _newest_first(superseded)[max(self.keep_versions - 1, 0):]:
            why = self._refusal(m, 'deactivate_image')
            if why:
                self.refused.append((m, why))
                continue
            change = next((c for c in self.changes
                           if c.image_id == m.image_id), None)
            if change is None:
                change = Change(m, {})
                self.changes.append(change)
            change.deactivate = True
            change.records[STATE] = RETIRED

    def _refusal(self, image, rule):
        try:
            allowed = glance_internals.check_image_policy(self.context,
                                                          image, rule)
        except (glance_internals.exceptions.Forbidden,
                glance_internals.exceptions.NotFound):
            allowed = False
        return None if allowed else "Glance's policy does not allow %s" % rule

    def notes(self):
        """Why versions were left alone, for the new image's note."""
        notes = ['not replaced: %s (%s)' % (_label(m), why)
                 for m, why in self.refused]
        notes += ['left visible: %s is %s, this image only %s' % (
            _label(m), m.visibility, self.image.visibility)
            for m in self.kept]
        return notes

    def refusal_message(self):
        """The import's failure text when the caller lacks rights."""
        if not self.refused:
            return None
        image, why = self.refused[0]
        more = len(self.refused) - 1
        return ('this import would replace version %s of lineage %s, which '
                'you may not change (%s)%s; nothing was changed. Ask an '
                'admin or the image owner, or give this image another '
                'lineage' % (_label(image), self.lineage.describe(), why,
                             ' (and %d more)' % more if more else ''))

    def apply(self):
        """Make the changes, the new image's last; returns what was done.

        A version that changed meanwhile (deactivated, deleted) is left.
        """
        done = []
        for change in self.changes:
            try:
                write(self.context, change)
            except (glance_internals.exceptions.Conflict,
                    glance_internals.exceptions.NotFound,
                    glance_internals.exceptions.Forbidden) as exc:
                LOG.warning('Image versions: not changing image %s: %s',
                            change.image_id, errors.bounded(exc, 200))
                continue
            LOG.info('Image versions: image %s: %s', change.image_id,
                     change.describe())
            done.append(change)
        return done


def write(context, change):
    """One image's change in one update, records resealed.

    Only the named keys are written (no purge): a concurrent change of
    other properties, Glance's lock among them, is never undone.
    """
    image_id = change.image_id
    props = glance_internals.get_image(context, image_id)['properties']
    # Sealing and anchoring the result would vouch for every record on
    # the image: only done when what is there now is the plugins' own.
    vouched = _vouched_for(image_id, props)
    props.update(change.records)
    updates = dict(change.records)
    seal = records.seal(image_id, props) if vouched else None
    if seal:
        updates[records.SEAL] = seal
        props[records.SEAL] = seal
    # The status the rotation was planned on: a version deactivated (or
    # reactivated) meanwhile is left as it is now (Conflict).
    with (records.anchoring(image_id, props) if vouched
          else contextlib.nullcontext()):
        glance_internals.update_image(
            context, image_id, updates,
            hidden=True if change.hide else None,
            status='deactivated' if change.deactivate else None,
            from_status=change.image.status if (
                change.hide or change.deactivate) else None)
    if not vouched:
        LOG.warning('Image versions: image %s: its records are not as the '
                    'plugins wrote them; changed without sealing them '
                    '(records verify still reports them)', image_id)


def _vouched_for(image_id, properties):
    """Whether the records in ``properties`` are the plugins' own."""
    anchor = glance_internals.anchor_get(image_id)
    verdict, _ = records.check(image_id, properties, anchor=anchor)
    return verdict in (records.VALID, records.NO_RECORDS) or (
        verdict == records.UNSEALED and anchor is not None and
        not records.sealing())


def waits_for_rotation(context, image, now):
    """None if ``image``'s pending rotation is due, else why not.

    Due: the image is active, its import task succeeded or died (or is
    gone), and its records are what the plugins last wrote, as their
    anchor says (an intent a user forged, or an earlier one put back, is
    never acted on).
    """
    props = glance_internals.properties_of(image)
    if props.get(STATE) != PENDING or image.status != 'active':
        return 'no rotation pending'
    task = glance_internals.task_or_none(context, props.get(TASK))
    if task is not None and task['status'] == 'failure':
        return 'its import failed'
    if task is not None and keepalive.task_alive(task, now):
        return 'its import is still running'
    anchor = glance_internals.anchor_get(image.image_id)
    if anchor is None:
        return ('its records are not anchored (written before this '
                'release, or not by the plugins): import it again')
    verdict, _ = records.check(image.image_id, props, anchor=anchor)
    if verdict != records.VALID and not (
            verdict == records.UNSEALED and not records.sealing()):
        return ('its records are not as the plugins wrote them (%s)' %
                verdict)
    return None


def import_caller(image_id):
    """The caller of the import that wrote ``image_id``'s records.

    A RequestContext, from the records' anchor (users cannot write it);
    None if it is not recorded.
    """
    anchor = glance_internals.anchor_get(image_id) or {}
    facts = anchor.get('caller')
    if not isinstance(facts, dict) or not facts.get('project_id'):
        return None
    return glance_internals.caller_context(facts)


def rotate(context, image_id, keep_versions, lock_timeout, now=None,
           apply=True):
    """Make ``image_id`` current if its rotation is pending; idempotent.

    Under the lineage's lock, every version whose import ended and whose
    rotation is pending (this one, concurrent imports that ended too, and
    any a dead worker left) is rotated in the order its import ended: the
    one that ended last is current, however the rotations queued on the
    lock. Glance stores task times to the second; within one second the
    order is this call's.

    :param context: the caller of ``image_id``'s import (its rotation
        acts with these rights); the other versions' rotations act as
        their own import's caller (import_caller).
    :param now: when to judge other imports' tasks dead (default: now).
    :param apply: False: plan ``image_id``'s rotation only (the admin
        command's dry run).
    :returns: the Rotations done (or planned), in order; empty when there
        was nothing to do (not pending, not active).
    """
    repo = glance_internals.image_repo(context)
    image = repo.get(image_id)
    props = glance_internals.properties_of(image)
    if props.get(STATE) != PENDING:
        return []
    lineage = Lineage.of_record(image.owner, props.get(LINEAGE))
    with lock.lineage_lock(lineage.lock_name, lock_timeout):
        todo = [image_id]
        # Read once for both when no other rotation comes first.
        members = lineage.members(repo)
        if apply:
            others = stranded(context, repo, lineage, now, members=[
                m for m in members if m.image_id != image_id])
            if others:
                members = None  # changed by the others' rotations
                order = {i.image_id: (_ended(context, i), 0)
                         for i in others}
                order[image_id] = (_ended(context, image), 1)
                todo = sorted(order, key=lambda i: order[i])
        done = []
        for one in todo:
            caller = context if one == image_id else import_caller(one)
            if caller is None:
                LOG.warning('Image versions: not rotating image %s: the '
                            'caller of its import is not recorded', one)
                continue
            rotation = _rotate_locked(
                caller, glance_internals.image_repo(caller), one, lineage,
                keep_versions, apply,
                members=members if one == image_id else None)
            if rotation is not None:
                done.append(rotation)
        return done


def _ended(context, image):
    """When the image's import task last changed (its end, once ended)."""
    task = glance_internals.task_or_none(
        context, glance_internals.properties_of(image).get(TASK))
    return (task or {}).get('updated_at') or datetime.datetime.min


def _rotate_locked(context, repo, image_id, lineage, keep_versions, apply,
                   members=None):
    image = repo.get(image_id)
    if (glance_internals.properties_of(image).get(STATE) != PENDING or
            image.status != 'active'):
        return None
    if image.os_hidden:
        change = Change(image, {
            STATE: NOT_CURRENT,
            NOTE: 'hidden when it became active: replaced nothing'})
        rotation = Rotation(context, image, lineage, keep_versions)
        rotation.changes = [change]
        if apply:
            write(context, change)
            rotation.done = [change]
        return rotation
    rotation = Rotation(context, image, lineage, keep_versions).plan(
        repo, members)
    if apply:
        rotation.done = rotation.apply()
    return rotation


def stranded(context, repo, lineage=None, now=None, refused=None,
             members=None):
    """Active images whose rotation is due (waits_for_rotation).

    Their worker died between activation and rotation; or their import
    ended while another rotation of the lineage held the lock.
    ``lineage``: only its versions (``members``: as already read).
    ``refused``: a list that gets (image, why) for pending versions left
    alone for their records.
    """
    now = now or keepalive.utcnow()
    if members is not None:
        found = members
    elif lineage is not None:
        found = lineage.members(repo)
    else:
        found = repo.list(filters={'deleted': False, 'status': 'active',
                                   'properties': {STATE: PENDING}})
    out = []
    for image in found:
        why = waits_for_rotation(context, image, now)
        if why is None:
            out.append(image)
        elif refused is not None and why.startswith('its records'):
            refused.append((image, why))
    return sorted(out, key=lambda i: (i.created_at, i.image_id))
