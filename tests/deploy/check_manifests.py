#!/usr/bin/env python3
"""The fields of deploy/kubernetes that decide whether the exporter works, checked against the exporter's
own defaults (read from its source): host namespaces, capabilities, probes, ports, names, config path.

  python3 tests/deploy/check_manifests.py [--configmap-out FILE]

--configmap-out writes the ConfigMap's procevents.yml to FILE, for the config loader check.
"""
import argparse
import glob
import os
import re
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
KUBE = os.path.join(ROOT, 'deploy', 'kubernetes')
errors = []


def check(condition, message):
    if not condition:
        errors.append(message)
    return condition


def exporter_defaults():
    """(port, telemetry path, health path, config path) as the exporter's source and image define them."""
    flags = open(os.path.join(ROOT, 'exporter', 'app', 'flags.h')).read()
    listen = re.search(r'kDefaultListenAddress = "[^":]*:(\d+)"', flags)
    telemetry = re.search(r'std::string telemetry_path = "([^"]+)"', flags)
    http = open(os.path.join(ROOT, 'exporter', 'http', 'http_server.h')).read()
    health = re.search(r'GET (/healthz)\s', http)
    dockerfile = open(os.path.join(ROOT, 'Dockerfile')).read()
    config = re.search(r'--config\.file=(/etc/\S+?\.yml)', dockerfile)
    if not (listen and telemetry and health and config):
        sys.exit('cannot find the exporter defaults (flags.h kDefaultListenAddress/telemetry_path, http_server.h '
                 '/healthz, Dockerfile --config.file): update check_manifests.py')
    return int(listen.group(1)), telemetry.group(1), health.group(1), config.group(1)


def project_version():
    """The one version source: project(... VERSION x.y.z) in CMakeLists.txt."""
    cmake = open(os.path.join(ROOT, 'CMakeLists.txt')).read()
    return re.search(r'project\(procevents_exporter VERSION (\S+?)[ )]', cmake).group(1)


def load(name):
    docs = [d for d in yaml.safe_load_all(open(os.path.join(KUBE, name))) if d]
    return docs


def container_port(container, port):
    """A probe's port (number or name) as a number."""
    if isinstance(port, int):
        return port
    return next((p['containerPort'] for p in container.get('ports', []) if p.get('name') == port), None)


def check_host_namespaces(kind, spec):
    check(spec.get('hostNetwork') is True, '%s: hostNetwork: true (the connector exists only in the host netns)' % kind)
    check(spec.get('hostPID') is True, '%s: hostPID: true (subscriptions from other PID namespaces are ignored)' % kind)
    check(spec.get('hostUsers', True) is True, '%s: no user namespace (hostUsers: false makes the kernel ignore it)' % kind)
    check(spec.get('dnsPolicy') == 'ClusterFirstWithHostNet', '%s: dnsPolicy ClusterFirstWithHostNet with hostNetwork' % kind)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--configmap-out')
    args = parser.parse_args()
    port, telemetry, health, config_path = exporter_defaults()
    config_dir, config_file = os.path.split(config_path)

    kust = yaml.safe_load(open(os.path.join(KUBE, 'kustomization.yaml')))
    resources = kust['resources']
    for name in resources:
        check(os.path.exists(os.path.join(KUBE, name)), 'kustomization lists a missing file: %s' % name)
    check('sidecar-example.yaml' not in resources, 'the sidecar example must not be part of the kustomization')
    listed = sorted(os.path.basename(p) for p in glob.glob(os.path.join(KUBE, '*.yaml')))
    for name in listed:
        if name not in resources and name not in ('kustomization.yaml', 'sidecar-example.yaml'):
            errors.append('%s is neither in the kustomization nor an example' % name)

    objects = {}
    for name in resources:
        for doc in load(name):
            check(doc['kind'] not in objects, 'two %s objects' % doc['kind'])
            objects[doc['kind']] = doc
    for kind in ('Namespace', 'ConfigMap', 'DaemonSet', 'Service', 'PodMonitor', 'PrometheusRule'):
        if not check(kind in objects, 'the kustomization has no %s' % kind):
            return
    namespace = objects['Namespace']['metadata']['name']
    check(kust.get('namespace') == namespace, 'kustomization namespace must be %s' % namespace)
    for kind, obj in objects.items():
        if kind != 'Namespace':
            check(obj['metadata'].get('namespace') == namespace, '%s must be in namespace %s' % (kind, namespace))
    check(objects['Namespace']['metadata'].get('labels', {}).get('pod-security.kubernetes.io/enforce') == 'privileged',
          'Namespace: pod-security.kubernetes.io/enforce: privileged (host namespaces break baseline)')

    # DaemonSet.
    ds = objects['DaemonSet']
    pod = ds['spec']['template']
    spec = pod['spec']
    pod_labels = pod['metadata']['labels']
    check(ds['spec']['selector']['matchLabels'].items() <= pod_labels.items(), 'DaemonSet selector must match its pod labels')
    check_host_namespaces('DaemonSet', spec)
    check(any(t.get('operator') == 'Exists' and 'key' not in t and 'effect' not in t for t in spec.get('tolerations', [])),
          'DaemonSet: a toleration {operator: Exists} so it runs on every node')
    containers = spec['containers']
    check(len(containers) == 1, 'DaemonSet: one container')
    c = containers[0]
    check(c['image'].split(':')[0].split('/')[-1] == 'procevents_exporter', 'DaemonSet: image procevents_exporter')
    version = project_version()
    dockerfile = open(os.path.join(ROOT, 'Dockerfile')).read()
    docker_version = re.search(r'^ARG VERSION=(\S+)$', dockerfile, re.M)
    check(docker_version and docker_version.group(1) == version,
          'Dockerfile: ARG VERSION (the org.opencontainers.image.version label) must be the project version %s' % version)
    check('x86_64' not in dockerfile and 'amd64' not in dockerfile, 'Dockerfile: no architecture in paths')
    check(c['image'].endswith(':' + version), 'DaemonSet: image tag pinned to the project version %s, not %s' % (version, c['image']))
    tags = [i.get('newTag') for i in kust.get('images', []) if i.get('name') == 'procevents_exporter']
    check(tags == [version], 'kustomization: images newTag must be the project version %s, not %s' % (version, tags))
    check(spec.get('nodeSelector', {}).get('kubernetes.io/os') == 'linux',
          'DaemonSet: nodeSelector kubernetes.io/os: linux (the connector is Linux only)')
    sc = c.get('securityContext', {})
    check(sc.get('runAsUser') == 0, 'DaemonSet: runAsUser: 0')
    check(sc.get('privileged') is not True, 'DaemonSet: must not be privileged (NET_ADMIN is enough)')
    check(sc.get('allowPrivilegeEscalation') is False, 'DaemonSet: allowPrivilegeEscalation: false')
    check(sc.get('readOnlyRootFilesystem') is True, 'DaemonSet: readOnlyRootFilesystem: true')
    caps = sc.get('capabilities', {})
    check(caps.get('drop') == ['ALL'], 'DaemonSet: capabilities drop [ALL]')
    check(caps.get('add') == ['NET_ADMIN'], 'DaemonSet: capabilities add exactly [NET_ADMIN]')
    ports = {p['name']: p for p in c.get('ports', [])}
    check('metrics' in ports and ports['metrics']['containerPort'] == port, 'DaemonSet: container port "metrics" = %d' % port)
    if 'metrics' in ports and 'hostPort' in ports['metrics']:
        check(ports['metrics']['hostPort'] == port, 'DaemonSet: hostPort must equal containerPort with hostNetwork')
    listen = [a.split('=', 1)[1] for a in c.get('args', []) if a.startswith('--web.listen-address=')]
    check(all(a.rsplit(':', 1)[1] == str(port) for a in listen), 'DaemonSet: --web.listen-address must use port %d' % port)
    check(not any(a.startswith('--web.telemetry-path') for a in c.get('args', [])), 'DaemonSet: keep the default telemetry path')
    for probe in ('readinessProbe', 'livenessProbe'):
        get = c.get(probe, {}).get('httpGet')
        if check(get, 'DaemonSet: %s must be an httpGet' % probe):
            check(get.get('path') == health, 'DaemonSet: %s path must be %s' % (probe, health))
            check(container_port(c, get.get('port')) == port, 'DaemonSet: %s port must be %d' % (probe, port))
            check(get.get('scheme', 'HTTP') == 'HTTP', 'DaemonSet: %s over HTTP (no web config in the ConfigMap)' % probe)
    res = c.get('resources', {})
    check(res.get('requests', {}).get('cpu') and res.get('requests', {}).get('memory'), 'DaemonSet: cpu and memory requests')
    check(res.get('limits', {}).get('memory'), 'DaemonSet: a memory limit')
    check('cpu' not in res.get('limits', {}), 'DaemonSet: no CPU limit (throttling the receiver loses events)')

    # Config: --config.file -> volume mount -> ConfigMap key.
    cm = objects['ConfigMap']
    config_args = [a.split('=', 1)[1] for a in c.get('args', []) if a.startswith('--config.file=')]
    check(config_args == [config_path], 'DaemonSet: --config.file=%s (the image default path)' % config_path)
    mounts = {m['mountPath']: m['name'] for m in c.get('volumeMounts', [])}
    volume = next((v for v in spec.get('volumes', []) if v['name'] == mounts.get(config_dir)), None)
    if check(volume and 'configMap' in volume, 'DaemonSet: a configMap volume mounted at %s' % config_dir):
        check(volume['configMap']['name'] == cm['metadata']['name'], 'DaemonSet: the config volume must use %s' % cm['metadata']['name'])
        check(config_file in cm.get('data', {}), 'ConfigMap: needs the key %s' % config_file)
    if args.configmap_out and config_file in cm.get('data', {}):
        with open(args.configmap_out, 'w') as f:
            f.write(cm['data'][config_file])

    # Service and PodMonitor reach the same pods through the port's name.
    svc = objects['Service']
    check(svc['spec'].get('clusterIP') == 'None', 'Service: headless (clusterIP: None)')
    check(svc['spec']['selector'].items() <= pod_labels.items(), 'Service: selector must match the DaemonSet pods')
    sp = svc['spec']['ports']
    check(len(sp) == 1 and sp[0].get('name') == 'metrics' and sp[0].get('port') == port
          and sp[0].get('targetPort') in ('metrics', port), 'Service: port "metrics" %d -> the container port' % port)
    pm = objects['PodMonitor']
    check(pm['spec']['selector']['matchLabels'].items() <= pod_labels.items(), 'PodMonitor: selector must match the DaemonSet pods')
    endpoints = pm['spec']['podMetricsEndpoints']
    check(len(endpoints) == 1, 'PodMonitor: one endpoint')
    ep = endpoints[0]
    check(ep.get('port') == 'metrics' and 'metrics' in ports, 'PodMonitor: port must be the container port name "metrics"')
    check(ep.get('path', '/metrics') == telemetry, 'PodMonitor: path must be %s' % telemetry)
    check(any(r.get('targetLabel') == 'job' and r.get('replacement') == 'procevents' for r in ep.get('relabelings', [])),
          'PodMonitor: relabel job to "procevents" (the rules and the dashboard use job="procevents")')

    # The PrometheusRule carries the rules file's groups unchanged (both are rendered from mixin/;
    # deploy.mixin compares the text with a fresh rendering, this compares the meaning).
    rules = yaml.safe_load(open(os.path.join(ROOT, 'deploy', 'prometheus', 'procevents.rules.yml')))
    check(objects['PrometheusRule']['spec'].get('groups') == rules['groups'],
          'PrometheusRule: spec.groups differ from deploy/prometheus/procevents.rules.yml: '
          'run bash mixin/render.sh')

    # The sidecar example: same namespaces, and probes on its own listen address.
    sidecar = load('sidecar-example.yaml')[0]
    sspec = sidecar['spec']
    check_host_namespaces('sidecar example', sspec)
    exporter = next((x for x in sspec['containers'] if x['image'].split(':')[0].split('/')[-1] == 'procevents_exporter'), None)
    if check(exporter, 'sidecar example: no procevents_exporter container'):
        check(exporter.get('securityContext', {}).get('privileged') is True, 'sidecar example: the privileged variant')
        check(exporter['image'].endswith(':' + version), 'sidecar example: image tag pinned to %s' % version)
        listen = [a.split('=', 1)[1] for a in exporter.get('args', []) if a.startswith('--web.listen-address=')]
        address = listen[0] if listen else ':%d' % port
        host, _, sport = address.rpartition(':')
        url = 'http://%s:%s%s' % (host or '127.0.0.1', sport, health)
        for probe in ('readinessProbe', 'livenessProbe'):
            command = exporter.get(probe, {}).get('exec', {}).get('command', [])
            check(command[-1:] == ['--healthcheck=' + url], 'sidecar example: %s must run --healthcheck=%s' % (probe, url))

    if errors:
        print('\n'.join(errors))
        sys.exit(1)
    print('manifests OK: DaemonSet, Service, PodMonitor, PrometheusRule, Namespace, ConfigMap and the sidecar example agree with the '
          'exporter (port %d, %s, %s, %s)' % (port, telemetry, health, config_path))


if __name__ == '__main__':
    main()
