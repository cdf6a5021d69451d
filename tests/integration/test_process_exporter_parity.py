"""process-exporter parity, side by side: Debian's prometheus-process-exporter and procevents_exporter run on
the same host with the same configuration file; their groups and live-process counts must be the same.

Compared: namedprocess_namegroup_num_procs against procevents_processes (summed over attribution labels), for
every group either side counts, over five rounds of simultaneous scrapes once ours has caught up: a group whose counts
agree in no round differs (a host's own processes churn, so one round may catch a group mid-change), and
every group the crafted processes make must agree in every round. process-exporter runs with -recheck: it
otherwise names a process when first seen, which may be between its fork and its exec. What is not compared is what the README lists under
"Differences from process-exporter": our "other" group (process-exporter does not export unmatched processes)
and zombies (process-exporter counts them until reaped; they have exited, we do not), checked on their own.

The crafted processes hit each point where the two used to differ: a program started through a symlink, argv
rewritten by the program (with and without a '/'), a binary run from a memfd, a command line of 7.5 KB, unmatched children and
grandchildren of a matched process (started before the exporters and after), {{.PID}} and {{.StartTime}}
names, kernel threads under the built-in grouping, and a zombie present at start-up.
"""
import concurrent.futures
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from harness import ProcessExporter, process_exporter_installed, settled, value  # noqa: F401 (an autouse fixture)

EXAMPLES = os.path.join(os.path.dirname(__file__), '..', '..', 'config', 'examples')

# What the built-in grouping is, written as a file process-exporter can read.
DEFAULT_AS_FILE = """process_names:
  - name: "{{.Comm}}"
    cmdline: ['.+']
"""

CRAFTED_CONFIG = r"""process_names:
  - name: "pid-{{.PID}}"
    cmdline: ['pe-pid-marker']
  - name: "started-{{.StartTime}}"
    cmdline: ['pe-start-marker']
  - name: long
    cmdline: ['-cp x+ pe-long-marker$']
  - name: parent
    cmdline: ['pe-parent-marker']
  - exe: [pe-sleeper, pe-memfd]
  - name: "rewritten:{{.ExeBase}}"
    exe: ['pe-worker: worker process', '0']
  - name: "{{.ExeFull}}"
    exe: [/usr/bin/pe-nothing-here]
"""
# The groups the crafted processes make, with their counts (children on, then off).
CRAFTED_GROUPS = {
    'long': (1, 1),
    'parent': (2 * 4, 2 * 1),  # two copies: the marker, a sleep, a shell and its sleep
    'pe-sleeper': (2, 2),     # two copies: one started before the exporters, one after
    'rewritten:pe-worker: worker process': (1, 1),
    'rewritten:0': (1, 1),    # Go's filepath.Base of "pe-sshd: root@pts/0"
    'pe-memfd': (1, 1),       # a binary run from a memfd: its exe link is "/memfd:... (deleted)"
}

PARENT_SCRIPT = """
import subprocess, sys, time
children = [subprocess.Popen(['sleep', '600']), subprocess.Popen(['sh', '-c', 'sleep 600; :'])]
print('ready', flush=True)
time.sleep(600)
"""
MEMFD_SCRIPT = """
import os, shutil
fd = os.memfd_create('pe-memfd', 0)
with open(shutil.which('sleep'), 'rb') as binary:
    os.write(fd, binary.read())
os.execve(fd, ['pe-memfd', '600'], dict(os.environ))
"""
ZOMBIE_SCRIPT = """
import ctypes, os, sys, time
child = os.fork()
if child == 0:
    ctypes.CDLL(None).prctl(15, b'pe-zombie', 0, 0, 0)  # PR_SET_NAME
    os._exit(0)
print(child, flush=True)
time.sleep(600)  # never reaps it
"""


def group_counts(samples, metric):
    counts = {}
    for (name, labels), v in samples.items():
        if name == metric:
            group = dict(labels)['groupname']
            counts[group] = counts.get(group, 0) + int(v)
    return counts


def their_counts(process_exporter):
    return group_counts(process_exporter.samples(), 'namedprocess_namegroup_num_procs')


def our_counts(exporter):
    return group_counts(exporter.samples(), 'procevents_processes')


class Crafted:
    """Long-lived processes for both exporters to group; each in its own session, killed at the end."""

    def __init__(self, directory):
        self.directory = directory
        self.procs = []
        self.sleeper = os.path.join(directory, 'pe-sleeper')
        if not os.path.exists(self.sleeper):
            os.symlink(shutil.which('sleep'), self.sleeper)

    def start(self, *argv, wait_line=False):
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE if wait_line else subprocess.DEVNULL,
                                start_new_session=True, text=True)
        self.procs.append(proc)
        line = proc.stdout.readline().strip() if wait_line else None
        return proc, line

    def start_set(self, full):
        """One of each kind; `full` adds the ones that exist once (the second set is only a parent and a symlink)."""
        self.start(self.sleeper, '600')  # comm and argv[0] name the symlink; /proc/<pid>/exe the target
        self.start(sys.executable, '-c', PARENT_SCRIPT, 'pe-parent-marker', wait_line=True)
        if not full:
            return
        self.start('bash', '-c', 'exec -a "pe-worker: worker process" sleep 600')
        self.start('bash', '-c', 'exec -a "pe-sshd: root@pts/0" sleep 600')
        self.start(sys.executable, '-c', 'import time; time.sleep(600)', '-cp', 'x' * 7500, 'pe-long-marker')
        self.start(sys.executable, '-c', MEMFD_SCRIPT)
        self.pid_marker, _ = self.start(sys.executable, '-c', 'import time; time.sleep(600)', 'pe-pid-marker')
        self.start_marker, _ = self.start(sys.executable, '-c', 'import time; time.sleep(600)', 'pe-start-marker')
        time.sleep(0.3)  # the bash -c execs are done

    def stop(self):
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.procs.clear()


@pytest.fixture(scope='module')
def crafted():
    directory = tempfile.mkdtemp(prefix='procevents-pe-')
    processes = Crafted(directory)
    processes.start_set(full=True)
    yield processes
    processes.stop()
    shutil.rmtree(directory)


def host_processes():
    """[(pid, comm, state, argv[0])] of every process in /proc, for the record of a mismatch."""
    processes = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open('/proc/%s/stat' % entry) as f:
                    stat = f.read()
                with open('/proc/%s/cmdline' % entry, 'rb') as f:
                    argv0 = f.read().split(b'\0', 1)[0].decode(errors='replace')
                comm = stat[stat.index('(') + 1:stat.rindex(')')]
                processes.append((int(entry), comm, stat.rsplit(')', 1)[1].split()[0], argv0))
    return processes


def host_zombies():
    return sum(state == 'Z' for _, _, state, _ in host_processes())


def caught_up(ours):
    """Our counts once the aggregator has handled what was received (builds beside the test never let the
    event count stand still, as settled() waits for)."""
    ours.wait_for(lambda s: value(s, 'procevents_ring_used') == 0, what='an empty ring')
    return our_counts(ours)


def compare(ours, theirs, must_compare=(), rounds=5):
    """Compares both sides' groups over a few rounds of scrapes; returns (mismatches, compared groups).

    A host's own processes churn (builds beside the test), and the two scrapes of a round are not at the
    same instant: a group whose counts differ in one round may be caught mid-change. A grouping difference
    differs in every round, so that is a mismatch; the groups in must_compare must agree in every round."""
    caught_up(ours)
    their_counts(theirs)  # process-exporter reads /proc when scraped: a first scrape primes it
    samples = []
    for _ in range(rounds):
        time.sleep(0.7)
        caught_up(ours)
        # Both at once: a host's short-lived processes make counts taken moments apart differ.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            ours_round, theirs_round = pool.submit(our_counts, ours), pool.submit(their_counts, theirs)
            samples.append((ours_round.result(), theirs_round.result()))
    groups = {g for pair in samples for side in pair for g, n in side.items() if n > 0} - {'other'}
    agreeing = {g: sum(o.get(g, 0) == t.get(g, 0) for o, t in samples) for g in groups}
    ours_now, theirs_now = samples[-1]
    mismatches = {g: (ours_now.get(g, 0), theirs_now.get(g, 0)) for g, n in agreeing.items() if n == 0}
    unsteady = {g for g in must_compare if agreeing.get(g, 0) != rounds}
    assert not unsteady, 'crafted groups that differ or are absent: %s\nours %s\ntheirs %s' % (
        unsteady, ours_now, theirs_now)
    # process-exporter counts zombies (other than the test's own, there are none on a quiet host).
    zombies = host_zombies()
    if zombies:
        mismatches = {g: (o, t) for g, (o, t) in mismatches.items() if not 0 < t - o <= zombies}
    if mismatches:
        print('mismatches (procevents, process-exporter):', mismatches)
        print('host processes now:', [p for p in host_processes() if p[1] in mismatches or p[3] in mismatches])
    return mismatches, groups


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


@pytest.mark.parametrize('children', [True, False], ids=['children', 'no-children'])
def test_crafted_processes_group_the_same(crafted, children, start_exporter, tmp_path):
    config = write(tmp_path, 'crafted.yml', CRAFTED_CONFIG + 'children: %s\n' % ('true' if children else 'false'))
    with ProcessExporter(config, children=children) as theirs:
        ours = start_exporter('--config.file=' + config)
        # A second set, started while both run: ours learns it from events, process-exporter at its next scrape.
        later = Crafted(crafted.directory)
        try:
            later.start_set(full=False)
            expected = {g: counts[0 if children else 1] for g, counts in CRAFTED_GROUPS.items()}
            pid_group = 'pid-%d' % crafted.pid_marker.pid
            mismatches, compared = compare(ours, theirs, must_compare=set(expected) | {pid_group})
            now = our_counts(ours)
        finally:
            later.stop()
    assert not mismatches, 'group: (procevents, process-exporter): %s' % mismatches
    for group, count in expected.items():
        assert now.get(group) == count, (group, now)
    assert now.get(pid_group) == 1
    started = [g for g in compared if g.startswith('started-')]  # and equal on both sides, as compared
    assert len(started) == 1 and re.match(r'started-\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+$',
                                          started[0]), started


def test_the_builtin_grouping_is_process_exporters_usual_one(crafted, start_exporter, tmp_path):
    config = write(tmp_path, 'default.yml', DEFAULT_AS_FILE)
    with ProcessExporter(config) as theirs:
        ours = start_exporter()  # no --config.file: the built-in grouping
        mismatches, compared = compare(ours, theirs, must_compare={'pe-sleeper'})
        kernel_threads = [g for g in our_counts(ours) if g.startswith(('kworker', 'ksoftirqd', 'migration', 'rcu_'))]
    assert not mismatches, 'group: (procevents, process-exporter): %s' % mismatches
    assert not kernel_threads, 'kernel threads got groups of their own: %s' % kernel_threads


# Examples process-exporter can read as they are; the others use what only we have.
PORTABLE_EXAMPLES = ['interpreters.yaml', 'process-exporter-all.yaml', 'process-exporter-home.yaml',
                     'process-exporter-readme.yaml']
OWN_EXAMPLES = {'crashes-only.yaml': 'no process_names: the built-in grouping (compared above)',
                'services-by-unit.yaml': '{{.Unit}} and attribution labels'}


def test_every_example_is_accounted_for():
    assert sorted(os.listdir(EXAMPLES)) == sorted(PORTABLE_EXAMPLES + list(OWN_EXAMPLES))


@pytest.mark.parametrize('example', PORTABLE_EXAMPLES)
def test_examples_group_the_same(crafted, example, start_exporter):
    path = os.path.join(EXAMPLES, example)
    with ProcessExporter(path) as theirs:
        ours = start_exporter('--config.file=' + path)
        mismatches, compared = compare(ours, theirs)
    assert not mismatches, 'group: (procevents, process-exporter): %s' % mismatches
    assert compared, 'nothing was compared'


def test_zombies_present_at_startup_are_not_counted(start_exporter, tmp_path):
    """The documented difference: process-exporter counts a zombie until it is reaped; it has exited, we do
    not (and a zombie counted at start-up would stay counted forever: no exit event would ever come)."""
    maker = subprocess.Popen([sys.executable, '-c', ZOMBIE_SCRIPT, 'pe-zombie-parent'], stdout=subprocess.PIPE,
                             start_new_session=True, text=True)
    try:
        zombie = int(maker.stdout.readline())
        deadline = time.time() + 5
        while time.time() < deadline:
            with open('/proc/%d/stat' % zombie) as f:
                if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    break
            time.sleep(0.05)
        config = write(tmp_path, 'zombie.yml', "process_names:\n  - name: zparent\n    cmdline: ['pe-zombie-parent']\n"
                                                "  - name: zchild\n    comm: [pe-zombie]\n")
        with ProcessExporter(config) as theirs:
            ours = start_exporter('--config.file=' + config)
            settled(ours)
            theirs_now, ours_now = their_counts(theirs), our_counts(ours)
            assert (theirs_now.get('zparent'), theirs_now.get('zchild')) == (1, 1)
            assert (ours_now.get('zparent'), ours_now.get('zchild', 0)) == (1, 0)
            # The parent dies; init reaps the zombie: nothing of either stays counted.
            os.killpg(maker.pid, signal.SIGKILL)
            maker.wait()
            ours.wait_for(lambda s: our_counts(ours).get('zparent') == 0, what='the parent to leave')
            settled(ours)
            assert our_counts(ours).get('zchild', 0) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(maker.pid, signal.SIGKILL)
        maker.wait()
