"""Kubernetes names without the API server: processes in kubepods-shaped scratch cgroups (both cgroup
drivers, each runtime's scope name) are labelled with the namespace, pod and container that the kubelet's
log directories, laid out in a scratch directory and passed with --path.pod-logs and
--path.container-logs, give for the cgroup's pod UID and container ID.

Run by ctest (one entry per test) with PROCEVENTS_BINARY and PROCEVENTS_WORKLOAD set.
"""
import os
import random
import shutil
import string
import subprocess
import tempfile

from harness import BINARY, Exporter, WORKLOAD, inside_cgroup, scratch_cgroups, value


def unique_name(prefix='pk'):
    return prefix + ''.join(random.choice(string.ascii_lowercase) for _ in range(8))


def random_hex(n):
    return ''.join(random.choice('0123456789abcdef') for _ in range(n))


def random_uid():
    h = random_hex(32)
    return '%s-%s-%s-%s-%s' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


# Where each runtime puts a container, under each driver: (driver, runtime) -> cgroup path of (uid, id).
LAYOUTS = {
    ('systemd', 'containerd'): lambda uid, cid: 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/'
                                                'cri-containerd-%s.scope' % (uid.replace('-', '_'), cid),
    ('systemd', 'crio'): lambda uid, cid: 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/'
                                          'crio-%s.scope' % (uid.replace('-', '_'), cid),
    ('systemd', 'docker'): lambda uid, cid: 'kubepods.slice/kubepods-pod%s.slice/docker-%s.scope'
                                            % (uid.replace('-', '_'), cid),
    ('cgroupfs', 'containerd'): lambda uid, cid: 'kubepods/burstable/pod%s/%s' % (uid, cid),
    ('cgroupfs', 'crio'): lambda uid, cid: 'kubepods/besteffort/pod%s/crio-%s' % (uid, cid),
    ('cgroupfs', 'docker'): lambda uid, cid: 'kubepods/pod%s/%s' % (uid, cid),
}


class Kubelet:
    """The kubelet's two log directories in a scratch directory."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='procevents-kubelet-')
        self.pod_logs = os.path.join(self.root, 'pods')
        self.container_logs = os.path.join(self.root, 'containers')
        os.makedirs(self.pod_logs)
        os.makedirs(self.container_logs)

    def flags(self):
        return ['--path.pod-logs=' + self.pod_logs, '--path.container-logs=' + self.container_logs]

    def start(self, pod):
        """Creates what the kubelet creates before a container's first process runs."""
        os.makedirs(os.path.join(self.pod_logs, '%s_%s_%s' % (pod['namespace'], pod['pod'], pod['uid']),
                                 pod['container']), exist_ok=True)
        link = os.path.join(self.container_logs, '%s_%s_%s-%s.log' % (pod['pod'], pod['namespace'],
                                                                       pod['container'], pod['id']))
        os.symlink(os.path.join(self.pod_logs, 'gone', '0.log'), link)  # a link, dangling here: only its name counts

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def make_pods():
    pods = []
    for (driver, runtime), layout in LAYOUTS.items():
        uid, cid = random_uid(), random_hex(64)
        pods.append(dict(driver=driver, runtime=runtime, uid=uid, id=cid, cgroup=layout(uid, cid),
                         namespace='ns-%s-%s' % (driver, runtime), pod='web-%s.%s-0' % (driver, runtime),
                         container='app-' + runtime))
    return pods


def test_pods_named_from_kubelet_directories(config_file):
    """Half the pods exist before the exporter starts, half appear after it did; every workload exits at
    once (named from its exit record, labelled by its parent's cgroup) and one sleeps (read from /proc).
    A process in the pod's cgroup with no container log (the sandbox) gets namespace and pod only."""
    pods = make_pods()
    sandbox = dict(pods[0], cgroup=pods[0]['cgroup'].rsplit('/', 1)[0] + '/sandbox-pause-x')
    name = unique_name()
    workdir = tempfile.mkdtemp(prefix='procevents-')
    binary = os.path.join(workdir, name)
    shutil.copy(WORKLOAD, binary)
    kubelet = Kubelet()
    config = config_file('attribution: [namespace, pod, container, pod_uid]\n')
    try:
        for pod in pods[::2]:
            kubelet.start(pod)
        with scratch_cgroups(*[p['cgroup'] for p in pods] + [sandbox['cgroup']]) as procs_files:
            with Exporter(BINARY, '--config.file=' + config, *kubelet.flags()) as exporter:
                for pod in pods[1::2]:
                    kubelet.start(pod)  # after the exporter started
                for pod, procs in zip(pods, procs_files):
                    # The parent (this process) stays in the cgroup while its children run, as a
                    # container's main process does: a child that exits at once is labelled by it.
                    with inside_cgroup(procs):
                        subprocess.run([binary, 'exit', '0'], check=True)
                        subprocess.run([binary, 'sleep', '50'], check=True)
                with inside_cgroup(procs_files[-1]):
                    subprocess.run([binary, 'exit', '0'], check=True)
                    subprocess.run([binary, 'sleep', '50'], check=True)

                def named(s, pod):
                    return value(s, 'procevents_execs_total', groupname=name, namespace=pod['namespace'],
                                 pod=pod['pod'], container=pod['container'], pod_uid=pod['uid'])

                def all_there(s):
                    return all(named(s, pod) == 2 for pod in pods) and \
                        value(s, 'procevents_execs_total', groupname=name, namespace=sandbox['namespace'],
                              pod=sandbox['pod'], container='') == 2
                s = exporter.wait_for(all_there, what='execs labelled with namespace, pod and container')
                for label in ('namespace', 'pod', 'container'):
                    assert value(s, 'procevents_attribution_overflows_total', label=label) == 0
    finally:
        kubelet.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def test_missing_kubelet_directories_leave_names_empty(config_file):
    """Without the kubelet's directories (not Kubernetes, or not mounted) the labels are empty and
    nothing fails; the pod UID still comes from the cgroup."""
    uid, cid = random_uid(), random_hex(64)
    cgroup = LAYOUTS[('systemd', 'containerd')](uid, cid)
    name = unique_name()
    workdir = tempfile.mkdtemp(prefix='procevents-')
    binary = os.path.join(workdir, name)
    shutil.copy(WORKLOAD, binary)
    config = config_file('attribution: [namespace, pod, container, pod_uid]\n')
    try:
        with scratch_cgroups(cgroup) as procs_files:
            with Exporter(BINARY, '--config.file=' + config, '--path.pod-logs=/nonexistent/pods',
                          '--path.container-logs=/nonexistent/containers') as exporter:
                with inside_cgroup(procs_files[0]):
                    subprocess.run([binary, 'exit', '0'], check=True)
                exporter.wait_for(lambda s: value(s, 'procevents_execs_total', groupname=name, pod_uid=uid,
                                                  namespace='', pod='', container='') == 1,
                                  what='an exec with a pod UID and no names')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
