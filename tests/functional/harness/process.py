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

"""A service process the tests start, wait for and always stop."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time


class ServiceFailed(Exception):
    """A service could not be started; the message names it and its log."""


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class DirectoryServer:
    """A server process (``service``) in a directory of its own (``base_dir``).

    stop() ends the process and removes the directory.
    """

    service = None
    base_dir = None

    def stop(self):
        if self.service:
            self.service.stop()
            self.service = None
        shutil.rmtree(self.base_dir, ignore_errors=True)


_SERVERS = {}   # kind -> the test process's started server of that kind


def server_of_process(kind, make, attempts=2):
    """The test process's one server of ``kind``, started on first use.

    ``make()`` gives a fresh server (its own directory and ports), whose
    stop() runs at exit. A start that fails is tried again with a fresh
    server (another test process may have taken a port meanwhile); the
    last failure is raised.
    """
    if kind not in _SERVERS:
        _SERVERS[kind] = _started(make, attempts)
    return _SERVERS[kind]


def _started(make, attempts):
    for attempt in range(1, attempts + 1):
        server = make()
        try:
            server.start()
        except ServiceFailed:
            server.stop()
            if attempt == attempts:
                raise
            continue
        atexit.register(server.stop)
        return server


def run(cmd, env=None, what=None):
    """Run a set-up command; on failure raise with its output."""
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        raise ServiceFailed('%s failed (exit %d): %s\n%s' % (
            what or cmd[0], proc.returncode, ' '.join(cmd), proc.stdout))
    return proc.stdout


class Service:
    """One long-running process with its log file.

    The process gets its own session so that stop() takes down every
    child (uWSGI workers) with it.
    """

    def __init__(self, name, cmd, log_path, env=None):
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        self.env = env
        self.proc = None

    def start(self):
        log = open(self.log_path, 'ab')
        try:
            self.proc = subprocess.Popen(
                self.cmd, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env,
                start_new_session=True)
        finally:
            log.close()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_until(self, ready, timeout=90, what='ready'):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise ServiceFailed('%s exited with %s before it was %s; '
                                    'log:\n%s' % (self.name, self.proc.poll(),
                                                  what, self.log_tail()))
            try:
                if ready():
                    return
            except Exception:  # not up yet: connection refused and the like
                pass
            time.sleep(0.2)
        raise ServiceFailed('%s was not %s after %ss; log:\n%s' % (
            self.name, what, timeout, self.log_tail()))

    def stop(self, timeout=20):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.proc = None

    def log_tail(self, max_bytes=20000):
        try:
            with open(self.log_path, 'rb') as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                return f.read().decode('utf-8', 'replace')
        except OSError as exc:
            return '(no log: %s)' % exc
