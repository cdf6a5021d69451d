"""What finished processes cost, against getrusage of their parent: the hard cases.

Exit records are sent before a task's teardown, so their sum misses it (10 % for 1 ms programs, more
for big address spaces); the exporter charges what the parent's stat says its reaped children used
beyond their records to the children's group (aggregator/usage_ledger.h). Each case runs children of
one parent (this test's own child, a Python script that forks and execs them and sums wait4's rusage)
and requires the group's procevents_cpu_seconds_total to grow by getrusage's figure within 2 %, or
20 ms where that is more: the parent's stat counts its children's CPU in clock ticks (10 ms), and the
last child's teardown waits for a reap the exporter sees after it (README, "CPU of finished
processes"). The records' own sum (procevents_exited_cpu_seconds_total) is printed beside it.
"""
import os
import shutil
import subprocess
import sys
import time

import pytest

from harness import WORKLOAD, settled, total

PARENT = """
import os, sys
program, runs = sys.argv[1], int(sys.argv[2])
args = sys.argv[3:]
used = 0.0
for _ in range(runs):
    pid = os.fork()
    if pid == 0:
        os.execv(program, [program] + args)
    _, status, usage = os.wait4(pid, 0)
    assert status == 0, status
    used += usage.ru_utime + usage.ru_stime
print(used)
"""


def cpu(samples, metric, group):
    return total(samples, metric, groupname=group)


@pytest.mark.parametrize('name,runs,args', [
    ('ct1ms', 1000, ['spin', '1']),            # programs that burn 1 ms: teardown is a tenth of them
    ('ct200m', 50, ['touch', '200']),          # 200 MiB touched, 1 ms burned: the teardown unmaps it
    ('ctforks', 300, ['forks', '3']),          # children that fork and reap their own children
])
def test_cpu_of_finished_processes_equals_getrusage(start_exporter, tmp_path, name, runs, args):
    program = str(tmp_path / name)
    shutil.copy(WORKLOAD, program)
    ours = start_exporter()
    before = settled(ours)
    done = subprocess.run([sys.executable, '-c', PARENT, program, str(runs)] + args, capture_output=True, text=True,
                          check=True)
    getrusage = float(done.stdout)
    time.sleep(0.5)
    after = settled(ours)
    counted = cpu(after, 'procevents_cpu_seconds_total', name) - cpu(before, 'procevents_cpu_seconds_total', name)
    records = cpu(after, 'procevents_exited_cpu_seconds_total', name) - cpu(before, 'procevents_exited_cpu_seconds_total', name)
    print('%s: getrusage %.3f s; procevents_cpu_seconds_total %.3f s (%.3f); exit records alone %.3f s (%.3f)'
          % (name, getrusage, counted, counted / getrusage, records, records / getrusage))
    assert counted == pytest.approx(getrusage, rel=0.02, abs=0.02)
