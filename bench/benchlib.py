"""What the live benchmarks share: starting the exporter, its CPU, the host's fork counter, /metrics."""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

# The "listening" log line, in either log format (logfmt, json).
LISTENING = re.compile(r'(?:msg=listening port=|"msg":"listening","port":")(\d+)')
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')
TICKS = os.sysconf('SC_CLK_TCK')


def host_forks():
    """The kernel's own fork counter (threads included): /proc/stat `processes`."""
    with open('/proc/stat') as f:
        return int(next(l for l in f if l.startswith('processes ')).split()[1])


def cpu_seconds(pid):
    """CPU time of a live process: its threads' schedstat run times (ns; the exporter's threads live
    as long as it does), else utime + stime from /proc/PID/stat (clock ticks)."""
    try:
        run_ns = 0
        for tid in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                run_ns += int(f.read().split()[0])
        return run_ns / 1e9
    except (OSError, ValueError, IndexError):
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


def scrape(port):
    """{'name{labels}': value} of every sample on /metrics."""
    text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            values[m.group(1) + (m.group(2) or '')] = float(m.group(3))
    return values


def total(values, name, labels=''):
    """Sum of family `name`'s samples whose label set contains `labels` (e.g. 'scope="task"')."""
    return sum(v for k, v in values.items()
               if (k == name or k.startswith(name + '{')) and labels in k)


def start_exporter(binary, args=(), settle_s=1.0):
    """Starts the exporter on a free loopback port; returns (process, port) once it listens and
    `settle_s` more has passed (the /proc seed, the web server's threads). Exits with its log if
    it does not start."""
    log = tempfile.TemporaryFile(mode='w+')
    proc = subprocess.Popen([binary, '--web.listen-address=127.0.0.1:0'] + list(args), stderr=log)
    for _ in range(400):
        log.seek(0)
        m = LISTENING.search(log.read())
        if m:
            time.sleep(settle_s)
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    log.seek(0)
    sys.exit('exporter did not start:\n' + log.read())
