#!/usr/bin/env python3
"""Live benchmark: the exporter and the minimal C reader listen side by side during a storm.

Prints, for each: events received, losses reported, CPU seconds per million events; plus the
kernel's own fork counter delta. Usage: live_bench.py BUILD_DIR SHARED_TOOLS_DIR [SECONDS] [storm]
where storm is "threads" (default, the machine's maximum event rate) or "forks".
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

build, tools = sys.argv[1], sys.argv[2]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5
storm = sys.argv[4] if len(sys.argv) > 4 else 'threads'
extra = sys.argv[5:]
exporter_bin = os.path.join(build, 'exporter/app/procevents_exporter')
reader_bin = os.path.join(build, 'bench/minimal_reader')
ticks = os.sysconf('SC_CLK_TCK')


def compile_storm(name):
    out = os.path.join(tempfile.gettempdir(), 'procevents-' + name)
    subprocess.run(['cc', '-O2', '-pthread', '-o', out, os.path.join(tools, name + '.c')], check=True)
    return out


def kernel_forks():
    with open('/proc/stat') as f:
        return int(next(l for l in f if l.startswith('processes ')).split()[1])


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def scrape(port):
    text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        m = re.match(r'^(procevents_events_total|procevents_events_lost_total|procevents_socket_overruns_total)(\{[^}]*\})? (\S+)$', line)
        if m:
            values[m.group(1) + (m.group(2) or '')] = float(m.group(3))
    return values


def total(values, prefix):
    return sum(v for k, v in values.items() if k.startswith(prefix))


storm_bin = compile_storm('threadstorm' if storm == 'threads' else 'forkstorm')
log = tempfile.TemporaryFile(mode='w+')
exporter = subprocess.Popen([exporter_bin, '--web.listen-address=127.0.0.1:0'] + extra, stderr=log)
port = None
for _ in range(200):
    log.seek(0)
    m = re.search(r'listening on port (\d+)', log.read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.05)
assert port, 'exporter did not start'
time.sleep(0.5)

before = scrape(port)
cpu_before = cpu_seconds(exporter.pid)
forks_before = kernel_forks()
reader = subprocess.Popen([reader_bin, str(seconds + 2)], stdout=subprocess.PIPE, text=True)
time.sleep(0.5)
subprocess.run([storm_bin, str(seconds), '2'], check=True, stdout=subprocess.DEVNULL)
reader_out = reader.communicate()[0]
forks_after = kernel_forks()
time.sleep(1)
after = scrape(port)
cpu_after = cpu_seconds(exporter.pid)
exporter.terminate()
exporter.wait()

r = dict(kv.split('=') for kv in reader_out.split())
exp_events = total(after, 'procevents_events_total') - total(before, 'procevents_events_total')
exp_lost = total(after, 'procevents_events_lost_total') - total(before, 'procevents_events_lost_total')
exp_cpu = cpu_after - cpu_before
reader_events = float(r['events'])
reader_cpu = float(r['cpu_seconds'])
print('live      storm=%s seconds=%g kernel_fork_delta=%d' % (storm, seconds, forks_after - forks_before))
print('live      minimal_reader: events=%d lost=%s enobufs=%s cpu=%.2fs  %.3f cpu-s/Mevents' %
      (reader_events, r['lost'], r['enobufs'], reader_cpu, reader_cpu / max(reader_events, 1) * 1e6))
print('live      exporter:       events=%d lost=%d cpu=%.2fs  %.3f cpu-s/Mevents  (ratio %.2fx, target <= 1.5x; lose nothing the reader gets)' %
      (exp_events, exp_lost, exp_cpu, exp_cpu / max(exp_events, 1) * 1e6,
       (exp_cpu / max(exp_events, 1)) / max(reader_cpu / max(reader_events, 1), 1e-12)))
