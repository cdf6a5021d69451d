"""Hostile hosts: the shipped capability sets, /proc mounted with hidepid, prompt loss reports after an
overrun, the self-audit of the process table, signals and restarts during storms, and a thousand slow or
idle HTTP clients beside Prometheus.

The capability profiles are those of deploy/: the systemd unit and the DaemonSet both run uid 0 with
CAP_NET_ADMIN alone (bounding set) and no_new_privs, applied here with setpriv(1); a third profile shows
what a non-root uid with an ambient CAP_NET_ADMIN keeps. Each run names two long-lived workloads, one of
root and one of another user (nobody), through a rule that uses every feature, and reads back which parts
of the name and labels came through: subscription, names (comm), exe, cmdline, cgroups, taskstats.
"""
import os
import random
import shutil
import signal
import socket
import ssl
import string
import subprocess
import tempfile
import threading
import time

import pytest

from harness import BINARY, EXIT_NOW, Exporter, WORKLOAD, inside_cgroup, scratch_cgroups, total, value
from slow_clients import KINDS, raise_nofile, run_beside, tls_web_config

NOBODY = 65534
ROOT_WITH_NET_ADMIN = ['setpriv', '--bounding-set=-all,+net_admin', '--inh-caps=-all', '--no-new-privs', '--']
PROFILES = {
    # deploy/systemd/procevents_exporter.service: root, CapabilityBoundingSet=CAP_NET_ADMIN, NoNewPrivileges=yes
    'systemd_unit': ROOT_WITH_NET_ADMIN,
    # deploy/kubernetes/daemonset.yaml: runAsUser 0, drop ALL + add NET_ADMIN, allowPrivilegeEscalation false
    'daemonset': ROOT_WITH_NET_ADMIN,
    # Opt-in (README): the shipped set plus CAP_SYS_PTRACE, for rules that need every exe path.
    'with_sys_ptrace': ['setpriv', '--bounding-set=-all,+net_admin,+sys_ptrace', '--inh-caps=-all', '--no-new-privs', '--'],
    # Not shipped: a non-root uid with CAP_NET_ADMIN as an ambient capability (User= + AmbientCapabilities=).
    'non_root': ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups',
                 '--inh-caps=-all,+net_admin', '--ambient-caps=+net_admin', '--bounding-set=-all,+net_admin',
                 '--no-new-privs', '--'],
}
FEATURES = ('subscription', 'taskstats', 'names', 'exe', 'cmdline', 'cgroups', 'user')
EVERYTHING = set(FEATURES)
# What each profile sees of each workload's owner: the README's "Least privilege" table says the same.
# The exe link (the binary of a process named from its exit record) needs ptrace read access: the same uid AND
# the target's permitted capabilities a subset of ours (a root process with the full set is not), or CAP_SYS_PTRACE.
EXPECTED = {
    'systemd_unit': {'root': EVERYTHING - {'exe'}, 'other': EVERYTHING - {'exe'}},
    'daemonset': {'root': EVERYTHING - {'exe'}, 'other': EVERYTHING - {'exe'}},
    'with_sys_ptrace': {'root': EVERYTHING, 'other': EVERYTHING},
    'non_root': {'root': EVERYTHING - {'exe'}, 'other': EVERYTHING},
}
# /proc mounted hidepid=2: a process outside the mount's gid= group (0, root's group, by default) that may
# not ptrace another user's process does not see it.
HIDDEN = {'subscription', 'taskstats'}
EXPECTED_HIDEPID = {'root': EVERYTHING - {'exe'}, 'other': EVERYTHING - {'exe'}}
EXPECTED_HIDEPID_GID = {'root': HIDDEN, 'other': HIDDEN}  # a root process with more capabilities than ours too
ARGV0 = 'pe-argv0'  # the workloads' argv[0], which {{.ExeBase}} shows for a process read from /proc
SLEEP_MS = 6000


def unique(prefix):
    return prefix + ''.join(random.choice(string.ascii_lowercase) for _ in range(6))


@pytest.fixture
def shared_dir():
    """A directory every uid can read (the non-root exporter reads its config file from it)."""
    path = tempfile.mkdtemp(prefix='procevents-hostile-')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def require(tool):
    if shutil.which(tool) is None:
        reason = '%s is not installed (util-linux)' % tool
        if os.environ.get('CI'):
            pytest.fail(reason)
        pytest.skip(reason)


class Owners:
    """Per owner (root, and nobody as "other"): a long-lived copy of the workload, started in a service-shaped
    cgroup with argv[0] differing from the file name, and a copy of exit_now run 300 times. File names are
    longer than comm's 15 characters, so a name shows where it came from: exit_now runs gone before /proc is
    read are named from their exit record, whose binary path is known only if the exporter could read the exe
    link of an earlier run (else comm stands in)."""

    def __init__(self, directory, service):
        self.directory = directory
        self.service = service
        self.sleepers, self.quitters = {}, {}
        for owner, prefix in (('root', 'lpr'), ('other', 'lpu')):
            base = unique(prefix)
            self.sleepers[owner] = base + '-sleeping'
            self.quitters[owner] = base + '-quitting'
            for name, source in ((self.sleepers[owner], WORKLOAD), (self.quitters[owner], EXIT_NOW)):
                shutil.copy(source, os.path.join(directory, name))
                os.chmod(os.path.join(directory, name), 0o755)
        self.procs = []

    @staticmethod
    def as_owner(owner):
        return (lambda: (os.setgid(NOBODY), os.setuid(NOBODY))) if owner == 'other' else None

    def start(self, procs_file):
        with inside_cgroup(procs_file):
            for owner, name in self.sleepers.items():
                self.procs.append(subprocess.Popen([ARGV0, 'sleep', str(SLEEP_MS)], executable=os.path.join(self.directory, name),
                                                   preexec_fn=self.as_owner(owner)))

    def run_quitters(self):
        # A program that exits at once is caught alive by /proc only now and then; its binary's path, for the
        # runs named from their exit record, is learned from such a run: enough runs that one comes early.
        for owner, name in self.quitters.items():
            for _ in range(300):
                subprocess.run([ARGV0], executable=os.path.join(self.directory, name), preexec_fn=self.as_owner(owner))

    def stop(self):
        for proc in self.procs:
            proc.kill()
            proc.wait()

    def config(self):
        comms = lambda names: ', '.join(name[:15] for name in names.values())
        return ('process_names:\n'
                '  - name: "{{.Comm}}|{{.ExeBase}}|{{.Matches.Ms}}|{{.Username}}"\n'
                '    comm: [%s]\n'
                "    cmdline: ['sleep (?P<Ms>\\d+)']\n"
                '  - name: "{{.Comm}}|{{.ExeBase}}"\n'
                '    comm: [%s]\n'
                'attribution: [unit]\n' % (comms(self.sleepers), comms(self.quitters)))

    def groups(self, samples):
        return sorted(dict(k[1]).get('groupname') for k, v in samples.items()
                      if k[0] == 'procevents_execs_total' and v >= 1 and '|' in dict(k[1]).get('groupname', ''))

    def features(self, samples):
        """{owner: set of features seen} from the exporter's samples."""
        seen = {}
        for owner in self.sleepers:
            sleeper, quitter = self.sleepers[owner], self.quitters[owner]
            user = 'root' if owner == 'root' else 'nobody'
            got = set()
            if value(samples, 'procevents_connector_up') == 1:
                got.add('subscription')
            if value(samples, 'procevents_taskstats_up') == 1:
                got.add('taskstats')
            for (metric, labels), v in samples.items():
                labels = dict(labels)
                if metric != 'procevents_execs_total' or v < 1:
                    continue
                parts = labels.get('groupname', '').split('|')
                if parts == [quitter[:15], quitter]:
                    got.add('exe')  # an exit record's binary, found through the exe link of an earlier run
                if len(parts) != 4 or parts[0] != sleeper[:15]:
                    continue
                got.add('names')
                if parts[2] == str(SLEEP_MS):
                    got.add('cmdline')
                if parts[3] == user:
                    got.add('user')
                if labels.get('unit') == self.service:
                    got.add('cgroups')
            seen[owner] = got
        return seen


def feature_run(shared_dir, wrapper, extra_args=()):
    """Starts the exporter under `wrapper`, runs both owners' workloads, returns {owner: features}."""
    require('setpriv')
    service = unique('pe-lp') + '.service'
    owners = Owners(shared_dir, service)
    config = os.path.join(shared_dir, 'config.yml')
    with open(config, 'w') as f:
        f.write(owners.config())
    os.chmod(config, 0o644)
    with scratch_cgroups('system.slice/' + service) as (procs_file,):
        with Exporter(BINARY, '--config.file=' + config, *extra_args, wrapper=wrapper) as exporter:
            try:
                owners.start(procs_file)
                owners.run_quitters()
                # Names read at exec, or (for a process /proc hides) the fallback after the 3 s join timeout.
                def named(s):
                    return all(any(name[:15] in g for g in owners.groups(s)) for name in owners.sleepers.values())
                try:
                    exporter.wait_for(named, timeout=5, what='both workloads named')
                except AssertionError:
                    time.sleep(3.5)  # held execs of hidden processes are settled after the join timeout
                samples = exporter.samples()
                seen = owners.features(samples)
                print('features:', {owner: sorted(f) for owner, f in seen.items()}, 'groups:', owners.groups(samples))
                return seen
            finally:
                owners.stop()


@pytest.mark.parametrize('profile', sorted(PROFILES))
def test_least_privilege(shared_dir, profile):
    """The shipped capability sets: exactly what the README's least-privilege table says works."""
    seen = feature_run(shared_dir, PROFILES[profile])
    assert seen == EXPECTED[profile]


def hidepid_wrapper(options, profile_wrapper):
    """A private mount namespace whose /proc is a new instance mounted with `options`."""
    return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
            'mount -t proc -o %s proc /proc && exec "$0" "$@"' % options] + profile_wrapper


def test_hidepid_2(shared_dir):
    """/proc with hidepid=2 (gid= not set: root's group sees everything) and the shipped capability set."""
    require('unshare')
    seen = feature_run(shared_dir, hidepid_wrapper('hidepid=2', ROOT_WITH_NET_ADMIN))
    assert seen == EXPECTED_HIDEPID


def test_hidepid_2_with_another_gid(shared_dir):
    """hidepid=2,gid=G with the exporter outside G: another user's processes are invisible, so only what the
    kernel's events and exit records carry remains for them."""
    require('unshare')
    seen = feature_run(shared_dir, hidepid_wrapper('hidepid=2,gid=4242', ROOT_WITH_NET_ADMIN))
    assert seen == EXPECTED_HIDEPID_GID


def test_hidepid_2_with_the_exporter_in_gid(shared_dir):
    """hidepid=2,gid=G with the exporter in G (systemd: SupplementaryGroups=G): as without hidepid."""
    require('unshare')
    wrapper = ROOT_WITH_NET_ADMIN[:-1] + ['--groups=4242', '--']
    seen = feature_run(shared_dir, hidepid_wrapper('hidepid=2,gid=4242', wrapper))
    assert seen == EXPECTED_HIDEPID


def test_proc_subset_pid(shared_dir):
    """/proc with subset=pid (no /proc/stat): every feature as without it; only the kernel's fork counter is gone."""
    require('unshare')
    seen = feature_run(shared_dir, hidepid_wrapper('subset=pid', ROOT_WITH_NET_ADMIN))
    assert seen == EXPECTED_HIDEPID


# ---- loss reported promptly ------------------------------------------------------------------------

def test_loss_is_reported_promptly_after_an_overrun(start_exporter, config_file):
    """Stopped while a thread storm runs on one CPU, with a 256 KiB socket buffer (the host's own churn fits,
    the storm's 6000 events do not): after SIGCONT the lost count is final within a second (the receiver
    makes every CPU emit an event once the socket is drained), and it never changes again."""
    require('taskset')
    exporter = start_exporter('--config.file=' + config_file('receive_buffer_bytes: 262144\n'))
    base = exporter.samples()
    os.kill(exporter.proc.pid, signal.SIGSTOP)
    try:
        subprocess.run(['taskset', '-c', '0', WORKLOAD, 'threads', '3000'], check=True)
    finally:
        os.kill(exporter.proc.pid, signal.SIGCONT)
    resumed = time.time()
    history = []  # (seconds after SIGCONT, lost, overruns)
    while time.time() < resumed + 4:
        s = exporter.samples()
        history.append((time.time() - resumed, value(s, 'procevents_events_lost_total', reason='kernel_overrun'),
                        value(s, 'procevents_socket_overruns_total')))
        time.sleep(0.02)
    assert all(a[1] <= b[1] for a, b in zip(history, history[1:])), 'a counter went backwards'
    steps = [h for i, h in enumerate(history) if i == 0 or h[1:] != history[i - 1][1:]]
    print('after SIGCONT (s, lost, overruns):', steps)
    # Only this storm's overruns (the socket is drained within milliseconds of SIGCONT): a later one, from the
    # host's own churn on a loaded machine, starts a new count.
    drained = next(h[2] for h in history if h[0] >= 0.5)
    ours = [h for h in history if h[2] <= drained]
    final = ours[-1][1]
    reached = next(t for t, lost, _ in ours if lost == final)
    lost = final - value(base, 'procevents_events_lost_total', reason='kernel_overrun')
    print('lost %d events; final count on /metrics %.3f s after SIGCONT' % (lost, reached))
    assert lost > 0
    if ours[-1][0] < max(reached, 0.5) + 1.0:
        pytest.skip('inconclusive: the host overran the socket again %.1f s after SIGCONT' % ours[-1][0])
    assert reached < 1.0, steps


# ---- self-audit ------------------------------------------------------------------------------------

def test_self_audit_finds_and_corrects_an_untracked_process(shared_dir):
    """A process hidden from the exporter's /proc at start-up (an empty directory mounted over /proc/<pid>,
    as rootkits do) is not tracked; once it shows again the audit finds it, counts the drift and tracks it."""
    require('unshare')
    require('nsenter')
    name = unique('pe-hid')
    path = os.path.join(shared_dir, name)
    shutil.copy(WORKLOAD, path)
    victim = subprocess.Popen([path, 'sleep', '60000'])
    empty = os.path.join(shared_dir, 'empty')
    os.mkdir(empty)
    config = os.path.join(shared_dir, 'config.yml')
    with open(config, 'w') as f:
        f.write('audit_interval_seconds: 1\nprocess_names:\n  - name: "{{.Comm}}"\n    comm: [%s]\n' % name)
    wrapper = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
               'mount --bind %s /proc/%d && exec "$0" "$@"' % (empty, victim.pid)]
    try:
        with Exporter(BINARY, '--config.file=' + config, wrapper=wrapper) as exporter:
            s = exporter.wait_for(lambda s: value(s, 'procevents_table_audits_total') >= 1, what='a first audit')
            assert value(s, 'procevents_processes', groupname=name) == 0
            assert value(s, 'procevents_table_drift_total', kind='missing') == 0
            subprocess.run(['nsenter', '--mount', '--target', str(exporter.proc.pid), 'umount', '/proc/%d' % victim.pid],
                           check=True)
            shown = time.time()
            s = exporter.wait_for(lambda s: value(s, 'procevents_processes', groupname=name) == 1, timeout=10,
                                  what='the audit to track the process')
            print('drift corrected %.2f s after the process showed (audit interval 1 s)' % (time.time() - shown))
            assert value(s, 'procevents_table_drift_total', kind='missing') == 1
            assert value(s, 'procevents_table_drift_total', kind='stale') == 0
            assert value(s, 'procevents_table_drift_corrected_total') == 1
            assert value(s, 'procevents_table_resyncs_total') == 0
            # Corrected: later audits find nothing more.
            time.sleep(2.5)
            s = exporter.samples()
            assert value(s, 'procevents_table_audits_total') >= 3
            assert value(s, 'procevents_table_drift_corrected_total') == 1
    finally:
        victim.kill()
        victim.wait()


# ---- signals and restarts under load ---------------------------------------------------------------

class Storm:
    """Fork and thread storms in the background until stopped."""

    def __init__(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.is_set():
            procs = [subprocess.Popen([WORKLOAD, 'forks', '200']), subprocess.Popen([WORKLOAD, 'threads', '1000'])]
            for p in procs:
                p.wait()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()
        return False


COUNTER_SUFFIXES = ('_total', '_count', '_sum', '_bucket')


def assert_monotonic(previous, current):
    """No counter (nor histogram series) of `previous` is smaller in `current`."""
    for key, old in previous.items():
        name = key[0]
        if name.startswith('process_') or not name.endswith(COUNTER_SUFFIXES) or key not in current:
            continue
        assert current[key] >= old, '%s went backwards: %s -> %s' % (key, old, current[key])


def resources(pid):
    fds = len(os.listdir('/proc/%d/fd' % pid))
    threads = len(os.listdir('/proc/%d/task' % pid))
    return fds, threads


def test_sighup_every_100ms_during_a_storm(start_exporter, config_file):
    """50 reloads in 5 s while a storm runs: no crash, no counter going backwards, no leaked fds or threads."""
    exporter = start_exporter('--config.file=' + config_file('process_names:\n  - name: "{{.Comm}}"\n    cmdline: [".*"]\n'))
    before = resources(exporter.proc.pid)
    previous = exporter.samples()
    sent = 0
    with Storm():
        end = time.time() + 5
        while time.time() < end:
            os.kill(exporter.proc.pid, signal.SIGHUP)
            sent += 1
            time.sleep(0.1)
            if random.random() < 0.3:
                current = exporter.samples()
                assert_monotonic(previous, current)
                previous = current
    s = exporter.samples()
    assert_monotonic(previous, s)
    assert exporter.proc.poll() is None
    assert exporter.get('/healthz')[0] == 200
    # A SIGHUP that arrives while one is pending merges with it (signals do not queue).
    reloads = exporter.log().count('configuration reloaded')
    deadline = time.time() + 3  # the last scrape's connection may still be closing
    while (after := resources(exporter.proc.pid)) != before and time.time() < deadline:
        time.sleep(0.1)
    print('%d SIGHUPs, %d reloads; fds, threads before %s after %s' % (sent, reloads, before, after))
    assert reloads >= sent // 3
    assert after == before


def test_sigterm_during_a_storm_unsubscribes_and_exits_0_promptly(config_file):
    """SIGTERM while a storm runs: exit code 0 within 2 s, after unsubscribing (PROC_CN_MCAST_IGNORE seen by strace)."""
    require('strace')
    trace = tempfile.NamedTemporaryFile(prefix='procevents-strace-', delete=False)
    trace.close()
    wrapper = ['strace', '-f', '-qq', '--seccomp-bpf', '-e', 'trace=sendto,sendmsg', '-e', 'signal=none',
               '-X', 'raw', '-xx', '-o', trace.name]
    try:
        with Storm():
            with Exporter(BINARY, wrapper=wrapper) as exporter:
                exporter.wait_for(lambda s: value(s, 'procevents_connector_up') == 1, what='subscribed')
                time.sleep(1)
                # strace runs the exporter as its child and exits with its status.
                with open('/proc/%d/task/%d/children' % (exporter.proc.pid, exporter.proc.pid)) as f:
                    child = int(f.read().split()[0])
                stopped = time.time()
                os.kill(child, signal.SIGTERM)
                code = exporter.proc.wait(timeout=10)
                took = time.time() - stopped
                print('exit %d after %.3f s' % (code, took))
                assert code == 0, exporter.log()
                assert took < 2.0
                assert 'shutting down' in exporter.log()
        with open(trace.name) as f:
            sends = [line for line in f if 'sendto(' in line or 'sendmsg(' in line]
        # struct cn_msg's payload starts with the multicast op: 1 = LISTEN, 2 = IGNORE.
        ignores = [line for line in sends if '\\x01\\x00\\x00\\x00\\x01\\x00\\x00\\x00' in line and
                   ('\\x02\\x00\\x00\\x00"' in line or '\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00"' in line)]
        print('unsubscribe:', ignores[-1][-120:] if ignores else None)
        assert ignores, 'no PROC_CN_MCAST_IGNORE among %d sends:\n%s' % (len(sends), ''.join(sends[-4:]))
    finally:
        os.unlink(trace.name)


def test_restart_during_a_storm(start_exporter):
    """Stop and start again while a storm runs, three times: each instance subscribes, passes its
    self-check, counts from zero, and its counters only grow."""
    with Storm():
        for _ in range(3):
            with Exporter(BINARY) as exporter:
                assert 'self-check passed' in exporter.log()
                first = exporter.samples()
                assert value(first, 'procevents_connector_up') == 1
                started = time.time()
                previous = first
                while time.time() < started + 1.5:
                    current = exporter.samples()
                    assert_monotonic(previous, current)
                    previous = current
                    time.sleep(0.2)
                # From zero: this instance's counters are what it saw since it started.
                assert total(first, 'procevents_events_total') <= total(previous, 'procevents_events_total')
                assert exporter.get('/healthz')[0] == 200
                pid = exporter.proc.pid
            assert exporter.proc.returncode == 0
            assert not os.path.exists('/proc/%d' % pid) or open('/proc/%d/stat' % pid).read().split()[2] == 'Z'


# ---- slow and idle HTTP clients ------------------------------------------------------------------

SLOW_CLIENTS = 1000  # http_server.h's kIdleConnectionsTolerated
SLOW_SECONDS = 25    # past the 10 s request timeout: dropped clients come back, and the scrapes go on


@pytest.mark.parametrize('kind', KINDS)
def test_every_scrape_is_answered_beside_1000_slow_clients(tmp_path, kind):
    """1,000 clients of one kind (slow_clients.py: headers dripping, a response never read, TLS connections
    silent or stopped mid-ClientHello), re-opened whenever the exporter drops them, while a scrape on a new
    connection runs every 0.25 s and two Prometheus-like clients scrape every second on kept-alive
    connections: every scrape succeeds within Prometheus' 10 s timeout. bench/slow_clients_bench.py prints
    the latencies (target < 1 s), threads and memory."""
    if not raise_nofile(SLOW_CLIENTS + 256):
        reason = 'cannot raise RLIMIT_NOFILE to %d for the clients' % (SLOW_CLIENTS + 256)
        if os.environ.get('CI'):
            pytest.fail(reason)
        pytest.skip(reason)
    tls = kind.startswith('tls_')
    args = ['--web.config.file=' + tls_web_config(str(tmp_path))] if tls else []
    with Exporter(BINARY, *args, scheme='https' if tls else 'http') as exporter:
        result = run_beside(exporter.port, kind, SLOW_CLIENTS, SLOW_SECONDS, tls, exporter.proc.pid)
        print(result)
        assert exporter.proc.poll() is None, exporter.log()
    assert result['held'] >= SLOW_CLIENTS * 9 // 10, 'the slow clients were not there: %s' % result
    assert result['failures'] == [], result
    assert result['scrapes_new'] >= SLOW_SECONDS * 2, result
    assert result['scrapes_keepalive'] >= SLOW_SECONDS, result


def test_a_clienthello_sent_in_pieces_is_served(tmp_path):
    """The TLS side reads a client's first record itself before OpenSSL sees it (so that half a ClientHello
    costs no TLS state): one that arrives in three pieces, 0.3 s apart, still completes and gets /healthz."""
    web_config = tls_web_config(str(tmp_path))
    with Exporter(BINARY, '--web.config.file=' + web_config, scheme='https') as exporter:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=False)
        sock = socket.create_connection(('127.0.0.1', exporter.port), timeout=5)
        try:
            def pump(first_flight=False):
                data = outgoing.read()
                if first_flight:
                    third = len(data) // 3
                    for piece in (data[:third], data[third:2 * third], data[2 * third:]):
                        sock.sendall(piece)
                        time.sleep(0.3)
                elif data:
                    sock.sendall(data)

            def call(operation):
                first = True
                while True:
                    try:
                        return operation()
                    except ssl.SSLWantReadError:
                        pump(first_flight=first and operation == tls.do_handshake)
                        first = False
                        received = sock.recv(65536)
                        if not received:
                            raise AssertionError('the exporter closed the connection')
                        incoming.write(received)

            call(tls.do_handshake)
            pump()
            call(lambda: tls.write(b'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
            pump()
            response = call(lambda: tls.read(4096))
            print(response[:40])
            assert response.startswith(b'HTTP/1.1 200'), response
        finally:
            sock.close()
