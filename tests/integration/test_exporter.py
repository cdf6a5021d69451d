"""Integration tests: the real binary, real processes, exact counts in /metrics.

Run by ctest (one entry per test) with PROCEVENTS_BINARY and PROCEVENTS_WORKLOAD set;
`python3 -m pytest tests/integration/test_exporter.py::NAME` runs one test.
"""
import json
import os
import random
import shutil
import signal
import string
import subprocess
import tempfile
import time

import pytest

from harness import BINARY, Exporter, WORKLOAD, inside_cgroup, kernel_forks, scratch_cgroups, settled, total, value


def unique_name(prefix='pe'):
    return prefix + ''.join(random.choice(string.ascii_lowercase) for _ in range(8))


class Workload:
    """The workload binary under a unique name (its comm), in a temporary directory."""

    def __init__(self, name=None):
        self.name = name or unique_name()
        self.dir = tempfile.mkdtemp(prefix='procevents-')
        self.path = os.path.join(self.dir, self.name)
        shutil.copy(WORKLOAD, self.path)

    def run(self, *args, check_code=None):
        result = subprocess.run([self.path] + [str(a) for a in args])
        if check_code is not None and result.returncode != check_code:
            raise AssertionError('%s %s returned %s' % (self.name, args, result.returncode))
        return result.returncode

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def w():
    """A Workload under a fresh unique name, removed after the test."""
    workload = Workload()
    yield workload
    workload.cleanup()


@pytest.mark.parametrize('setting', ['default', 'detailed'])
def test_counts_are_exact(start_exporter, config_file, w, setting):
    """N execs, exit codes, signals and sleeps of known length show up exactly under the comm; by default
    a group has only the series it has something to say in, and the rest is counted for the host."""
    detailed = setting == 'detailed'
    exporter = start_exporter(*(['--config.file=' + config_file('per_group: [all]\n')] if detailed else []))
    for _ in range(5):
        w.run('exit', 0, check_code=0)
    for _ in range(3):
        w.run('exit', 3, check_code=3)
    w.run('signal', 9)
    w.run('signal', 9)
    w.run('signal', 11)
    w.run('sleep', 1300)
    w.run('sleep', 1300)
    w.run('threads', 10)
    runs = 5 + 3 + 3 + 2 + 1
    s = exporter.wait_for(lambda s: value(s, 'procevents_exits_total', groupname=w.name, outcome='success') >= 8,
                          what='exits of ' + w.name)
    s = settled(exporter)
    # The landing page says which families are per group.
    landing = exporter.get('/')[2]
    assert ('per_group: [threads, identity, coredumps, lifetime_buckets, peak_memory, storage, context_switches, '
            'delays, memory, faults, states, fds]' if detailed else 'per_group: []   # per host: threads, identity,') in landing, landing
    g = dict(groupname=w.name)
    assert value(s, 'procevents_execs_total', **g) == runs, value(s, 'procevents_execs_total', **g)
    assert value(s, 'procevents_exits_total', outcome='success', **g) == 8
    assert value(s, 'procevents_exits_total', outcome='failure', **g) == 3
    assert value(s, 'procevents_exits_total', outcome='signal', **g) == 3
    assert value(s, 'procevents_signal_exits_total', signal='SIGKILL', **g) == 2
    assert value(s, 'procevents_signal_exits_total', signal='SIGSEGV', **g) == 1
    assert value(s, 'procevents_group_process_lifetime_seconds_count', **g) == runs
    assert value(s, 'procevents_group_process_lifetime_seconds_sum', **g) >= 2.6
    assert value(s, 'procevents_processes', **g) == 0
    if detailed:
        assert value(s, 'procevents_forks_total', kind='thread', **g) == 10
        assert value(s, 'procevents_process_lifetime_seconds_count', **g) == runs
        # The two sleepers lived 1.3 s: above the 1 s bucket, inside the 10 s one.
        assert value(s, 'procevents_process_lifetime_seconds_bucket', le='1', **g) == runs - 2
        assert value(s, 'procevents_process_lifetime_seconds_bucket', le='10', **g) == runs
        assert value(s, 'procevents_process_lifetime_seconds_sum', **g) >= 2.6
        return
    # The default budget: execs, one series per exit outcome and per killing signal, lifetime sum and
    # count, CPU by mode (exit records alone, and live + finished), live processes. Threads, lifetime
    # buckets and the rest are the host's.
    mine = {(n, tuple(sorted((k, v) for k, v in ls if k != 'groupname'))) for (n, ls) in s
            if dict(ls).get('groupname') == w.name}
    assert mine == {
        ('procevents_execs_total', ()),
        ('procevents_exits_total', (('outcome', 'failure'),)),
        ('procevents_exits_total', (('outcome', 'signal'),)),
        ('procevents_exits_total', (('outcome', 'success'),)),
        ('procevents_signal_exits_total', (('signal', 'SIGKILL'),)),
        ('procevents_signal_exits_total', (('signal', 'SIGSEGV'),)),
        ('procevents_group_process_lifetime_seconds_count', ()),
        ('procevents_group_process_lifetime_seconds_sum', ()),
        ('procevents_exited_cpu_seconds_total', (('mode', 'system'),)),
        ('procevents_exited_cpu_seconds_total', (('mode', 'user'),)),
        ('procevents_cpu_seconds_total', (('mode', 'system'),)),
        ('procevents_cpu_seconds_total', (('mode', 'user'),)),
        ('procevents_processes', ()),
    }, sorted(mine)
    assert value(s, 'procevents_forks_total', kind='thread') >= 10  # the host's
    assert value(s, 'procevents_process_lifetime_seconds_bucket', le='10') >= runs


def test_forks_match_kernel_counter(exporter, w):
    """Summed procevents_forks_total moves exactly like /proc/stat's processes while nothing is lost."""
    for attempt in range(20):
        before = settled(exporter)
        kernel_before = kernel_forks()
        w.run('forks', 50)
        w.run('threads', 50)
        after = settled(exporter)
        kernel_after = kernel_forks()
        lost = total(after, 'procevents_events_lost_total')
        assert lost == 0, 'events were lost: %s' % lost
        exported = total(after, 'procevents_forks_total') - total(before, 'procevents_forks_total')
        if exported == kernel_after - kernel_before:
            assert exported >= 102
            return
        time.sleep(0.5)  # something else forked between our reads: measure again
    raise AssertionError('fork deltas never matched: exported %s, kernel %s' %
                         (exported, kernel_after - kernel_before))


def test_endpoints_and_lint(exporter):
    """/, /healthz, gzip, 404/405, and `promtool check metrics` on the real output."""
    status, headers, body = exporter.get('/')
    assert status == 200 and 'procevents_exporter' in body and '/metrics' in body
    status, _, body = exporter.get('/healthz')
    assert status == 200, body
    status, headers, body = exporter.get('/metrics', headers={'Accept-Encoding': 'gzip'})
    assert status == 200 and headers.get('Content-Encoding') == 'gzip'
    assert 'version=0.0.4' in headers.get('Content-Type', '')
    assert 'procevents_build_info' in body and 'exposer_' not in body
    assert exporter.get('/nope')[0] == 404
    promtool = shutil.which('promtool')
    if promtool:
        result = subprocess.run([promtool, 'check', 'metrics'], input=body, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_sighup_keeps_counters_and_sigterm_exits_cleanly(start_exporter, config_file, w):
    config = config_file('process_names:\n  - name: "{{.Comm}}"\n    cmdline: [".+"]\n')
    exporter = start_exporter('--config.file=' + config)
    for _ in range(4):
        w.run('exit', 0)
    exporter.wait_for(lambda s: value(s, 'procevents_execs_total', groupname=w.name) == 4, what='4 execs')
    with open(config, 'w') as f:
        f.write('process_names:\n  - name: "renamed-{{.Comm}}"\n    comm: [%s]\n  - name: "{{.Comm}}"\n'
                '    cmdline: [".+"]\n' % w.name)
    exporter.proc.send_signal(signal.SIGHUP)
    exporter.wait_for(lambda s: 'configuration reloaded' in exporter.log(), what='reload log line')
    w.run('exit', 0)
    s = exporter.wait_for(lambda s: value(s, 'procevents_execs_total', groupname='renamed-' + w.name) == 1,
                          what='exec under the new name')
    assert value(s, 'procevents_execs_total', groupname=w.name) == 4  # not reset
    # A broken config is rejected and the old one kept.
    with open(config, 'w') as f:
        f.write('process_names: [[[\n')
    exporter.proc.send_signal(signal.SIGHUP)
    exporter.wait_for(lambda s: 'reload failed' in exporter.log(), what='reload failure log line')
    assert exporter.proc.poll() is None
    exporter.proc.send_signal(signal.SIGTERM)
    assert exporter.proc.wait(timeout=10) == 0


def test_bad_config_exits_2_before_binding(config_file):
    config = config_file('process_names:\n  - name: "{{.Comm}}"\n    cmdline: ["(unclosed"]\n')
    result = subprocess.run([BINARY, '--config.file=' + config, '--web.listen-address=127.0.0.1:0'],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 2, result
    assert config in result.stderr and 'listening' not in result.stderr, result.stderr
    result = subprocess.run([BINARY, '--no-such-flag'], capture_output=True, text=True, timeout=20)
    assert result.returncode == 2 and 'unknown flag' in result.stderr


def test_tail_prints_events(w):
    """--tail: exit 3, kill -9, a prctl rename and a thread, as JSON lines with the right pids."""
    tail = subprocess.Popen([BINARY, '--tail', '--tail.seconds=6'], stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p = subprocess.Popen([w.path, 'exit', '3']); p.wait(); exit_pid = p.pid
    p = subprocess.Popen([w.path, 'sleep', '10000']); time.sleep(0.2); p.kill(); p.wait(); kill_pid = p.pid
    p = subprocess.Popen([w.path, 'rename', 'pe-renamed']); p.wait(); rename_pid = p.pid
    p = subprocess.Popen([w.path, 'threads', '1']); p.wait(); thread_pid = p.pid
    out, _ = tail.communicate(timeout=20)
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    def has(**kv):
        return any(all(e.get(k) == v for k, v in kv.items()) for e in events)
    assert has(event='exit', pid=exit_pid, tgid=exit_pid, exit_code=3), 'no exit 3'
    assert has(event='exit', pid=kill_pid, signal='SIGKILL'), 'no SIGKILL exit'
    assert has(event='comm', tgid=rename_pid, comm='pe-renamed'), 'no comm event'
    assert any(e['event'] == 'fork' and e['tgid'] == thread_pid and e['pid'] != thread_pid for e in events), \
        'no thread fork'
    assert has(event='exec', pid=exit_pid)




def test_attribution_by_cgroup(config_file, w):
    """Processes in cgroups shaped like a systemd service, a Docker container and a kubepods container
    are labelled with unit, container_id and pod_uid; new cgroup directories only, removed afterwards."""
    container = 'a1' * 32
    pod = '0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011'
    cgroups = {
        'demo.service': ('system.slice/demo.service', dict(unit='demo.service', container_id='', pod_uid='')),
        'docker': ('system.slice/docker-%s.scope' % container,
                   dict(unit='docker-%s.scope' % container, container_id=container, pod_uid='')),
        'kubepods': ('kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope'
                     % (pod.replace('-', '_'), container),
                     dict(container_id=container, pod_uid=pod)),
    }
    config = config_file('attribution: [unit, container_id, pod_uid]\n')
    with scratch_cgroups(*[path for path, _ in cgroups.values()]) as procs_files:
        # Stopped before the cgroups are removed.
        with Exporter(BINARY, '--config.file=' + config) as exporter:
            for procs, (_, labels) in zip(procs_files, cgroups.values()):
                # A long-lived parent in the cgroup starts the workload, as a service's main process
                # starts helpers; the workload exits at once (it is named from its exit record, and
                # attributed by its parent's cgroup). The parent is this test process: like a service's
                # main process, it stays in its cgroup while its helper is handled, not a moment less.
                with inside_cgroup(procs):
                    w.run('exit', 0)
                    exporter.wait_for(lambda s, labels=labels: value(s, 'procevents_execs_total', groupname=w.name,
                                                                     **labels) == 1,
                                      what='the exec labelled %s' % labels)
            def all_there(s):
                return all(value(s, 'procevents_execs_total', groupname=w.name, **labels) == 1
                           for _, labels in cgroups.values())
            s = exporter.wait_for(all_there, what='execs labelled by cgroup')
            assert value(s, 'procevents_attribution_overflows_total', label='unit') == 0
