"""What a scrape of the live families costs with many live processes, side by side with Debian's
process-exporter on the same processes, grouped the same way ({{.Comm}} of every process with a
command line).

    python3 bench/live_scrape_bench.py EXPORTER PROCESSES [GROUPS] [SCRAPES] [EXTRA EXPORTER ARGS...]

Starts PROCESSES sleeping processes under GROUPS program names, then scrapes each exporter SCRAPES
times, one at a time, and prints the CPU each used per scrape (its own CPU time before and after,
the scrape's wall time excluded from nothing) and the worst and median scrape latency."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

PE_BINARY = '/usr/bin/prometheus-process-exporter'
PE_CONFIG = "process_names:\n  - name: '{{.Comm}}'\n    cmdline: ['.+']\n"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=30).read()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit('port %d never answered' % port)


def measure(pid, port, scrapes):
    """(CPU ms per scrape, latencies in ms, response bytes) over `scrapes` scrapes."""
    cpu, latency, size = [], [], 0
    for _ in range(scrapes):
        before = benchlib.cpu_seconds(pid)
        start = time.monotonic()
        body = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=60).read()
        latency.append((time.monotonic() - start) * 1e3)
        time.sleep(0.2)  # anything the scrape left running (a Go exporter's GC) is counted too
        cpu.append((benchlib.cpu_seconds(pid) - before) * 1e3)
        size = len(body)
    return cpu, latency, size


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, processes = sys.argv[1], int(sys.argv[2])
    groups = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    scrapes = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    extra = sys.argv[5:]
    workdir = tempfile.mkdtemp(prefix='live-scrape-bench-')
    sleepers, exporters = [], []
    try:
        for g in range(groups):
            shutil.copy('/bin/sleep', os.path.join(workdir, 'lsb%02d' % g))
        for i in range(processes):
            program = os.path.join(workdir, 'lsb%02d' % (i % groups))
            sleepers.append(subprocess.Popen([program, '3600'], stdin=subprocess.DEVNULL))
        config = os.path.join(workdir, 'pe.yml')
        with open(config, 'w') as f:
            f.write(PE_CONFIG)
        ours, our_port = benchlib.start_exporter(binary, extra, settle_s=2.0)
        exporters.append(ours)
        pe_port = free_port()
        pe = subprocess.Popen([PE_BINARY, '-config.path', config, '-web.listen-address', '127.0.0.1:%d' % pe_port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        exporters.append(pe)
        wait_listening(pe_port)
        # One scrape each first: both learn the processes (process-exporter names them on first sight).
        measure(ours.pid, our_port, 1)
        measure(pe.pid, pe_port, 1)
        print('load: %s; %d live processes in %d groups, %d scrapes each'
              % (' '.join(open('/proc/loadavg').read().split()[:3]), processes, groups, scrapes))
        results = {}
        for name, pid, port in (('procevents', ours.pid, our_port), ('process-exporter', pe.pid, pe_port)):
            cpu, latency, size = measure(pid, port, scrapes)
            results[name] = statistics.median(cpu)
            print('%-17s CPU per scrape: median %7.1f ms (min %.1f, max %.1f); latency: median %6.1f ms, worst %6.1f ms; %d bytes'
                  % (name, statistics.median(cpu), min(cpu), max(cpu), statistics.median(latency), max(latency), size))
        ratio = results['procevents'] / results['process-exporter'] if results['process-exporter'] > 0 else float('nan')
        print('ratio (procevents / process-exporter CPU per scrape): %.3f (target <= 0.1)' % ratio)
    finally:
        for proc in exporters + sleepers:
            proc.kill()
        for proc in exporters + sleepers:
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
