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

"""glance-import-ext-status upgrade check: the pre-flight before a restart.

Run on a glance-api host, with glance-api's Python and configuration,
before glance-api is (re)started::

    /path/to/glance-venv/bin/glance-import-ext-status \\
        --config-file /etc/glance/glance-api.conf upgrade check [--json]

Like ``glance-status upgrade check`` (oslo.upgradecheck): one result per
check, with what to do; exit 0 when every check passed, 1 when the worst
is a warning, 2 when one failed. glance-image-import.conf is read from the
directory of glance-api.conf, as glance-api and
glance-import-ext-manage read it. ``glance-import-ext-manage upgrade check``
runs the same checks.

It changes nothing: no file is written; ``gpgv --version`` is the one
program it runs. With ``image_versions`` listed it connects to what gives
the lineage lock, to see that it does: the coordination backend (a lock
taken and released), or else a MySQL/MariaDB database (is it a Galera
node?); nothing else is connected to.
"""

import argparse
import configparser
import importlib.metadata
import logging as std_logging
import os
import re
import subprocess
import sys
import time
import warnings

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck

from glance_import_ext.cmd.manage import config as manage_config
from glance_import_ext.cmd.manage import errors as manage_errors
from glance_import_ext.cmd.manage import values
from glance_import_ext.common import errors
from glance_import_ext.common import options
from glance_import_ext.common import plugin_list
from glance_import_ext import glance_internals
from glance_import_ext.middleware import stage_digests
from glance_import_ext import opts
from glance_import_ext.plugins import image_versions
from glance_import_ext.plugins import manifest_verify
from glance_import_ext.plugins.manifest_verify import openpgp
from glance_import_ext.plugins import metadata_copy

PROG = 'glance-import-ext-status'
SUCCESS = upgradecheck.Code.SUCCESS
WARNING = upgradecheck.Code.WARNING
FAILURE = upgradecheck.Code.FAILURE

# Glance's major versions the library is tested on (glance_internals).
SUPPORTED_MAJORS = sorted({int(r.split('.')[0])
                           for r in glance_internals.RELEASES})
# Glance up to 32 reads [keystone_authtoken] identity_uri when it proxies an
# import; keystonemiddleware from 13 on no longer registers it
# (README, stage_host_check). The filter registers it.
LAST_GLANCE_READING_IDENTITY_URI = 32
KEYSTONEMIDDLEWARE_WITHOUT_IDENTITY_URI = 13
# A key that expires this soon is worth a warning.
EXPIRY_WARNING_DAYS = 30
GPGV_TIMEOUT = 5
# Names property protections are tested with: two records, and the one
# key under import_ext_ users set (a request for a dry run).
PROTECTED_RECORDS = ('import_ext_plugins', 'import_ext_seal')
USER_REQUEST = 'import_ext_dry_run'
WRITES = ('create', 'update', 'delete')
ADMIN_ROLES = frozenset(('admin',))
FILTER_FACTORIES = {
    'stage_host_check':
        'glance_import_ext.middleware.stage_host_check:filter_factory',
    'stage_digests':
        'glance_import_ext.middleware.stage_digests:filter_factory',
}
# Each plugin's own validation when Glance builds its flow, beyond the
# option types and ranges (check_options).
PLUGIN_VALIDATION = {
    metadata_copy.NAME: metadata_copy.check_prefixes,
    manifest_verify.NAME: manifest_verify.trust_rules,
    image_versions.NAME: image_versions.check_lineage_properties,
    stage_digests.GROUP: stage_digests.configured_algorithms,
}
# Option groups read by every plugin, or by a filter whatever the list.
ALWAYS_READ = (options.GROUP, stage_digests.GROUP)


def result(code, text, hint=None):
    """An upgradecheck Result whose details end with what to do."""
    details = text if not hint else '%s. Hint: %s' % (text, hint)
    return upgradecheck.Result(code, details)


def _never_raises(check):
    # oslo.upgradecheck prints a traceback and exits 255 for an exception:
    # a check that cannot tell is a failure with one line instead.
    def run(self):
        try:
            return check(self)
        except Exception as exc:
            return result(FAILURE, 'the check could not run: %s: %s' % (
                type(exc).__name__, values.show(exc, 300)),
                'fix the configuration it names, or report a bug with '
                'this line')
    run.__name__ = check.__name__
    run.__doc__ = check.__doc__
    return run


class Checks(upgradecheck.UpgradeCommands):
    """The pre-flight checks of glance-import-ext, on one configuration.

    :param conf: the parsed configuration of glance-api (glance-api.conf
        and glance-image-import.conf), Glance's options registered.
    :param glance_version: the installed Glance's version (None: read it).
    :param now: the time keys are judged at, seconds since the epoch (None:
        now).
    """

    display_title = 'glance-import-ext pre-flight check'

    def __init__(self, conf=None, glance_version=None, now=None):
        super().__init__()
        self.conf = cfg.CONF if conf is None else conf
        self._glance_version = glance_version
        self.now = now

    # -- what the configuration says -------------------------------------
    @property
    def plugins(self):
        """The names listed in image_import_plugins."""
        return glance_internals.image_import_plugins(self.conf)

    def library_listed(self):
        """The listed names that are this library's plugins."""
        eps = plugin_list.installed()
        return [n for n in self.plugins
                if n in eps and plugin_list.is_library(eps[n])]

    def glance_version(self):
        """The installed Glance's version ('' if it is not installed)."""
        if self._glance_version is None:
            self._glance_version = installed_version('glance')
        return self._glance_version

    def glance_major(self):
        """The installed Glance's major version, or None."""
        try:
            return int(self.glance_version().split('.')[0])
        except ValueError:
            return None

    # -- 1 ---------------------------------------------------------------
    @_never_raises
    def check_release(self):
        """Glance's installed release is one the library supports."""
        version = self.glance_version()
        supported = '%d to %d' % (SUPPORTED_MAJORS[0], SUPPORTED_MAJORS[-1])
        if not version:
            return result(FAILURE, 'Glance is not installed in this Python '
                                   'environment (%s)' % sys.prefix,
                          "run this command with glance-api's Python, e.g. "
                          '/path/to/glance-venv/bin/%s' % PROG)
        if self.glance_major() not in SUPPORTED_MAJORS:
            return result(FAILURE, 'Glance %s is not a release this library '
                                   'supports (%s)' % (version, supported),
                          'install a glance-import-ext release made for '
                          'it, or keep the plugins out of '
                          'image_import_plugins')
        return result(SUCCESS, 'Glance %s (supported: %s)' % (
            version, supported))

    # -- 2 ---------------------------------------------------------------
    @_never_raises
    def check_plugins_load(self):
        """Every listed plugin resolves to a get_flow that imports."""
        names = self.plugins
        if not names:
            return result(WARNING, '[%s] image_import_plugins is empty: '
                                   'glance-api runs no import plugin' %
                          glance_internals.IMPORT_PLUGINS_GROUP,
                          'list the plugins in glance-image-import.conf')
        strict = self.conf[options.GROUP].require_every_plugin
        found = plugin_list.load_problems(names, require_every_plugin=strict)
        eps = plugin_list.installed()
        others = [n for n in names if n in eps and
                  not plugin_list.is_library(eps[n])]
        note = ''
        if others:
            note = ('; %s of other packages: their get_flow is not called '
                    'here (only an import can tell whether it builds)' %
                    ', '.join(others))
        fatal = [p for p in found if p.fatal]
        listed = 'listed: %s' % ', '.join(names)
        if fatal:
            return result(FAILURE, '%s (%s%s)' % (
                '; '.join(str(p) for p in fatal), listed, note),
                'fix the name, or install what its module needs, in '
                "glance-api's Python environment; until then every import "
                'fails')
        if found:
            return result(WARNING, '%s (%s%s)' % (
                '; '.join(str(p) for p in found), listed, note),
                '[%s] require_every_plugin = false: imports go on without '
                'it; fix it, or remove it from the list' % options.GROUP)
        if not self.library_listed():
            return result(WARNING, 'no plugin of glance-import-ext is '
                                   'listed (%s%s)' % (listed, note),
                          'list its plugins in image_import_plugins, or '
                          'uninstall it')
        return result(SUCCESS, 'every listed plugin loads (%s%s)' % (
            listed, note))

    # -- 3 ---------------------------------------------------------------
    @_never_raises
    def check_options(self):
        """Every option group of the library holds valid values."""
        listed = set(self.plugins)
        bad, unused = [], []
        for group, group_opts in opts.list_opts():
            try:
                options.check_options(group, group_opts, self.conf)
                validate = PLUGIN_VALIDATION.get(group)
                if validate:
                    validate(self.conf[group])
            except errors.ConfigError as exc:
                if group in listed or group in ALWAYS_READ:
                    bad.append(str(exc))
                else:
                    unused.append('%s (not listed)' % exc)
        if bad:
            return result(FAILURE, '; '.join(bad + unused),
                          'fix it in glance-image-import.conf: the plugin '
                          'refuses every import until then')
        if unused:
            return result(WARNING, '; '.join(unused),
                          'fix it before the plugin is listed')
        return result(SUCCESS, 'every option of groups %s is valid' % (
            ', '.join(g for g, _ in opts.list_opts())))

    # -- 4 ---------------------------------------------------------------
    @_never_raises
    def check_order(self):
        """The list keeps the order rules (plugin_list)."""
        names = self.plugins
        changed_data = self.conf[options.GROUP].verify_changed_data
        found = plugin_list.order_problems(names, changed_data)
        if found:
            return result(FAILURE, '; '.join(str(p) for p in found),
                          'reorder image_import_plugins (recommended: '
                          'staging_owner, metadata_copy, the verifying '
                          'plugins, image_conversion/image_decompression, '
                          'image_versions); every import fails until then')
        if changed_data:
            late = self._verifying_after_changes(names)
            return result(WARNING, '[%s] verify_changed_data = true: the '
                                   'verifying plugins check changed data on '
                                   'purpose%s' % (
                                       options.GROUP,
                                       ' (%s after %s)' % late if late
                                       else ''),
                          'keep it only if the declared digests are of the '
                          'converted or decompressed data')
        return result(SUCCESS, 'the order keeps every rule (%s)' % (
            ', '.join(names) or 'no plugin'))

    @staticmethod
    def _verifying_after_changes(names):
        changers = [i for i, n in enumerate(names)
                    if n in plugin_list.DATA_CHANGING]
        if not changers:
            return None
        late = [n for n in names[changers[0] + 1:]
                if n in plugin_list.VERIFYING]
        if not late:
            return None
        return ', '.join(late), names[changers[0]]

    # -- 5 ---------------------------------------------------------------
    @_never_raises
    def check_keyrings(self):
        """Each trust rule's keyring is readable, parseable, not expired."""
        rules = list(self.conf[manifest_verify.NAME].trust_rule)
        if not rules:
            return result(SUCCESS, 'no [%s] trust_rule: no keyring to '
                                   'check' % manifest_verify.NAME)
        listed = manifest_verify.NAME in self.plugins
        now = time.time() if self.now is None else self.now
        failures, warnings_, fine = [], [], []
        for text in rules:
            parts = text.split()
            if len(parts) != 3:
                failures.append('trust_rule %s is not "PREFIX KEYRING '
                                'SIGNATURE"' % errors.shorten(text))
                continue
            keyring = parts[1]
            try:
                keys = openpgp.key_validity(keyring)
            except openpgp.SignatureError as exc:
                failures.append(str(exc))
                continue
            verdict = self._judge_keys(keyring, keys, now)
            (failures if verdict[0] == FAILURE else warnings_
             if verdict[0] == WARNING else fine).append(verdict[1])
        lines = failures + warnings_ + fine
        if failures:
            code = FAILURE if listed else WARNING
            return result(code, '; '.join(lines) + (
                '' if listed else ' (%s is not listed)' %
                manifest_verify.NAME),
                "install the vendor's current public key file there, "
                'readable by the glance-api user; manifests under such a '
                'rule fail their import')
        if warnings_:
            return result(WARNING, '; '.join(lines),
                          "get the vendor's renewed key before it expires")
        return result(SUCCESS, '; '.join(lines))

    @staticmethod
    def _judge_keys(keyring, keys, now):
        shown = values.show(keyring, 200)
        if keys is None:
            return SUCCESS, ('%s: a GnuPG keybox, readable; key expiry not '
                             'read from keyboxes' % shown)
        soon = now + EXPIRY_WARNING_DAYS * 86400
        expired, revoked, expiring, unread, good = [], [], [], [], []
        for key in keys:
            name = key.fingerprint or 'a v3 key'
            if key.fingerprint is None:
                unread.append(name)
            elif key.revoked:
                revoked.append(name)
            elif key.expires is not None and key.expires <= now:
                expired.append('%s (%s)' % (name, _day(key.expires)))
            elif key.expires is not None and key.expires <= soon:
                expiring.append('%s (%s)' % (name, _day(key.expires)))
            else:
                good.append(name)
        parts = []
        for what, items in (('expired', expired), ('revoked', revoked),
                            ('expiring within %d days' % EXPIRY_WARNING_DAYS,
                             expiring), ('expiry not read', unread)):
            if items:
                parts.append('%s: %s' % (what, ', '.join(items)))
        text = '%s: %d key(s)%s' % (shown, len(keys), (
            ', ' + '; '.join(parts)) if parts else ', none expired')
        if not good and not expiring and not unread:
            return FAILURE, text + ': no key can verify a signature'
        if expired or revoked or expiring:
            return WARNING, text
        return SUCCESS, text

    # -- 6 ---------------------------------------------------------------
    @_never_raises
    def check_gpgv(self):
        """gpgv is installed and runs, where manifest_verify is listed."""
        if manifest_verify.NAME not in self.plugins:
            return result(SUCCESS, '%s is not listed: gpgv not needed' %
                          manifest_verify.NAME)
        hint = ("install Debian's gpgv package (or your distribution's "
                'gpgv) on every glance-api host')
        try:
            path = openpgp.gpgv_path()
        except openpgp.SignatureError:
            return result(FAILURE, 'gpgv not found in PATH or /usr/bin, '
                                   '/bin: %s cannot check signed '
                                   'manifests' % manifest_verify.NAME, hint)
        try:
            proc = subprocess.run(
                [path, '--version'], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                timeout=GPGV_TIMEOUT, env={'LC_ALL': 'C', 'PATH':
                                           '/usr/bin:/bin'})
        except (OSError, subprocess.SubprocessError) as exc:
            return result(FAILURE, 'cannot run %s: %s' % (
                path, values.show(exc, 200)), hint)
        first = (proc.stdout or b'').decode('utf-8', 'replace')
        first = first.splitlines()[0] if first.strip() else ''
        if proc.returncode:
            return result(FAILURE, '%s --version exited %d: %s' % (
                path, proc.returncode, values.show(first, 200)), hint)
        return result(SUCCESS, '%s runs (%s)' % (
            path, values.show(first, 100)))

    # -- 7 ---------------------------------------------------------------
    @_never_raises
    def check_record_key(self):
        """record_key is set, so records are sealed. Never printed."""
        group = self.conf[options.GROUP]
        try:
            key = group.record_key
            previous = len(group.previous_record_keys)
        except (cfg.Error, ValueError):
            # Its reason would quote the secret.
            return result(FAILURE, '[%s] record_key or previous_record_keys '
                                   'has an invalid value (not shown: '
                                   'secret)' % options.GROUP,
                          'fix it in glance-image-import.conf')
        if key:
            return result(SUCCESS, '[%s] record_key is set%s' % (
                options.GROUP, ' (and %d previous key(s))' % previous
                if previous else ''))
        return result(WARNING, '[%s] record_key is not set: the records '
                               'plugins write (import_ext_*) cannot be '
                               'sealed, and an owner\'s later edit does '
                               'not show' % options.GROUP,
                      'set the same secret record_key on every glance-api, '
                      'in glance-image-import.conf')

    # -- 8 ---------------------------------------------------------------
    @_never_raises
    def check_property_protections(self):
        """With property protections, users cannot write import_ext_*."""
        path = self.conf.property_protection_file
        if not path:
            return result(SUCCESS, 'property_protection_file not set: '
                                   'nothing to check')
        shown = values.show(path, 200)
        rule_format = (self.conf.property_protection_rule_format or
                       'roles').lower()
        if rule_format != 'roles':
            return result(WARNING, 'property_protection_rule_format = %s: '
                                   'only the roles format is checked here' %
                          rule_format,
                          'check by hand that %s has a rule for '
                          'import_ext_* that only admin may create, update '
                          'or delete (README, "Records nobody can forge")'
                          % shown)
        found = _find_file(self.conf, path) or path
        rules = configparser.ConfigParser(interpolation=None)
        try:
            with open(found) as f:
                rules.read_file(f)
        except (OSError, configparser.Error, UnicodeDecodeError) as exc:
            return result(FAILURE, 'cannot read property_protection_file '
                                   '%s: %s' % (shown, values.show(
                                       exc, 200)),
                          'glance-api does not start without it: fix it')
        hint = ('add, before the catch-all rule of %s: [^import_ext_(?!'
                'dry_run$).*] with create, update, delete = admin and read '
                '= admin,member,reader' % shown)
        problems = []
        for name in PROTECTED_RECORDS:
            section, rule = _first_rule(rules, name)
            if section is None:
                # Glance refuses what no rule matches: users cannot write.
                continue
            open_to = sorted({role for action in WRITES
                              for role in _roles(rule.get(action))
                              if role != '!'} - ADMIN_ROLES)
            if open_to:
                problems.append('%s: rule [%s] lets %s %s it' % (
                    name, section, ', '.join(open_to),
                    '/'.join(WRITES)))
        if problems:
            return result(WARNING, '%s in %s: users can forge the '
                                   "library's records" % (
                                       '; '.join(problems), shown), hint)
        section, rule = _first_rule(rules, USER_REQUEST)
        writers = set(_roles((rule or {}).get('create'))) - ADMIN_ROLES - {
            '!'}
        tail = ('; %s is writable by users (%s), as it should be' % (
            USER_REQUEST, ', '.join(sorted(writers))) if writers else
            '; note: users cannot set %s (dry runs need an admin)' %
            USER_REQUEST)
        return result(SUCCESS, 'in %s only admin may create, update or '
                               'delete %s%s' % (shown, ', '.join(
                                   PROTECTED_RECORDS), tail))

    # -- 9 ---------------------------------------------------------------
    @_never_raises
    def check_paste_pipeline(self):
        """The library's filters in the pipeline glance-api runs."""
        path = paste_file(self.conf)
        if not path:
            return result(FAILURE, 'no paste file found (%s)' % (
                '[paste_deploy] config_file = %s' % values.show(
                    self.conf.paste_deploy.config_file, 200)
                if self.conf.paste_deploy.config_file else
                'glance-api-paste.ini beside glance-api.conf'),
                'glance-api does not start without it: fix [paste_deploy] '
                'config_file')
        paste = configparser.ConfigParser(interpolation=None)
        paste.optionxform = str
        try:
            with open(path) as f:
                paste.read_file(f)
        except (OSError, configparser.Error, UnicodeDecodeError) as exc:
            return result(FAILURE, 'cannot read %s: %s' % (
                values.show(path, 200), values.show(exc, 200)),
                'fix the paste file')
        flavor = self.conf.paste_deploy.flavor or 'default'
        where = _pipeline(paste, flavor)
        if where is None:
            return result(FAILURE, '%s has no pipeline for paste flavor '
                                   '%s' % (values.show(path, 200),
                                           flavor),
                          'glance-api does not start: fix [paste_deploy] '
                          'flavor or the paste file')
        section, option = where
        words = paste.get(section, option).split()
        ours = {}
        for word in words:
            factory = paste.get('filter:' + word, 'paste.filter_factory',
                                fallback='').strip()
            for name, ours_factory in FILTER_FACTORIES.items():
                if factory == ours_factory:
                    ours[name] = word
        context = [i for i, w in enumerate(words) if w in (
            glance_internals.CONTEXT_FILTER,
            glance_internals.UNAUTHENTICATED_CONTEXT_FILTER)]
        at = '[%s] %s = %s' % (section, option, ' '.join(words))
        early = [w for w in ours.values()
                 if not context or words.index(w) < context[0]]
        if early:
            return result(FAILURE, '%s: %s before %s; it reads Glance\'s '
                                   'request context' % (
                                       at, ', '.join(early),
                                       glance_internals.CONTEXT_FILTER),
                          'move it right after %s' %
                          glance_internals.CONTEXT_FILTER)
        need = self._needs_stage_host_check()
        if need and 'stage_host_check' not in ours:
            return result(FAILURE, '%s: no stage_host_check, and %s' % (
                at, need), 'add stage_host_check after context (README, '
                           'stage_host_check), or pin keystonemiddleware<%d'
                           % KEYSTONEMIDDLEWARE_WITHOUT_IDENTITY_URI)
        missing = [n for n in FILTER_FACTORIES if n not in ours]
        return result(SUCCESS, '%s (%s)%s' % (at, values.show(
            path, 200), '; %s not in it: optional here' % ', '.join(
                missing) if missing else ''))

    def _needs_stage_host_check(self):
        """Why proxied imports answer 500 without the filter, or None."""
        major = self.glance_major()
        if major is None or major > LAST_GLANCE_READING_IDENTITY_URI:
            return None
        ksm = installed_version('keystonemiddleware')
        try:
            ksm_major = int(ksm.split('.')[0])
        except ValueError:
            return None
        if ksm_major < KEYSTONEMIDDLEWARE_WITHOUT_IDENTITY_URI:
            return None
        proxied = []
        if plugin_list.STAGING_OWNER in self.plugins:
            proxied.append('staging_owner is listed')
        if getattr(self.conf, 'worker_self_reference_url', None):
            proxied.append('worker_self_reference_url is set')
        if not proxied:
            return None
        return ('Glance %s with keystonemiddleware %s answers 500 to every '
                'proxied import without it (%s)' % (
                    self.glance_version(), ksm, ' and '.join(proxied)))

    # -- 10 --------------------------------------------------------------
    @_never_raises
    def check_lineage_lock(self):
        """The database gives image_versions its lineage lock."""
        if image_versions.NAME not in self.plugins:
            return result(SUCCESS, '%s is not listed: no lock needed' %
                          image_versions.NAME)
        group = self.conf[image_versions.NAME]
        url = (group.coordination_url or '').strip()
        if url:
            # Only the scheme is shown: the URL may hold a password.
            scheme = url.split(':', 1)[0]
            why = image_versions.lock.probe(url)
            if why:
                return result(FAILURE, '[%s] coordination_url (%s) does not '
                                       'give a lock: %s' % (
                                           image_versions.NAME, scheme, why),
                              'start the backend or correct the URL')
            return result(SUCCESS, '[%s] coordination_url (%s) gives the '
                                   'lineage lock' % (image_versions.NAME,
                                                     scheme))
        connection = self.conf.database.connection or ''
        kinds = {}

        def lock_kind():
            kinds['found'] = glance_internals.database_lock_kind_at(
                connection)
            return kinds['found']
        why = image_versions.lock.problem(group, lock_kind)
        if why:
            return result(FAILURE, why,
                          'set [%s] coordination_url, or remove %s from the '
                          'list' % (image_versions.NAME, image_versions.NAME))
        return result(SUCCESS, 'Glance\'s database (%s) serializes every '
                               'glance-api of a lineage' % kinds['found'])

    # -- 11 --------------------------------------------------------------
    @_never_raises
    def check_staging_dir(self):
        """This worker's staging directory exists and is writable."""
        try:
            glance_internals.register_staging_store_options(self.conf)
            path = glance_internals.staging_dir(self.conf)
        except (cfg.Error, ValueError) as exc:
            return result(FAILURE, 'invalid staging configuration: %s' %
                          values.show(exc, 200),
                          'fix [DEFAULT] enabled_backends or '
                          '[os_glance_staging_store]')
        if not path:
            return result(WARNING, 'no file staging directory configured '
                                   '(node_staging_uri or '
                                   '[os_glance_staging_store] '
                                   'filesystem_store_datadir): not checked',
                          'glance-direct needs one')
        shown = values.show(path, 200)
        hint = ('run this check as the user glance-api runs as; if it is '
                'that user, make the directory writable for it')
        if os.path.exists(path) and not os.path.isdir(path):
            return result(FAILURE, 'staging directory %s is not a '
                                   'directory' % shown,
                          'point the staging option at a directory')
        if not os.path.exists(path):
            # Glance's file store creates its directory when it is
            # configured (at start, or at the first stage): it must be
            # able to.
            parent = _existing_parent(path)
            if not os.access(parent, os.W_OK | os.X_OK):
                return result(FAILURE, 'staging directory %s does not exist '
                                       'and this user (uid %d) cannot '
                                       'create it in %s' % (
                                           shown, os.getuid(),
                                           values.show(parent, 200)),
                              'create it, writable for the glance-api user')
            return result(SUCCESS, 'staging directory %s does not exist '
                                   'yet; Glance creates it (%s is '
                                   'writable)' % (
                                       shown, values.show(parent, 200)))
        if not os.access(path, os.W_OK | os.X_OK):
            return result(FAILURE, 'staging directory %s is not writable '
                                   'by this user (uid %d)' % (
                                       shown, os.getuid()), hint)
        return result(SUCCESS, 'staging directory %s is writable' % shown)

    _upgrade_checks = (
        ('Glance release', check_release),
        ('Plugins load', check_plugins_load),
        ('Options', check_options),
        ('Plugin order', check_order),
        ('Trust-rule keyrings', check_keyrings),
        ('gpgv', check_gpgv),
        ('Record key', check_record_key),
        ('Property protections', check_property_protections),
        ('Paste pipeline', check_paste_pipeline),
        ('Lineage lock', check_lineage_lock),
        ('Staging directory', check_staging_dir),
    )


def installed_version(distribution):
    """The version of ``distribution`` in this environment, or ''."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ''


def _existing_parent(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path


def _day(seconds):
    return time.strftime('%Y-%m-%d', time.gmtime(seconds))


def _roles(value):
    return [r.strip().lower() for r in (value or '').split(',') if r.strip()]


def _first_rule(rules, name):
    """(section, options) of the first rule matching ``name``, as Glance.

    Glance matches the sections' regular expressions in file order with
    re.search; it skips sections under os_glance (its own).
    """
    for section in rules.sections():
        if section.startswith(glance_internals.GLANCE_NAMESPACE):
            continue
        try:
            if re.search(section, name):
                return section, dict(rules[section])
        except re.error:
            continue
    return None, None


def paste_file(conf):
    """The paste file glance-api loads with this configuration, or None.

    As Glance: ``[paste_deploy] config_file``, else glance-api-paste.ini
    named after the last config file, looked up in the config directories.
    """
    name = conf.paste_deploy.config_file
    if name:
        if os.path.isabs(name):
            return name if os.path.isfile(name) else None
        found = _find_file(conf, name)
        return found or (os.path.abspath(name) if os.path.isfile(name)
                         else None)
    last = (conf.config_file or ['glance-api.conf'])[-1]
    return _find_file(conf, os.path.basename(last).replace(
        '.conf', '-paste.ini'))


def _find_file(conf, name):
    """``name`` in the configuration's directories, as Glance finds it."""
    try:
        return conf.find_file(name)
    except cfg.NotInitializedError:  # not parsed: unit tests
        return None


def _pipeline(paste, flavor):
    """(section, option) holding the pipeline of ``flavor``, or None.

    Glance's [composite:api] has one option per flavor
    (glance.api:pipeline_factory); older files have
    [pipeline:glance-api-<flavor>].
    """
    if paste.has_option(glance_internals.PASTE_PIPELINES, flavor):
        return glance_internals.PASTE_PIPELINES, flavor
    section = 'pipeline:glance-api' + (
        '' if flavor == glance_internals.DEFAULT_FLAVOR else '-' + flavor)
    if paste.has_option(section, 'pipeline'):
        return section, 'pipeline'
    return None


def _config_args(argv):
    """(argv for oslo.config, default config files) as glance-api reads.

    glance-api.conf from --config-file (else where glance-api looks), and
    glance-image-import.conf beside it: manage's config.config_files.
    """
    if any(a in ('-h', '--help', '--version') for a in argv):
        return argv, None
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument('--config-file', action='append')
    known, rest = parser.parse_known_args(argv)
    return rest, manage_config.config_files(known)


def main(argv=None, prog=PROG):
    """Run ``upgrade check``; the exit code of the worst result.

    :param argv: the arguments (default: sys.argv[1:]).
    :param prog: the command named in error lines (glance-import-ext-manage
        runs the same checks).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    # Nothing but the results: no deprecation warnings, no log records.
    warnings.simplefilter('ignore')
    std_logging.getLogger().addHandler(std_logging.NullHandler())
    conf = cfg.CONF
    try:
        argv, files = _config_args(argv)
        manage_config.register_glance_options(conf)
        glance_internals.register_preflight_options(conf)
    except manage_errors.CommandError as exc:
        sys.stderr.write('%s: error: %s\n' % (prog, exc))
        return FAILURE
    except ImportError as exc:
        sys.stderr.write('%s: error: Glance cannot be imported (%s). Hint: '
                         "run this command with glance-api's Python, e.g. "
                         '/path/to/glance-venv/bin/%s\n' % (prog, exc, prog))
        return FAILURE
    try:
        return upgradecheck.main(conf, 'glance', Checks(conf), argv=argv,
                                 default_config_files=files)
    except cfg.Error as exc:
        sys.stderr.write('%s: error: cannot read the configuration: %s. '
                         'Hint: fix the file named\n' % (
                             prog, values.show(exc, 300)))
        return FAILURE


if __name__ == '__main__':
    sys.exit(main())
