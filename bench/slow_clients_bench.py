"""Scrapes beside 1,000 slow clients of each kind (see tests/integration/slow_clients.py): the worst scrape
latency on a new connection and on two kept-alive connections (target < 1 s, no failure), and the exporter's
threads and resident memory at rest, under each load and after it (targets at rest: <= 16 threads, <= 24 MiB).
  python3 bench/slow_clients_bench.py BINARY [seconds-per-kind] [clients] [kinds,...]
Needs root (the exporter subscribes to the process events connector)."""
import os
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'integration'))
from benchlib import start_exporter  # noqa: E402
from slow_clients import KINDS, raise_nofile, run_beside, threads_and_rss, tls_web_config  # noqa: E402


def at_rest(label, pid):
    threads, rss = threads_and_rss(pid)
    print('%-34s threads %4d   RSS %6.1f MiB' % (label, threads, rss), flush=True)


def new_connection_scrapes(port, count):
    for _ in range(count):
        urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=10).read()


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    kinds = sys.argv[4].split(',') if len(sys.argv) > 4 else KINDS
    if not raise_nofile(count + 256):
        sys.exit('cannot raise RLIMIT_NOFILE to %d' % (count + 256))
    directory = tempfile.mkdtemp(prefix='procevents-slow-')
    web_config = tls_web_config(directory)
    print('load: %s on %d CPUs' % (open('/proc/loadavg').read().split(' ', 3)[:3], os.cpu_count()))
    for tls in (False, True):
        tls_kinds = [k for k in kinds if k.startswith('tls_') == tls]
        if not tls_kinds:
            continue
        proc, port = start_exporter(binary, ['--web.config.file=' + web_config] if tls else [], settle_s=2.0)
        try:
            at_rest('%s, at rest' % ('TLS' if tls else 'plain'), proc.pid)
            if not tls:
                new_connection_scrapes(port, 300)
                at_rest('plain, after 300 scrapes', proc.pid)
            for kind in tls_kinds:
                r = run_beside(port, kind, count, seconds, tls, proc.pid)
                print('%-15s %4d clients %3.0f s: new-connection scrapes %4d median %.3f worst %6.3f s; keep-alive %3d '
                      'worst %6.3f s; failures %d; peak threads %d, RSS %.1f MiB; %d re-opened'
                      % (kind, count, seconds, r['scrapes_new'], r['median_new_s'], r['worst_new_s'], r['scrapes_keepalive'],
                         r['worst_keepalive_s'], len(r['failures']), r['peak_threads'], r['peak_rss_mib'], r['reopened']),
                      flush=True)
                for failure in r['failures'][:3]:
                    print('    ' + failure)
                time.sleep(3)
                at_rest('  3 s after the clients closed', proc.pid)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == '__main__':
    main()
