"""What a real workload's processes cost, by the exporter against getrusage: the workload runs in a cgroup of
its own (a service, so that `attribution: [unit]` labels its groups), started by this script, whose
getrusage(RUSAGE_CHILDREN) after it says what all its processes used (every one reaped in the tree).

    python3 bench/workload_cpu.py EXPORTER DIRECTORY COMMAND...

e.g. GNU hello from Debian's source (`apt-get source hello`, with a deb-src line for bookworm):
    python3 bench/workload_cpu.py build/exporter/app/procevents_exporter /tmp/hello-2.10 \\
        sh -c './configure -q && make -j2 -s && make -s check'
Prints the sum of procevents_cpu_seconds_total and of procevents_exited_cpu_seconds_total (the exit records
alone) over the workload's groups, against getrusage."""
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

CGROUP_ROOT = '/sys/fs/cgroup/unified' if os.path.isdir('/sys/fs/cgroup/unified') else '/sys/fs/cgroup'
UNIT = 'procevents-workload-cpu.service'


def unit_cpu(values, name):
    return sum(v for k, v in values.items() if k.startswith(name + '{') and 'unit="%s"' % UNIT in k)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, directory, command = sys.argv[1], sys.argv[2], sys.argv[3:]
    cgroup = os.path.join(CGROUP_ROOT, 'system.slice', UNIT)
    os.makedirs(cgroup, exist_ok=True)
    with tempfile.NamedTemporaryFile('w', suffix='.yml', delete=False) as config:
        config.write('attribution: [unit]\n')
    exporter, port = benchlib.start_exporter(binary, ['--config.file=' + config.name])
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        subprocess.run(command, cwd=directory, check=True, stdout=subprocess.DEVNULL,
                       preexec_fn=lambda: open(os.path.join(cgroup, 'cgroup.procs'), 'w').write('0'))
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        getrusage = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        time.sleep(1.5)
        values = benchlib.scrape(port)
        counted = unit_cpu(values, 'procevents_cpu_seconds_total')
        records = unit_cpu(values, 'procevents_exited_cpu_seconds_total')
        forks = unit_cpu(values, 'procevents_forks_total')
        print('workload: %s (%.1f s wall, %d forks in its groups)' % (' '.join(command), wall, forks))
        print('getrusage of the run %.3f s; procevents_cpu_seconds_total %.3f s (%.3f); exit records alone %.3f s (%.3f)'
              % (getrusage, counted, counted / getrusage, records, records / getrusage))
    finally:
        exporter.kill()
        exporter.wait()
        os.unlink(config.name)
        for _ in range(50):
            try:
                os.rmdir(cgroup)
                break
            except OSError:
                time.sleep(0.1)


if __name__ == '__main__':
    main()
