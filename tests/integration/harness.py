"""Shared helpers for tests that run the real procevents_exporter binary (imported by the pytest tests).

Besides pytest, only the Python standard library: the exporter is started on 127.0.0.1 with an ephemeral port
(read back from its log), scraped over HTTP, and its text exposition parsed into samples.
"""
import contextlib
import gzip
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

# ctest sets both to the built binaries; the defaults suit a run from the source root.
BINARY = os.environ.get('PROCEVENTS_BINARY', 'build/exporter/app/procevents_exporter')
WORKLOAD = os.environ.get('PROCEVENTS_WORKLOAD', 'build/tests/support/procevents_workload')
EXIT_NOW = os.environ.get('PROCEVENTS_EXIT_NOW', 'build/tests/support/procevents_exit_now')
PE_BINARY = shutil.which('prometheus-process-exporter')

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Returns {(name, frozenset(labels.items())): value} for every sample line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        match = SAMPLE.match(line)
        if not match:
            raise AssertionError('unparseable line: %r' % line)
        name, labels, value = match.groups()
        pairs = frozenset((k, v.encode().decode('unicode_escape')) for k, v in LABEL.findall(labels or ''))
        samples[(name, pairs)] = float(value)
    return samples


def value(samples, name, **labels):
    """The value of the one sample matching name and labels (0 when absent)."""
    wanted = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and wanted <= set(ls)]
    if len(found) > 1:
        raise AssertionError('%s %s matches %d samples' % (name, labels, len(found)))
    return found[0] if found else 0.0


def total(samples, name, **labels):
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def kernel_forks():
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith('processes '):
                return int(line.split()[1])
    raise AssertionError('no processes line in /proc/stat')


def require_root():
    """Skips the test without root; under CI a missing facility fails instead."""
    if os.geteuid() != 0:
        msg = 'needs root (CAP_NET_ADMIN) to subscribe to the process events connector'
        if os.environ.get('CI'):
            pytest.fail(msg)
        pytest.skip(msg)


class Exporter:
    """The real binary on 127.0.0.1:<ephemeral>. Use as a context manager. `wrapper` is a command that
    ends by exec'ing the binary in its own process (setpriv, unshare, strace), so proc.pid stays it."""

    def __init__(self, binary, *args, scheme='http', wrapper=()):
        self.binary = binary
        self.wrapper = list(wrapper)
        self.args = list(args)
        self.scheme = scheme
        self.port = None
        self.proc = None
        self.log_lines = []

    def __enter__(self):
        # O_APPEND: the exporter shares this file's offset, which log() moves to read it; without it, a line
        # written while log() reads would overwrite earlier ones.
        self.log_file = tempfile.TemporaryFile(mode='a+')
        self.proc = subprocess.Popen(
            self.wrapper + [self.binary, '--web.listen-address=127.0.0.1:0', '--log.level=debug'] + self.args,
            stdout=subprocess.DEVNULL, stderr=self.log_file, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('exporter exited with %s:\n%s' % (self.proc.returncode, self.log()))
            match = re.search(r'(?:msg=listening port=|"msg":"listening","port":")(\d+)', self.log())
            if match:
                self.port = int(match.group(1))
                return self
            time.sleep(0.05)
        raise AssertionError('exporter did not start listening:\n' + self.log())

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return False

    def log(self):
        self.log_file.flush()
        self.log_file.seek(0)
        return self.log_file.read()

    def url(self, path):
        return '%s://127.0.0.1:%d%s' % (self.scheme, self.port, path)

    def get(self, path, headers=None, context=None, timeout=10):
        request = urllib.request.Request(self.url(path), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
                body = response.read()
                if response.headers.get('Content-Encoding') == 'gzip':
                    body = gzip.decompress(body)
                return response.status, dict(response.headers), body.decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors='replace')

    def scrape(self, **kwargs):
        status, _, body = self.get('/metrics', **kwargs)
        if status != 200:
            raise AssertionError('scrape failed with %d: %s' % (status, body))
        return body

    def samples(self):
        return parse_metrics(self.scrape())

    def wait_for(self, predicate, timeout=15, what='condition'):
        """Polls /metrics until predicate(samples) is true; returns those samples."""
        deadline = time.time() + timeout
        samples = None
        while time.time() < deadline:
            samples = self.samples()
            if predicate(samples):
                return samples
            time.sleep(0.1)
        raise AssertionError('timed out waiting for %s; last scrape:\n%s' % (what, self.scrape()))


def settled(exporter):
    """Waits until the aggregator has handled everything received (ring empty twice in a row)."""
    previous = None
    deadline = time.time() + 15
    while time.time() < deadline:
        s = exporter.samples()
        processed = total(s, 'procevents_events_total')
        if value(s, 'procevents_ring_used') == 0 and processed == previous:
            return s
        previous = processed
        time.sleep(0.2)
    raise AssertionError('exporter did not settle')



CGROUP_ROOT = '/sys/fs/cgroup/unified' if os.path.isdir('/sys/fs/cgroup/unified') else '/sys/fs/cgroup'


@contextlib.contextmanager
def scratch_cgroups(*paths):
    """Creates the cgroup directories `paths` (relative to the v2 root, parents included) for the block and
    removes what it created afterwards. Skips (fails under CI) where there is no writable hierarchy."""
    import pytest
    def unavailable(reason):
        if os.environ.get('CI'):
            raise AssertionError(reason)
        pytest.skip(reason)
    if not os.path.exists(os.path.join(CGROUP_ROOT, 'cgroup.procs')):
        unavailable('no cgroup v2 hierarchy at %s' % CGROUP_ROOT)
    created = []
    try:
        for path in paths:
            parts = path.split('/')
            for i in range(1, len(parts) + 1):
                d = os.path.join(CGROUP_ROOT, *parts[:i])
                if not os.path.isdir(d):
                    try:
                        os.mkdir(d)
                    except OSError as error:
                        unavailable('cannot create the test cgroup %s: %s' % (d, error))
                    created.append(d)
        yield [os.path.join(CGROUP_ROOT, path, 'cgroup.procs') for path in paths]
    finally:
        # A cgroup is removable once its last process is reaped, which can take a moment.
        for d in reversed(created):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)


# A child that exits at once is labelled with its parent's cgroup as read when its exec is handled,
# milliseconds later (README, "Limits worth knowing"): this process, the parent of the tests' children,
# stays in a cgroup that long after its block, as a service's or container's main process would.
PARENT_LINGERS_S = 0.3


@contextlib.contextmanager
def inside_cgroup(procs_file):
    """Moves this process into the cgroup of `procs_file` for the block, then back where it was."""
    with open('/proc/self/cgroup') as f:
        home = next((line.split(':', 2)[2].strip() for line in f if line.startswith('0::')), None)
    with open(procs_file, 'w') as f:
        f.write(str(os.getpid()))
    try:
        yield
    finally:
        time.sleep(PARENT_LINGERS_S)
        if home is not None:
            with open(os.path.join(CGROUP_ROOT, home.lstrip('/'), 'cgroup.procs'), 'w') as f:
                f.write(str(os.getpid()))


@pytest.fixture(scope='module', autouse=True)
def process_exporter_installed():
    if not PE_BINARY:
        message = 'prometheus-process-exporter is not installed (scripts/install-deps.sh installs it)'
        if os.environ.get('CI'):
            pytest.fail(message)
        pytest.skip(message)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class ProcessExporter:
    """Debian's prometheus-process-exporter on 127.0.0.1:<free port>."""

    def __init__(self, config_path, children=True, extra=('-threads=false', '-gather-smaps=false')):
        self.port = free_port()
        self.args = [PE_BINARY, '-config.path', config_path, '-web.listen-address', '127.0.0.1:%d' % self.port,
                     '-children=%s' % ('true' if children else 'false'),
                     # It names a process when first seen, even between fork and exec; we name it at exec.
                     '-recheck'] + list(extra)

    def __enter__(self):
        self.log = tempfile.TemporaryFile(mode='w+')
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise AssertionError('process-exporter exited with %s:\n%s' % (self.proc.returncode, self.log.read()))
            with contextlib.suppress(OSError):
                self.scrape()
                return self
            time.sleep(0.1)
        raise AssertionError('process-exporter did not start')

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
        return False

    def scrape(self):
        with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % self.port, timeout=10) as response:
            return response.read().decode()

    def samples(self):
        return parse_metrics(self.scrape())
