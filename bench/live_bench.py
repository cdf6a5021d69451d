#!/usr/bin/env python3
"""Live benchmark: the exporter and the two floors listen side by side during a storm.

The floors are the least a listener can do for each kernel source (bench/cnproc-floor.c for the
proc connector, bench/taskstats-floor.c for taskstats exit records). The exporter does both jobs
and more, so its CPU is compared with the floors' combined CPU, per item received (connector
events + exit records). Needs root (both sources) and the targets of bench/CMakeLists.txt:

    cmake --build BUILD_DIR --target live_bench_tools
    python3 bench/live_bench.py BUILD_DIR [SECONDS] [STORM] [-- exporter flags...]

STORM is "threads" (default: bench/threadstorm, the machine's highest event rate), "exec"
(bench/forkstorm with exec: every child execs /bin/true, so the exporter's execs under
groupname="true" are checked against the kernel's fork counter and the taskstats floor's count of
comm "true"), "forks" (bench/forkstorm without exec) or "paced" (one fork + exec of /bin/true
every 50 ms, as a build or a CI runner starts its programs: each event arrives alone, so each
costs every listener a wake-up; on this kind of host that, not the work per event, is the cost).

Prints, for each listener: events or records received, losses (overruns), CPU seconds, CPU per
item; the exporter's CPU per item against the floors' combined (target <= 1.2x; <= 2x in the exec
and paced storms, where each exec costs the exporter a /proc read the floors do not make), and the
exporter's own loss and join counters from /metrics. Exit status 0 whatever the figures.
"""
import os
import subprocess
import sys
import tempfile
import time

import benchlib
from benchlib import cpu_seconds, scrape, total

JOIN_TIMEOUT_S = 3.0  # AggregatorOptions::join_timeout: unclaimed records are counted after it
STORM_WORKERS = 2
CONNECTOR_RCVBUF = 8 << 20
IDLE_SAMPLE_S = 2.0  # the exporter's default receive_buffer_bytes, given to cnproc-floor too

args = sys.argv[1:]
extra = []
if '--' in args:
    extra = args[args.index('--') + 1:]
    args = args[:args.index('--')]
if not args:
    sys.exit(__doc__)
build = args[0]
seconds = float(args[1]) if len(args) > 1 else 5
storm = args[2] if len(args) > 2 else 'threads'
if storm not in ('threads', 'exec', 'forks', 'paced'):
    sys.exit('storm must be threads, exec, forks or paced')


def binary(path):
    full = os.path.join(build, path)
    if not os.access(full, os.X_OK):
        sys.exit('%s missing: cmake --build %s --target live_bench_tools' % (full, build))
    return full


exporter_bin = binary('exporter/app/procevents_exporter')
cnproc_bin = binary('bench/cnproc-floor')
taskstats_bin = binary('bench/taskstats-floor')
PACED = """
import os, sys, time
end, forks = time.monotonic() + float(sys.argv[1]), 0
while time.monotonic() < end:
    pid = os.fork()
    if pid == 0:
        os.execv('/bin/true', ['true'])
    os.waitpid(pid, 0)
    forks += 1
    time.sleep(0.05)
print('forks=%d per_s=%.0f' % (forks, forks / float(sys.argv[1])))
"""
if storm == 'paced':
    storm_bin, storm_args = sys.executable, ['-c', PACED, str(seconds)]
else:
    storm_bin = binary('bench/threadstorm' if storm == 'threads' else 'bench/forkstorm')
    storm_args = [str(seconds), str(STORM_WORKERS)] + (['exec'] if storm == 'exec' else [])


class Floor:
    """A floor process: its stdout goes to a file, its CPU comes from wait4's rusage."""

    def __init__(self, argv):
        self.out = tempfile.TemporaryFile(mode='w+')
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT)

    def finish(self):
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.cpu = usage.ru_utime + usage.ru_stime
        self.out.seek(0)
        self.text = self.out.read()
        if self.proc.returncode != 0:
            sys.exit('%s failed (%d): %s' % (self.proc.args[0], self.proc.returncode, self.text))
        return self


def per_million(cpu, count):
    return cpu / count * 1e6 if count else float('nan')


# 1. The exporter, idle and ready.
exporter, port = benchlib.start_exporter(exporter_bin, extra, settle_s=1.5)  # past start-up
try:
    # Its idle cost (timers, poll timeouts), so figures at low event rates can be read net of it.
    idle_start = cpu_seconds(exporter.pid)
    time.sleep(IDLE_SAMPLE_S)
    idle_per_s = (cpu_seconds(exporter.pid) - idle_start) / IDLE_SAMPLE_S
    before = scrape(port)
    if total(before, 'procevents_taskstats_up') != 1:
        print('live      WARNING: the exporter is not registered for taskstats; records will be 0')

    # 2. Both floors beside it, then the storm; the floors stop 2.5 s after the storm ends.
    cpu_before = cpu_seconds(exporter.pid)
    window_start = time.monotonic()
    forks_before = benchlib.host_forks()
    floor_seconds = seconds + 3
    cnproc = Floor([cnproc_bin, str(floor_seconds), str(CONNECTOR_RCVBUF)])
    tsfloor = Floor([taskstats_bin, str(floor_seconds)])
    time.sleep(0.5)
    storm_out = subprocess.run([storm_bin] + storm_args, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    cnproc.finish()
    tsfloor.finish()
    forks_after = benchlib.host_forks()
    cpu_after = cpu_seconds(exporter.pid)
    window = time.monotonic() - window_start
    after = scrape(port)
    # 3. The join counters settle after the join timeout (records no exit claimed are counted then).
    time.sleep(JOIN_TIMEOUT_S + 1.5)
    final = scrape(port)
finally:
    exporter.terminate()
    exporter.wait()


def delta(name, labels='', end=None):
    return total(end or after, name, labels) - total(before, name, labels)


cn = dict(kv.split('=') for kv in cnproc.text.split() if '=' in kv)
ts_lines = tsfloor.text.splitlines()
ts = dict(kv.split('=') for kv in ts_lines[0].split())
ts_comms = {}
for line in ts_lines[1:]:
    comm, _, count = line.rpartition(' ')
    ts_comms[comm] = int(count)

cn_events, cn_overruns = int(cn['total']), int(cn['enobufs'])
ts_tasks, ts_tgids, ts_overruns = int(ts['tasks']), int(ts['tgid_aggr']), int(ts['enobufs'])
ts_records = ts_tasks + ts_tgids
exp_events = delta('procevents_events_total')
exp_records = delta('procevents_taskstats_records_total')
exp_lost = delta('procevents_events_lost_total')
exp_cpu = cpu_after - cpu_before
floors_cpu = cnproc.cpu + tsfloor.cpu
exp_per = per_million(exp_cpu, exp_events + exp_records)
floors_per = per_million(floors_cpu, cn_events + ts_records)

print('live      storm=%s seconds=%g workers=%d: %s  kernel_fork_delta=%d  (load %.2f %.2f %.2f)' %
      ((storm, seconds, 1 if storm == 'paced' else STORM_WORKERS, storm_out, forks_after - forks_before) +
       os.getloadavg()))
print('live      cnproc-floor:    events=%d (fork=%s exec=%s exit=%s) overruns=%d cpu=%.2fs  %.3f cpu-s/Mevents' %
      (cn_events, cn['fork'], cn['exec'], cn['exit'], cn_overruns, cnproc.cpu, per_million(cnproc.cpu, cn_events)))
print('live      taskstats-floor: records=%d (task=%d thread_group=%d) overruns=%d cpu=%.2fs  %.3f cpu-s/Mrecords' %
      (ts_records, ts_tasks, ts_tgids, ts_overruns, tsfloor.cpu, per_million(tsfloor.cpu, ts_records)))
print('live      floors combined: items=%d cpu=%.2fs  %.3f cpu-s/Mitems' %
      (cn_events + ts_records, floors_cpu, floors_per))
print('live      exporter:        events=%d records=%d (task=%d thread_group=%d) cpu=%.2fs  %.3f cpu-s/Mitems'
      '  (ratio %.2fx the floors, target <= %gx)' %
      (exp_events, exp_records, delta('procevents_taskstats_records_total', 'scope="task"'),
       delta('procevents_taskstats_records_total', 'scope="thread_group"'), exp_cpu, exp_per, exp_per / floors_per,
       2.0 if storm in ('exec', 'paced') else 1.2))
exp_net = exp_cpu - idle_per_s * window
print('live      exporter net of its idle cost (%.4f cpu-s/s over %.1f s): cpu=%.2fs  %.3f cpu-s/Mitems  (ratio %.2fx)' %
      (idle_per_s, window, exp_net, per_million(exp_net, exp_events + exp_records),
       per_million(exp_net, exp_events + exp_records) / floors_per))
print('live      exporter /metrics: events_lost=%d (kernel_overrun=%d ring_full=%d) socket_overruns=%d'
      ' taskstats_socket_overruns=%d' %
      (exp_lost, delta('procevents_events_lost_total', 'reason="kernel_overrun"'),
       delta('procevents_events_lost_total', 'reason="ring_full"'), delta('procevents_socket_overruns_total'),
       delta('procevents_taskstats_socket_overruns_total')))
print('live      exporter joins (after %.1f s more): exits_joined=%d exits_unmatched connector=%d taskstats=%d'
      '  (connector exit events %d, task records %d, items still in the ring %d; unmatched stays 0 without loss)' %
      (JOIN_TIMEOUT_S + 1.5, delta('procevents_exits_joined_total', end=final),
       delta('procevents_exits_unmatched_total', 'source="connector"', end=final),
       delta('procevents_exits_unmatched_total', 'source="taskstats"', end=final),
       delta('procevents_events_total', 'event="exit"', end=final),
       delta('procevents_taskstats_records_total', 'scope="task"', end=final), total(final, 'procevents_ring_used')))
print('live      versus the floors: events %+d, records %+d (positive: the exporter, listening longer, saw more)' %
      (exp_events - cn_events, exp_records - ts_records))
if storm in ('exec', 'paced'):
    execs_true = delta('procevents_execs_total', 'groupname="true"', end=final)
    print('live      execs of /bin/true: exporter groupname="true" %d, kernel /proc/stat processes delta %d,'
          ' taskstats-floor comm "true" %d, forkstorm %s' %
          (execs_true, forks_after - forks_before, ts_comms.get('true', 0), storm_out))
    print('live      exporter execs: named_from_exit_record=%d enrichment_failures=%d awaiting_exit_record=%d' %
          (delta('procevents_execs_named_from_exit_record_total', end=final),
           delta('procevents_enrichment_failures_total', end=final),
           total(final, 'procevents_execs_awaiting_exit_record')))
