"""Exit-time truth: programs that exit at once, hundreds in a row, are named exactly.

The exporter's counts are compared with a ground truth that does not come from it: BSD process
accounting (acct(2)), one record per exited process with its comm, written by the kernel.
"""
import ctypes
import os
import random
import resource
import shutil
import string
import struct
import subprocess
import tempfile

import pytest

from harness import BINARY, EXIT_NOW, WORKLOAD, Exporter, settled, scratch_cgroups, total, value

RUNS_STATIC = 400
RUNS_TRUE = 300
ACCT_V3 = struct.Struct('=BBHIIIIIIf8H16s')  # <linux/acct.h> struct acct_v3, 64 bytes
assert ACCT_V3.size == 64


def unique(prefix):
    return prefix + ''.join(random.choice(string.ascii_lowercase) for _ in range(6))


class ProcessAccounting:
    """acct(2) into a temporary file while the block runs; counts() gives {comm: processes}."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.path = tempfile.mktemp(prefix='procevents-acct-')

    def __enter__(self):
        open(self.path, 'wb').close()
        if self.libc.acct(self.path.encode()) != 0:
            error = ctypes.get_errno()
            os.unlink(self.path)
            pytest.skip('acct(2) refused: %s (kernel without CONFIG_BSD_PROCESS_ACCT?)' % os.strerror(error))
        return self

    def __exit__(self, *exc):
        self.libc.acct(None)
        return False

    def counts(self):
        with open(self.path, 'rb') as f:
            data = f.read()
        os.unlink(self.path)
        counts = {}
        for offset in range(0, len(data) - ACCT_V3.size + 1, ACCT_V3.size):
            fields = ACCT_V3.unpack_from(data, offset)
            assert fields[1] == 3, 'not an acct v3 record'
            comm = fields[-1].split(b'\0', 1)[0].decode(errors='replace')
            counts[comm] = counts.get(comm, 0) + 1
        return counts


def programs(tmp_path):
    """A static program that exits at once and a copy of /bin/true, each under a unique name."""
    static_name, true_name = unique('pst'), unique('ptr')
    shutil.copy(EXIT_NOW, tmp_path / static_name)
    shutil.copy(shutil.which('true'), tmp_path / true_name)
    return static_name, true_name


def run_back_to_back(tmp_path, static_name, true_name, cgroup_procs=None):
    """One shell runs each program many times in a row (optionally from inside a cgroup)."""
    script = ''
    if cgroup_procs:
        script += 'echo $$ > %s || exit 99\n' % cgroup_procs
    script += 'i=0; while [ $i -lt %d ]; do %s/%s; i=$((i+1)); done\n' % (RUNS_STATIC, tmp_path, static_name)
    script += 'i=0; while [ $i -lt %d ]; do %s/%s; i=$((i+1)); done\n' % (RUNS_TRUE, tmp_path, true_name)
    subprocess.run(['sh', '-c', script], check=True)


def wait_for_count(exporter, name, expected, **labels):
    def done(s):
        return (value(s, 'procevents_execs_total', groupname=name, **labels) >= expected and
                total(s, 'procevents_exits_total', groupname=name, **labels) >= expected)
    try:
        exporter.wait_for(done, timeout=20, what='%d execs and exits of %s' % (expected, name))
    except AssertionError:
        pass  # the exact checks below say what is missing
    return settled(exporter)


def check_named_exactly(s, name, runs, acct_counts, **labels):
    assert acct_counts.get(name) == runs, 'process accounting saw %s runs of %s' % (acct_counts.get(name), name)
    execs = {tuple(sorted(dict(ls).items())): v for (n, ls), v in s.items()
             if n == 'procevents_execs_total' and v and dict(ls).get('groupname') == name}
    assert value(s, 'procevents_execs_total', groupname=name, **labels) == runs, 'execs by label set: %s; join: %s' % (
        execs, {k: v for k, v in s.items() if 'unmatched' in k[0] or 'named_from' in k[0] or 'enrichment' in k[0]})
    assert total(s, 'procevents_exits_total', groupname=name, **labels) == runs
    assert value(s, 'procevents_exits_total', groupname=name, outcome='success', **labels) == runs
    assert value(s, 'procevents_group_process_lifetime_seconds_count', groupname=name, **labels) == runs
    # Each exit record charged to the group: one peak-memory sample per process where that is per group
    # (per_group: [peak_memory]); by default its CPU series exist (at 0 without a scheduler tick).
    rss = [v for (n, ls), v in s.items() if n == 'procevents_exited_peak_resident_memory_bytes_count' and
           dict(ls).get('groupname') == name and set(labels.items()) <= set(ls)]
    if rss:
        assert rss == [runs]
    else:
        assert any(n == 'procevents_exited_cpu_seconds_total' and dict(ls).get('groupname') == name
                   for (n, ls) in s), 'no exit record was charged to %s' % name


def check_pipeline_clean(s):
    assert value(s, 'procevents_taskstats_up') == 1
    assert total(s, 'procevents_events_lost_total') == 0
    assert value(s, 'procevents_taskstats_socket_overruns_total') == 0
    assert value(s, 'procevents_execs_awaiting_exit_record') == 0
    assert value(s, 'procevents_exits_unmatched_total', source='connector') == 0


def test_programs_that_exit_at_once_are_named_exactly(exporter, tmp_path):
    """400 runs of a static program that returns at once and 300 of a copy of /bin/true, back to back
    from a shell: every exec and exit under the program's own name, as process accounting counts them."""
    static_name, true_name = programs(tmp_path)
    with ProcessAccounting() as acct:
        run_back_to_back(tmp_path, static_name, true_name)
    acct_counts = acct.counts()
    wait_for_count(exporter, static_name, RUNS_STATIC)
    s = wait_for_count(exporter, true_name, RUNS_TRUE)
    check_named_exactly(s, static_name, RUNS_STATIC, acct_counts)
    check_named_exactly(s, true_name, RUNS_TRUE, acct_counts)
    check_pipeline_clean(s)
    # Most of these were gone before /proc could be read: the exit record named them.
    assert value(s, 'procevents_execs_named_from_exit_record_total') > 0


def test_programs_that_exit_at_once_carry_their_cgroup_attribution(config_file, tmp_path):
    """The same runs from a shell inside a cgroup shaped like a systemd service, with attribution on:
    every one carries the service's unit label."""
    unit = unique('pe') + '.service'
    config = config_file('attribution: [unit]\nper_group: [peak_memory]\n')
    # The exporter stops before its cgroup is removed.
    with scratch_cgroups('procevents-test.slice/' + unit) as (procs,), Exporter(BINARY, '--config.file=' + config) as exporter:
        static_name, true_name = programs(tmp_path)
        with ProcessAccounting() as acct:
            run_back_to_back(tmp_path, static_name, true_name, cgroup_procs=procs)
        acct_counts = acct.counts()
        wait_for_count(exporter, static_name, RUNS_STATIC, unit=unit)
        s = wait_for_count(exporter, true_name, RUNS_TRUE, unit=unit)
        check_named_exactly(s, static_name, RUNS_STATIC, acct_counts, unit=unit)
        check_named_exactly(s, true_name, RUNS_TRUE, acct_counts, unit=unit)
        check_pipeline_clean(s)


def test_cpu_of_finished_processes_matches_the_kernels_accounting(exporter, tmp_path):
    """CPU seconds of a group's finished processes agree with getrusage(RUSAGE_CHILDREN) of their parent."""
    name = unique('pcp')
    shutil.copy(WORKLOAD, tmp_path / name)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(4):
        subprocess.run([str(tmp_path / name), 'spin', '250'], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    s = exporter.wait_for(
        lambda s: total(s, 'procevents_exits_total', groupname=name) >= 4, what='4 exits of %s' % name)
    exported = total(s, 'procevents_exited_cpu_seconds_total', groupname=name)
    assert children > 0.9, 'the workload burnt only %.3f s' % children
    assert abs(exported - children) <= 0.05 * children, 'exported %.3f s, the kernel says %.3f s' % (exported, children)
    assert value(s, 'procevents_exited_cpu_seconds_total', groupname=name, mode='user') > 0.8 * children
