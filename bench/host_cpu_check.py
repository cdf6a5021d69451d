"""The sum of procevents_cpu_seconds_total over all groups (kernel threads included, in `other`) against
the host's CPU from /proc/stat (user + nice + system, all CPUs), over SECONDS of whatever the host runs.

    python3 bench/host_cpu_check.py EXPORTER [SECONDS]"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def host_cpu():
    """(user + nice + system, irq + softirq) in seconds, from /proc/stat's cpu line."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[0] + fields[1] + fields[2]) / benchlib.TICKS, (fields[5] + fields[6]) / benchlib.TICKS


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    exporter, port = benchlib.start_exporter(binary, settle_s=2.0)
    try:
        before = benchlib.total(benchlib.scrape(port), 'procevents_cpu_seconds_total')
        host_before, irq_before = host_cpu()
        time.sleep(seconds)
        after = benchlib.total(benchlib.scrape(port), 'procevents_cpu_seconds_total')
        host_after, irq_after = host_cpu()
    finally:
        exporter.kill()
        exporter.wait()
    counted, host = after - before, host_after - host_before
    print('over %.0f s: host user+nice+system %.2f s (irq+softirq %.2f s more); procevents_cpu_seconds_total summed '
          'over all groups %.2f s (%.3f of the host)' % (seconds, host, irq_after - irq_before, counted, counted / host))


if __name__ == '__main__':
    main()
