#!/usr/bin/env python3
"""At-rest benchmark: how often the exporter wakes up and how much CPU it uses when nothing happens.

    python3 bench/rest_bench.py EXPORTER_BINARY [SECONDS]

Runs the exporter twice, each time for SECONDS (default 30) after a short settling time, without
scrapes:
  quiet    no events reach it: the kernel filter passes only coredumps and taskstats is off, so
           every wake-up is one of its own timers (what it costs on a host where nothing happens);
  default  the built-in configuration on this host: the host's own processes wake it (their
           fork/exec/exit rate is printed beside the figures).
Wake-ups are context switches of the exporter's threads (voluntary + involuntary, from
/proc/PID/task/*/status): a thread that sleeps and is woken counts one, whatever the load, unlike
CPU time. CPU comes from the threads' schedstat run times. Needs root (the exporter does).
Prints one line per run and the busiest threads. Exit status 0 whatever the figures.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

from benchlib import host_forks

SETTLE_S = 3.0  # past start-up: the /proc seed, the self-check, the web server's threads

args = sys.argv[1:]
if not args:
    sys.exit(__doc__)
binary = args[0]
seconds = float(args[1]) if len(args) > 1 else 30.0


def threads(pid):
    """{tid: (name, context switches, run ns)} for every thread of pid."""
    out = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            base = '/proc/%d/task/%s/' % (pid, tid)
            with open(base + 'status') as f:
                status = f.read()
            with open(base + 'schedstat') as f:
                run_ns = int(f.read().split()[0])
        except OSError:
            continue  # ended meanwhile
        name = re.search(r'^Name:\s*(.*)$', status, re.M).group(1)
        switches = sum(int(v) for v in re.findall(r'^(?:non)?voluntary_ctxt_switches:\s*(\d+)$', status, re.M))
        out[tid] = (name, switches, run_ns)
    return out


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        return int(re.search(r'^VmRSS:\s*(\d+)', f.read(), re.M).group(1))


def measure(label, config):
    cfg = tempfile.NamedTemporaryFile('w', suffix='.yml', delete=False)
    cfg.write(config)
    cfg.close()
    log = tempfile.TemporaryFile(mode='w+')
    proc = subprocess.Popen([binary, '--web.listen-address=127.0.0.1:0', '--config.file=' + cfg.name,
                             '--no-self-check'], stderr=log)
    try:
        time.sleep(SETTLE_S)
        if proc.poll() is not None:
            log.seek(0)
            sys.exit('exporter exited:\n' + log.read())
        before, forks_before, start = threads(proc.pid), host_forks(), time.monotonic()
        time.sleep(seconds)
        after, forks_after, window = threads(proc.pid), host_forks(), time.monotonic() - start
        rss = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
        os.unlink(cfg.name)
    by_name = collections.defaultdict(lambda: [0, 0, 0])  # threads, switches, run ns
    for tid, (name, switches, run_ns) in after.items():
        old = before.get(tid, (name, 0, 0))
        entry = by_name[name]
        entry[0] += 1
        entry[1] += switches - old[1]
        entry[2] += run_ns - old[2]
    wakeups = sum(e[1] for e in by_name.values())
    cpu_s = sum(e[2] for e in by_name.values()) / 1e9
    print('rest      %-7s %5.1fs: %7.2f wake-ups/s  cpu %.4f%% of a core (%.1f ms)  threads %d  rss %.1f MiB'
          '  host forks %.1f/s  (load %.2f %.2f %.2f)' %
          ((label, window, wakeups / window, cpu_s / window * 100, cpu_s * 1e3, len(after), rss / 1024,
            (forks_after - forks_before) / window) + os.getloadavg()))
    for name, (count, switches, run_ns) in sorted(by_name.items(), key=lambda kv: -kv[1][1]):
        if switches == 0 and run_ns == 0:
            continue
        print('rest      %-7s   %-16s x%-3d %7.2f wake-ups/s  %.3f ms cpu' %
              (label, name, count, switches / window, run_ns / 1e6))


measure('quiet', 'events: [coredump]\ntaskstats: false\n')
measure('default', '{}\n')
