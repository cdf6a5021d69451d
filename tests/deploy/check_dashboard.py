#!/usr/bin/env python3
"""Structural checks of dashboards/procevents.json: portable datasource, unique ids, known metrics."""
import json
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
raw = open(os.path.join(root, 'dashboards', 'procevents.json')).read()
d = json.loads(raw)
errors = []
if '${DS_' in raw or '__inputs' in d:
    errors.append('uses __inputs/${DS_...}: breaks file provisioning')
if not d.get('uid') or d.get('id') is not None:
    errors.append('needs a stable uid and "id": null')
names = [v['name'] for v in d['templating']['list']]
for wanted in ('datasource', 'instance', 'groupname'):
    if wanted not in names:
        errors.append('missing template variable ' + wanted)
ids = [p['id'] for p in d['panels']]
if len(ids) != len(set(ids)):
    errors.append('duplicate panel ids')

# Every metric an expression uses must be one the exporter defines.
metrics_dir = os.path.join(root, 'exporter', 'metrics')
source = ''.join(open(os.path.join(metrics_dir, f)).read() for f in sorted(os.listdir(metrics_dir)) if f.endswith('.cpp'))
known = set(re.findall(r'"(procevents_[a-z_]+)"', source)) | set(re.findall(r'"(process_[a-z_]+)"', source))
known |= {n + s for n in list(known) for s in ('_bucket', '_sum', '_count')}
for p in d['panels']:
    if p['type'] == 'row':
        continue
    if 'gridPos' not in p:
        errors.append('panel %s has no gridPos' % p['id'])
    if p.get('datasource') != {'type': 'prometheus', 'uid': '${datasource}'}:
        errors.append('panel %s does not use ${datasource}' % p['id'])
    for target in p.get('targets', []):
        if target.get('datasource') != {'type': 'prometheus', 'uid': '${datasource}'}:
            errors.append('panel %s target does not use ${datasource}' % p['id'])
        for metric in re.findall(r'\b((?:procevents|process)_[a-z_]+)\b', target['expr']):
            if metric not in known:
                errors.append('panel %s uses unknown metric %s' % (p['id'], metric))
if errors:
    print('\n'.join(errors))
    sys.exit(1)
print('dashboard OK: %d panels' % len(ids))
