#!/usr/bin/env python3
"""yamllint plus the fields that make the exporter work: host namespaces, NET_ADMIN, probes on the
exporter's default port and health path."""
import glob
import os
import subprocess
import sys

import yaml

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, '..', '..')
files = sorted(glob.glob(os.path.join(root, 'deploy', '**', '*.y*ml'), recursive=True))
lint = subprocess.run(['yamllint', '-c', os.path.join(here, 'yamllint.yml')] + files, capture_output=True, text=True)
errors = [lint.stdout.strip()] if lint.returncode else []

# The exporter's defaults, from the source.
flags = open(os.path.join(root, 'exporter', 'app', 'flags.h')).read()
assert 'kDefaultListenAddress = ":9662"' in flags, 'default port changed: update the manifests and this test'
port, health = 9662, '/healthz'

docs = {}
for path in glob.glob(os.path.join(root, 'deploy', 'kubernetes', '*.yaml')):
    for doc in yaml.safe_load_all(open(path)):
        if doc:
            docs[(doc['kind'], os.path.basename(path))] = doc

ds = next(d for (k, _), d in docs.items() if k == 'DaemonSet')
spec = ds['spec']['template']['spec']
if not spec.get('hostNetwork'):
    errors.append('DaemonSet needs hostNetwork: true (the connector lives in the host netns)')
if not spec.get('hostPID'):
    errors.append('DaemonSet needs hostPID: true (subscriptions from other PID namespaces are ignored)')
if spec.get('hostUsers') is False:
    errors.append('DaemonSet must not use a user namespace')
if not any(t.get('operator') == 'Exists' for t in spec.get('tolerations', [])):
    errors.append('DaemonSet should tolerate every taint')
c = spec['containers'][0]
sc = c['securityContext']
if sc.get('privileged'):
    errors.append('DaemonSet must not be privileged')
if sc['capabilities'].get('drop') != ['ALL'] or sc['capabilities'].get('add') != ['NET_ADMIN']:
    errors.append('capabilities must be drop ALL, add NET_ADMIN')
for probe in ('readinessProbe', 'livenessProbe'):
    get = c[probe]['httpGet']
    if get['path'] != health or get['port'] != port:
        errors.append('%s must GET %s on %d' % (probe, health, port))
ports = {p['name']: p['containerPort'] for p in c['ports']}
if ports.get('metrics') != port:
    errors.append('container port "metrics" must be %d' % port)
if '--web.listen-address=:%d' % port not in c.get('args', []):
    errors.append('args must listen on :%d' % port)
svc = next(d for (k, _), d in docs.items() if k == 'Service')
if svc['spec']['ports'][0]['name'] != 'metrics' or svc['spec']['ports'][0]['port'] != port:
    errors.append('Service port must be metrics/%d' % port)
pm = next(d for (k, _), d in docs.items() if k == 'PodMonitor')
if pm['spec']['podMetricsEndpoints'][0]['port'] != 'metrics':
    errors.append('PodMonitor must scrape the "metrics" port')
ns = next(d for (k, _), d in docs.items() if k == 'Namespace')
if ns['metadata']['labels'].get('pod-security.kubernetes.io/enforce') != 'privileged':
    errors.append('namespace must allow the privileged Pod Security level')
kust = yaml.safe_load(open(os.path.join(root, 'deploy', 'kubernetes', 'kustomization.yaml')))
for r in kust['resources']:
    if not os.path.exists(os.path.join(root, 'deploy', 'kubernetes', r)):
        errors.append('kustomization lists missing ' + r)
if errors:
    print('\n'.join(errors))
    sys.exit(1)
print('manifests OK: %d files' % len(files))
