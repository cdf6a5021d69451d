"""Compressed churn against two exporters, self-audit on and off: resident memory, tracked processes and the
audit's figures each minute. Run as root from the source root after building:
  sudo python3 bench/churn_memory.py SECONDS   (PROCEVENTS_BINARY / PROCEVENTS_WORKLOAD override the build paths)
"""
import os, subprocess, sys, time, tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'integration'))
import harness
from harness import Exporter, value, total
W = harness.WORKLOAD
def rss(pid):
    with open('/proc/%d/statm' % pid) as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
off = tempfile.NamedTemporaryFile('w', suffix='.yml', delete=False); off.write('audit_interval_seconds: 0\n'); off.close()
with Exporter(harness.BINARY) as on, Exporter(harness.BINARY, '--config.file=' + off.name) as no:
    time.sleep(20)
    def line(tag):
        out = []
        for name, e in (('audit on', on), ('audit off', no)):
            s = e.samples()
            out.append('%s: rss %.1f MiB tracked %d live %d audits %d drift %s' % (name, rss(e.proc.pid), value(s, 'procevents_tracked_processes'),
                       total(s, 'procevents_processes'), value(s, 'procevents_table_audits_total'),
                       [value(s, 'procevents_table_drift_total', kind=k) for k in ('stale', 'missing')]))
        print(tag, ' | '.join(out), flush=True)
    line('before')
    start = time.time(); last = start
    while time.time() < start + float(sys.argv[1]):
        ps = [subprocess.Popen([W, 'forks', '300']), subprocess.Popen([W, 'forks', '300']), subprocess.Popen([W, 'threads', '2000'])]
        for _ in range(20): subprocess.run(['/bin/true'])
        subprocess.run(['python3', '-c', 'import threading,os,time; [threading.Thread(target=time.sleep,args=(5,)).start() for _ in range(8)]; os._exit(0)'])
        for p in ps: p.wait()
        if time.time() - last > 60:
            last = time.time(); line('t=%.0f' % (last - start))
    time.sleep(35)
    line('after')
