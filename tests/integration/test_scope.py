"""`scope:` against the live kernel: a scratch cgroup subtree shaped like a Kubernetes pod (two container
scopes, systemd driver) and a workload outside it. With the scope on the pod, the pod's programs are counted
exactly (long-lived, exiting at once, forking children, one moved in after start; one moved out stops being
counted) and no series names the outside workload; `own_pod` finds the pod of an exporter started inside one
of the container scopes."""
import os
import subprocess
import time

import pytest

from harness import BINARY, CGROUP_ROOT, Exporter, inside_cgroup, scratch_cgroups, settled, total, value
from test_exporter import Workload

POD_UID = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f70819'
POD = ('kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice' % POD_UID.replace('-', '_'))
CONTAINER_A = POD + '/cri-containerd-%s.scope' % ('a7' * 32)
CONTAINER_B = POD + '/cri-containerd-%s.scope' % ('b8' * 32)
OUTSIDE = 'procevents-outside.slice/tenant.service'


@pytest.fixture
def workloads():
    made = []
    def make():
        made.append(Workload())
        return made[-1]
    yield make
    for workload in made:
        workload.cleanup()


def spawn_in(procs, workload, *args):
    """Starts `workload` with `args` inside the cgroup of `procs` (the child starts where its parent is)."""
    with inside_cgroup(procs):
        return subprocess.Popen([workload.path] + [str(a) for a in args])


def move(pid, procs):
    with open(procs, 'w') as f:
        f.write(str(pid))


def stop(*procs):
    for proc in procs:
        proc.kill()
        proc.wait()


def test_scope_counts_the_pod_only(config_file, workloads):
    long_lived, at_once, forker, mover, leaver, outsider = (workloads() for _ in range(6))
    config = config_file('scope: /%s\n' % POD)
    with scratch_cgroups(CONTAINER_A, CONTAINER_B, OUTSIDE) as (procs_a, procs_b, procs_out):
        # Started outside the pod before the exporter: moved in later.
        late = subprocess.Popen([mover.path, 'sleep', '60000'])
        # Started inside before the exporter: found at start, moved out later.
        leaving = spawn_in(procs_a, leaver, 'sleep', 60000)
        with Exporter(BINARY, '--config.file=' + config) as exporter:
            assert 'counting only the processes of one cgroup subtree' in exporter.log()
            resident = spawn_in(procs_a, long_lived, 'sleep', 60000)
            outside = spawn_in(procs_out, outsider, 'sleep', 60000)
            with inside_cgroup(procs_b):
                for _ in range(5):
                    at_once.run('exit', 0, check_code=0)
                forker.run('forks', 7, check_code=0)
            with inside_cgroup(procs_out):
                for _ in range(4):
                    outsider.run('exit', 0, check_code=0)
                outsider.run('forks', 7, check_code=0)
            for _ in range(3):
                outsider.run('exit', 1)  # in no cgroup of ours either
            exporter.wait_for(lambda s: value(s, 'procevents_exits_total', groupname=at_once.name,
                                              outcome='success') >= 5, what='exits in the pod')
            move(late.pid, procs_b)
            move(leaving.pid, procs_out)
            # The re-check (every 5 s) finds both without any event.
            s = exporter.wait_for(lambda s: value(s, 'procevents_processes', groupname=mover.name) == 1 and
                                  value(s, 'procevents_processes', groupname=leaver.name) == 0,
                                  timeout=20, what='the moved processes re-checked')
            s = settled(exporter)
            assert value(s, 'procevents_processes', groupname=long_lived.name) == 1
            assert value(s, 'procevents_execs_total', groupname=at_once.name) == 5
            assert value(s, 'procevents_exits_total', groupname=at_once.name, outcome='success') == 5
            assert value(s, 'procevents_execs_total', groupname=forker.name) == 1
            assert value(s, 'procevents_forks_total', groupname=forker.name, kind='process') == 7
            # the forker and its 7 children
            assert value(s, 'procevents_exits_total', groupname=forker.name, outcome='success') == 8
            text = exporter.scrape()
            assert outsider.name not in text, 'a series names the workload outside the scope'
            # Health stays host-wide: the socket saw the outside workload's events too.
            assert total(s, 'procevents_events_total', event='exec') >= 5 + 1 + 4 + 1 + 3
            stop(resident, outside)
            s = exporter.wait_for(lambda s: value(s, 'procevents_processes', groupname=long_lived.name) == 0,
                                  what='the long-lived process gone')
            assert value(s, 'procevents_exits_total', groupname=long_lived.name, outcome='signal') == 1
            assert outsider.name not in exporter.scrape()
        stop(late, leaving)


def test_own_pod_finds_the_pod_of_its_container(config_file, workloads):
    probe = workloads()
    config = config_file('scope: own_pod\n')
    with scratch_cgroups(CONTAINER_A, CONTAINER_B, OUTSIDE) as (procs_a, procs_b, procs_out):
        # The exporter starts inside container A, as a sidecar does.
        with inside_cgroup(procs_a):
            exporter = Exporter(BINARY, '--config.file=' + config).__enter__()
        try:
            assert ('/' + POD) in exporter.log(), exporter.log()
            with inside_cgroup(procs_b):  # the pod's other container
                probe.run('exit', 0, check_code=0)
            with inside_cgroup(procs_out):
                probe.run('exit', 0, check_code=0)
            probe.run('exit', 0, check_code=0)
            exporter.wait_for(lambda s: value(s, 'procevents_execs_total', groupname=probe.name) >= 1,
                              what='the exec in the pod')
            s = settled(exporter)
            assert value(s, 'procevents_execs_total', groupname=probe.name) == 1
        finally:
            exporter.__exit__(None, None, None)


def test_own_pod_outside_a_pod_is_an_error_at_start(config_file):
    config = config_file('scope: own_pod\n')
    result = subprocess.run([BINARY, '--config.file=' + config, '--web.listen-address=127.0.0.1:0'],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert 'not in a Kubernetes pod' in result.stderr
