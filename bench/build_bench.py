#!/usr/bin/env python3
"""Real-workload benchmark: build this project from a clean tree with and without the exporter.

    python3 bench/build_bench.py EXPORTER_BINARY [RUNS] [TARGET]

Each run configures a fresh build directory (RelWithDebInfo) and times `cmake --build DIR -j2`
(of TARGET only if given; the whole project otherwise), RUNS times without and RUNS times with the
exporter (default configuration) running, alternately, so that other load on the machine falls on
both alike. Prints, per run and as medians:
  - the build's wall time and CPU (its processes' rusage), with and without the exporter;
  - the exporter's CPU during the build (its threads' run time) as a share of the build's CPU. The
    exporter sees every process on the host, so on a shared machine that share also pays for the
    others' processes: the host's fork count in the window is printed beside it;
  - then one more build with the exporter, in a cgroup of its own (a service,
    procevents-build-bench.service) and with `attribution: [unit]`, so that the build's own
    processes are told from everything else on the host: per program (cc1plus, as, ld, collect2,
    make, ...), the exporter's procevents_execs_total{groupname=<program>,unit=<that service>}
    against BSD process accounting (acct(2): one record per exited process with its name, pid and
    parent, written by the kernel) of the build's process tree. acct(2) has one file per system: a
    marker program run at the start and at the end must appear in ours, or someone else switched
    accounting meanwhile and the comparison is void (said so).
Needs root (the exporter and acct(2) do). Exit status 0 whatever the figures.
"""
import ctypes
import os
import re
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import benchlib
from benchlib import cpu_seconds, host_forks, scrape

UNIT = 'procevents-build-bench.service'
CGROUP_ROOT = '/sys/fs/cgroup/unified' if os.path.isdir('/sys/fs/cgroup/unified') else '/sys/fs/cgroup'
CGROUP = os.path.join(CGROUP_ROOT, 'procevents-bench.slice', UNIT)
SETTLE_S = 4.0  # after the build: held execs are settled within the 3 s join timeout
ACCT_V3 = struct.Struct('=BBHIIIIIIf8H16s')  # <linux/acct.h> struct acct_v3, 64 bytes

args = sys.argv[1:]
if not args:
    sys.exit(__doc__)
exporter_bin = os.path.abspath(args[0])
runs = int(args[1]) if len(args) > 1 else 3
target = args[2] if len(args) > 2 else None
source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
libc = ctypes.CDLL(None, use_errno=True)


def marker(directory, name):
    """Runs a copy of /bin/true named `name` (its comm) and waits for it."""
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        shutil.copy(shutil.which('true'), path)
    subprocess.run([path], check=True)


def acct_records(path):
    """[(pid, ppid, comm)] of acct v3 records: <linux/acct.h> ac_pid and ac_ppid are fields 6, 7."""
    with open(path, 'rb') as f:
        data = f.read()
    records = []
    for offset in range(0, len(data) - ACCT_V3.size + 1, ACCT_V3.size):
        fields = ACCT_V3.unpack_from(data, offset)
        if fields[1] == 3:
            records.append((fields[6], fields[7], fields[-1].split(b'\0', 1)[0].decode(errors='replace')))
    return records


def tree_counts(records, root):
    """{comm: processes} of the records that descend from pid `root` (itself included)."""
    parent = {pid: ppid for pid, ppid, _ in records}
    counts = {}
    for pid, _, comm in records:
        p, seen = pid, 0
        while p not in (root, 0, 1) and p in parent and seen < 64:
            p, seen = parent[p], seen + 1
        if p == root:
            counts[comm] = counts.get(comm, 0) + 1
    return counts


def start_exporter(config=None):
    return benchlib.start_exporter(exporter_bin, ['--config.file=' + config] if config else [])


def configure():
    build_dir = tempfile.mkdtemp(prefix='procevents-build-bench-')
    subprocess.run(['cmake', '-S', source, '-B', build_dir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo'],
                   check=True, stdout=subprocess.DEVNULL)
    return build_dir, ['cmake', '--build', build_dir, '-j2'] + (['--target', target] if target else [])


def build_once(with_exporter):
    """Times one clean build; with the exporter (default configuration), also its CPU meanwhile."""
    build_dir, command = configure()
    exporter = None
    try:
        if with_exporter:
            exporter, _ = start_exporter()
            exporter_cpu = cpu_seconds(exporter.pid)
        forks = host_forks()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = {'wall': wall, 'forks': host_forks() - forks,
                  'cpu': (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)}
        if exporter:
            result['exporter_cpu'] = cpu_seconds(exporter.pid) - exporter_cpu
        return result
    finally:
        if exporter:
            exporter.terminate()
            exporter.wait()
        shutil.rmtree(build_dir, ignore_errors=True)


def names_run(scratch):
    """One clean build in its own service cgroup: the exporter's execs of its programs against acct(2)."""
    build_dir, command = configure()
    config = os.path.join(scratch, 'procevents.yml')
    with open(config, 'w') as f:
        f.write('attribution: [unit]\n')
    created = []
    for d in (os.path.dirname(CGROUP), CGROUP):
        if not os.path.isdir(d):
            os.mkdir(d)
            created.append(d)
    exporter, port = start_exporter(config)
    acct_path = os.path.join(scratch, 'acct')
    open(acct_path, 'wb').close()
    acct_on = libc.acct(acct_path.encode()) == 0
    if not acct_on:
        print('build     acct(2) refused: %s; no comparison' % os.strerror(ctypes.get_errno()))
    try:
        marker(scratch, 'pbm_start')
        before = scrape(port)
        build = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                 preexec_fn=lambda: open(os.path.join(CGROUP, 'cgroup.procs'), 'w').write('0'))
        build.wait()
        marker(scratch, 'pbm_end')
        time.sleep(SETTLE_S)
        final = scrape(port)
    finally:
        if acct_on:
            libc.acct(None)
        exporter.terminate()
        exporter.wait()
        shutil.rmtree(build_dir, ignore_errors=True)
        for d in reversed(created):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)
    lost = sum(v for k, v in final.items() if k.startswith('procevents_events_lost_total')) - \
        sum(v for k, v in before.items() if k.startswith('procevents_events_lost_total'))

    def ours(values):
        out = {}
        for key, value in values.items():
            m = re.match(r'procevents_execs_total\{.*groupname="([^"]*)"', key)
            if m and 'unit="%s"' % UNIT in key:
                out[m.group(1)] = out.get(m.group(1), 0) + value
        return out
    exported = {k: v - ours(before).get(k, 0) for k, v in ours(final).items()}
    parts, exact = [], True
    if acct_on:
        records = acct_records(acct_path)
        comms = [comm for _, _, comm in records]
        valid = comms.count('pbm_start') == 1 and comms.count('pbm_end') == 1
        truth = tree_counts(records, build.pid)
        for program in sorted(set(truth) | set(exported), key=lambda p: -truth.get(p, 0)):
            got, want = int(exported.get(program, 0)), truth.get(program, 0)
            exact &= got == want
            parts.append('%s %d/%d%s' % (program, got, want, '' if got == want else ' (!)'))
        print('build     names (the build in %s, attribution: [unit]): exporter execs / acct(2) processes: %s' %
              (UNIT, ', '.join(parts)))
        print('build     names: %s; events lost %d%s' %
              ('every program exact' if exact else 'MISMATCH', lost,
               '' if valid else '; acct VOID: someone else switched process accounting meanwhile'))
        return sum(truth.values())
    print('build     names: exporter execs %s; events lost %d' % (exported, lost))
    return None


def main():
    if os.geteuid() != 0:
        sys.exit('needs root (the exporter and acct(2))')
    scratch = tempfile.mkdtemp(prefix='procevents-build-bench-')
    results = {False: [], True: []}
    try:
        for i in range(runs):
            for with_exporter in (False, True):
                load = os.getloadavg()
                r = build_once(with_exporter)
                results[with_exporter].append(r)
                line = 'build     run %d %-16s wall %6.1f s  build cpu %7.1f s  host forks %6d  (load %.2f %.2f %.2f)' % (
                    (i + 1, 'with exporter' if with_exporter else 'without', r['wall'], r['cpu'], r['forks']) + load)
                if with_exporter:
                    line += '  exporter cpu %.2f s = %.3f%% of the build\'s' % (r['exporter_cpu'],
                                                                              100 * r['exporter_cpu'] / r['cpu'])
                print(line, flush=True)
        build_processes = names_run(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    without, with_ = results[False], results[True]
    wall_without = statistics.median(r['wall'] for r in without)
    wall_with = statistics.median(r['wall'] for r in with_)
    share = statistics.median(100 * r['exporter_cpu'] / r['cpu'] for r in with_)
    per_fork = statistics.median(r['exporter_cpu'] / max(r['forks'], 1) for r in with_)
    build_cpu = statistics.median(r['cpu'] for r in with_)
    print('build     medians of %d runs%s: wall %.1f s without, %.1f s with the exporter (%+.1f%%); build cpu %.1f s;'
          ' exporter cpu %.3f%% of it (target <= 0.5%%), but it also handled every other process on the host:'
          ' %.1f us of exporter cpu per host fork' %
          (runs, ' (target %s)' % target if target else '', wall_without, wall_with,
           100 * (wall_with - wall_without) / wall_without, build_cpu, share, per_fork * 1e6))
    if build_processes:
        print('build     the build alone (%d processes, acct(2)) at that cost per process: exporter cpu %.3f%% of'
              ' the build\'s (target <= 0.5%%)' % (build_processes, 100 * per_fork * build_processes / build_cpu))


main()
