"""The live families against /proc, against getrusage and side by side with Debian's process-exporter.

Crafted long-lived processes (64 MiB touched, 8 extra threads, 40 more descriptors) are read by both
exporters with the same grouping; our per-group values must equal /proc's (memory within 5 %) and
process-exporter's. CPU: a parent runs short and long CPU-burning children that exit at once; their
group's procevents_cpu_seconds_total grows by what getrusage says of them (wait4, summed) within 3 %,
while process-exporter, which only sees processes alive at a scrape, misses what they used.
With --compat.process-exporter every namedprocess_namegroup_* family of the real process-exporter (but
the per-thread ones) exists under the same name, type and label names.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from harness import (WORKLOAD, ProcessExporter, parse_metrics, process_exporter_installed,  # noqa: F401 (autouse)
                     settled, total, value)

CONFIG = """process_names:
  - name: "{{.Comm}}"
    cmdline: ['.+']
"""
PAGE = os.sysconf('SC_PAGESIZE')
TICKS = os.sysconf('SC_CLK_TCK')


def stat_fields(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()  # fields from 3 (state) on: index = field - 3


def boot_time():
    with open('/proc/stat') as f:
        return int(next(line for line in f if line.startswith('btime ')).split()[1])


def open_files_limit(pid):
    with open('/proc/%d/limits' % pid) as f:
        soft = next(line for line in f if line.startswith('Max open files')).split()[3]
    return 0 if soft == 'unlimited' else int(soft)


def readable(path):
    try:
        with open(path) as f:
            f.read()
        return True
    except OSError:
        return False


class Crafted:
    """Copies of the workload named after what they hold, each started in its own session."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix='procevents-live-')
        self.procs = {}

    def start(self, name, *args):
        program = os.path.join(self.directory, name)
        shutil.copy(WORKLOAD, program)
        proc = subprocess.Popen([program] + list(args), stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert proc.stdout.readline().strip() == 'ready'
        self.procs[name] = proc
        return proc.pid

    def stop(self):
        for proc in self.procs.values():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def crafted():
    processes = Crafted()
    yield processes
    processes.stop()


def test_live_families_equal_proc_and_process_exporter(crafted, start_exporter, config_file):
    path = config_file(CONFIG + 'per_group: [all]\n')
    memory = crafted.start('lvmem', 'hold-memory', '64')
    threads = crafted.start('lvthreads', 'hold-threads', '8')
    fds = crafted.start('lvfds', 'hold-fds', '40')
    ours = start_exporter('--config.file=' + path)
    with ProcessExporter(path, extra=('-threads=false', '-gather-smaps=false')) as theirs:
        theirs.samples()  # process-exporter reads /proc when scraped: a first scrape primes it
        s = settled(ours)
        t = theirs.samples()
    rss = int(stat_fields(memory)[21]) * PAGE
    vsize = int(stat_fields(memory)[20])
    open_fds = len(os.listdir('/proc/%d/fd' % fds))

    resident = value(s, 'procevents_memory_bytes', groupname='lvmem', memtype='resident')
    assert abs(resident - rss) <= 0.05 * rss, (resident, rss)
    assert resident >= 64 << 20
    assert abs(value(s, 'procevents_memory_bytes', groupname='lvmem', memtype='virtual') - vsize) <= 0.05 * vsize
    assert value(s, 'procevents_threads', groupname='lvthreads') == 9
    assert value(s, 'procevents_open_fds', groupname='lvfds') == open_fds
    assert value(s, 'procevents_worst_fd_ratio', groupname='lvfds') == pytest.approx(open_fds / open_files_limit(fds))
    assert value(s, 'procevents_process_states', groupname='lvmem', state='Sleeping') == 1
    started = boot_time() + int(stat_fields(threads)[19]) / TICKS
    assert value(s, 'procevents_oldest_start_time_seconds', groupname='lvthreads') == pytest.approx(started, abs=0.02)
    # What could not be read is counted, never reported as 0: a process whose io is refused to us
    # (here, when pid 1 is one) adds one per scrape.
    assert value(s, 'procevents_live_read_errors_total', part='process') == 0
    if not readable('/proc/1/io'):
        before = value(s, 'procevents_live_read_errors_total', part='io')
        assert value(ours.samples(), 'procevents_live_read_errors_total', part='io') >= before + 1

    # Side by side: the same figures from process-exporter.
    theirs_resident = value(t, 'namedprocess_namegroup_memory_bytes', groupname='lvmem', memtype='resident')
    assert abs(resident - theirs_resident) <= 0.05 * theirs_resident, (resident, theirs_resident)
    assert value(t, 'namedprocess_namegroup_num_threads', groupname='lvthreads') == 9
    assert value(t, 'namedprocess_namegroup_open_filedesc', groupname='lvfds') == open_fds
    assert value(t, 'namedprocess_namegroup_worst_fd_ratio', groupname='lvfds') == pytest.approx(
        value(s, 'procevents_worst_fd_ratio', groupname='lvfds'))


BURNER = """
import os, resource, sys
program, short_runs, short_ms, long_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
used = 0.0
def run(ms):
    global used
    pid = os.fork()
    if pid == 0:
        os.execv(program, [program, 'spin', ms])
    _, status, usage = os.wait4(pid, 0)
    assert status == 0, status
    used += usage.ru_utime + usage.ru_stime
for _ in range(short_runs):
    run(short_ms)
run(long_ms)
print(used)
"""


def cpu_of(samples, metric, group):
    return total(samples, metric, groupname=group)


def test_cpu_of_short_and_long_children_equals_getrusage(start_exporter, config_file, tmp_path):
    """150 children of 20 ms and one of 1.5 s, each exiting at once: exact from their exit records."""
    path = config_file(CONFIG)
    program = str(tmp_path / 'lvburn')
    shutil.copy(WORKLOAD, program)
    ours = start_exporter('--config.file=' + path)
    with ProcessExporter(path) as theirs:
        theirs.samples()
        before = settled(ours)
        theirs_before = theirs.samples()
        done = subprocess.run([sys.executable, '-c', BURNER, program, '150', '20', '1500'], capture_output=True,
                              text=True, check=True)
        getrusage = float(done.stdout)
        time.sleep(0.5)
        after = settled(ours)
        theirs_after = theirs.samples()
    ours_cpu = cpu_of(after, 'procevents_cpu_seconds_total', 'lvburn') - cpu_of(before, 'procevents_cpu_seconds_total', 'lvburn')
    theirs_cpu = (cpu_of(theirs_after, 'namedprocess_namegroup_cpu_seconds_total', 'lvburn') -
                  cpu_of(theirs_before, 'namedprocess_namegroup_cpu_seconds_total', 'lvburn'))
    print('CPU of lvburn: getrusage %.3f s, procevents %.3f s (%.3f), process-exporter %.3f s'
          % (getrusage, ours_cpu, ours_cpu / getrusage, theirs_cpu))
    assert getrusage > 4.0
    assert ours_cpu == pytest.approx(getrusage, rel=0.03)
    # Live + finished: the group's counter holds at least the finished part.
    assert cpu_of(after, 'procevents_cpu_seconds_total', 'lvburn') >= cpu_of(after, 'procevents_exited_cpu_seconds_total', 'lvburn') - 0.02


def test_cpu_of_a_live_process_counts_from_its_first_reading_and_stays_with_its_group(start_exporter, config_file, tmp_path):
    """A process alive at start-up counts from the exporter's first reading; one that execs leaves what it used
    before the exec in its old group."""
    path = config_file(CONFIG)
    early = str(tmp_path / 'lvearly')
    shutil.copy(WORKLOAD, early)
    # Burns 300 ms before the exporter starts, then sleeps: it must count ~0 from its first reading.
    proc = subprocess.Popen(['sh', '-c', '"$0" spin 300 && exec "$0" hold-memory 1', early], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == 'ready'
        ours = start_exporter('--config.file=' + path)
        s = settled(ours)
        assert cpu_of(s, 'procevents_cpu_seconds_total', 'lvearly') < 0.05
        # A shell that burns as "lvpre", then execs into "lvpost": each keeps its own.
        pre, post = str(tmp_path / 'lvpre'), str(tmp_path / 'lvpost')
        shutil.copy(WORKLOAD, post)
        with open(pre, 'w') as f:
            f.write('#!/bin/sh\ni=0; while [ $i -lt 60000 ]; do i=$((i+1)); done\nexec "%s" spin 200\n' % post)
        os.chmod(pre, 0o755)
        subprocess.run([pre], check=True)
        time.sleep(0.5)
        s = settled(ours)
        assert cpu_of(s, 'procevents_cpu_seconds_total', 'lvpost') == pytest.approx(0.2, abs=0.04)
        assert cpu_of(s, 'procevents_cpu_seconds_total', 'lvpre') > 0.02
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


PER_THREAD = ('namedprocess_namegroup_thread_', 'namedprocess_namegroup_threads_wchan')


def families(text):
    """{name: (type, frozenset of label names)} of every family with samples."""
    types = dict(re.findall(r'^# TYPE (\S+) (\S+)$', text, re.M))
    found = {}
    for (name, labels), _ in parse_metrics(text).items():
        base = re.sub(r'_(bucket|sum|count)$', '', name) if name not in types else name
        found.setdefault(base, (types.get(base), set()))[1].update(k for k, _ in labels)
    return {name: (kind, frozenset(labels)) for name, (kind, labels) in found.items()}


def test_compat_serves_every_process_exporter_family_under_its_name(crafted, start_exporter, config_file):
    path = config_file(CONFIG)
    crafted.start('lvcompat', 'hold-fds', '3')
    ours = start_exporter('--config.file=' + path, '--compat.process-exporter')
    with ProcessExporter(path, extra=()) as theirs:  # its defaults: threads and smaps on
        theirs.samples()
        time.sleep(0.5)
        their_text = theirs.scrape()
    settled(ours)
    our_text = ours.scrape()
    theirs_families = {n: f for n, f in families(their_text).items() if n.startswith('namedprocess_') and not n.startswith(PER_THREAD)}
    ours_families = families(our_text)
    assert 'namedprocess_namegroup_num_procs' in theirs_families
    for name, (kind, labels) in sorted(theirs_families.items()):
        assert name in ours_families, name
        assert ours_families[name] == (kind, labels), (name, ours_families[name], (kind, labels))
    # Never the same data twice: what has a process-exporter name is not also served under ours.
    for ours_only in ('procevents_processes', 'procevents_cpu_seconds_total', 'procevents_memory_bytes', 'procevents_threads'):
        assert ours_only not in ours_families, ours_only
    # And what has no counterpart stays.
    assert 'procevents_execs_total' in ours_families
    assert value(parse_metrics(our_text), 'namedprocess_namegroup_num_procs', groupname='lvcompat') == 1


def test_live_families_under_the_shipped_capability_set(crafted, start_exporter, config_file, tmp_path):
    """uid 0 with CAP_NET_ADMIN alone (the unit's and the DaemonSet's set): memory, threads and fds of root's
    and another user's processes are read (stat and limits are world-readable, the fd count is the fd
    directory's size); io needs ptrace rights, so it is refused, and counted (README, "Least privilege")."""
    if not shutil.which('setpriv'):
        message = 'setpriv (util-linux) is not installed'
        if os.environ.get('CI'):
            pytest.fail(message)
        pytest.skip(message)
    path = config_file(CONFIG + 'per_group: [all]\n')
    os.chmod(os.path.dirname(path), 0o755)
    os.chmod(path, 0o644)
    crafted.start('lvlproot', 'hold-fds', '7')
    # Another user's process: the workload copy must be executable by that user.
    os.chmod(crafted.directory, 0o755)
    program = os.path.join(crafted.directory, 'lvlpuser')
    shutil.copy(WORKLOAD, program)
    os.chmod(program, 0o755)
    user = subprocess.Popen(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', program, 'hold-fds', '7'],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert user.stdout.readline().strip() == 'ready'
        ours = start_exporter('--config.file=' + path, wrapper=['setpriv', '--bounding-set=-all,+net_admin',
                                                               '--inh-caps=-all', '--no-new-privs', '--'])
        s = settled(ours)
        for group in ('lvlproot', 'lvlpuser'):
            assert value(s, 'procevents_memory_bytes', groupname=group, memtype='resident') > 0, group
            assert value(s, 'procevents_threads', groupname=group) == 1, group
            assert value(s, 'procevents_open_fds', groupname=group) == 10, group  # 3 standard + 7
        assert value(s, 'procevents_live_read_errors_total', part='io') > 0
        assert value(s, 'procevents_live_read_errors_total', part='fds') == 0
    finally:
        os.killpg(user.pid, signal.SIGKILL)
        user.wait()
