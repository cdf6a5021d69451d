#!/usr/bin/env bash
# deploy/prometheus: the scrape config (and its commented Kubernetes example) and the rules are valid for
# promtool; the unit tests pass, and every alert has a test where it fires and one where it stays silent;
# the rules use only catalogued metrics and labels, in the shape the end-to-end probes need.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$here/../../deploy/prometheus" && pwd)
cd "$dir"

promtool check config prometheus.yml

# The commented kubernetes_sd_configs job, uncommented in place of the static one.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  printf 'scrape_configs:\n'
  sed -n '/^  # - job_name: procevents$/,$p' prometheus.yml | sed 's/^  # \{0,1\}/  /'
} > "$work/kubernetes.yml"
grep -q kubernetes_sd_configs "$work/kubernetes.yml" || { echo "prometheus.yml: the kubernetes_sd example is missing" >&2; exit 1; }
printf 'scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: pod\n' > "$work/probe.yml"
if promtool check config --syntax-only "$work/probe.yml" >/dev/null 2>&1; then
  promtool check config --syntax-only "$work/kubernetes.yml"
else
  # Debian builds Prometheus without Kubernetes discovery, so its promtool rejects the key itself:
  # check the fields that matter and that the relabel regexes compile (RE2 and Python agree on these).
  echo "promtool here lacks kubernetes_sd_configs (Debian build); checking the example's structure instead"
  python3 - "$work/kubernetes.yml" <<'EOF'
import re, sys, yaml
job = yaml.safe_load(open(sys.argv[1]))['scrape_configs'][0]
assert job['job_name'] == 'procevents', 'the rules and dashboard expect job="procevents"'
assert set(job) <= {'job_name', 'kubernetes_sd_configs', 'relabel_configs'}, set(job)
sd = job['kubernetes_sd_configs'][0]
assert sd['role'] == 'pod' and sd['namespaces']['names'] == ['procevents'], sd
for relabel in job['relabel_configs']:
    assert set(relabel) <= {'source_labels', 'regex', 'action', 'target_label'}, relabel
    assert relabel.get('action', 'replace') in ('keep', 'replace'), relabel
    assert all(l.startswith('__meta_kubernetes_pod_') for l in relabel['source_labels']), relabel
    re.compile(relabel.get('regex', '(.*)'))
keeps = {r['source_labels'][0]: r['regex'] for r in job['relabel_configs'] if r.get('action') == 'keep'}
assert keeps == {'__meta_kubernetes_pod_label_app_kubernetes_io_name': 'procevents-exporter',
                 '__meta_kubernetes_pod_container_port_name': 'metrics'}, keeps
print('kubernetes_sd example OK (structure)')
EOF
fi

promtool check rules procevents.rules.yml
promtool test rules procevents.rules.test.yml

python3 - procevents.rules.yml procevents.rules.test.yml <<'EOF'
import sys
import yaml
rules, tests = (yaml.safe_load(open(p)) for p in sys.argv[1:])
alerts = [r['alert'] for g in rules['groups'] for r in g['rules'] if 'alert' in r]
fires, silent = set(), set()
for test in tests['tests']:
    for case in test.get('alert_rule_test', []):
        (fires if case.get('exp_alerts') else silent).add(case['alertname'])
missing = ['%s has no test where it %s' % (a, what) for a in alerts
           for what, seen in (('fires', fires), ('stays silent', silent)) if a not in seen]
unknown = sorted((fires | silent) - set(alerts))
if missing or unknown:
    print('\n'.join(missing + ['tests name an unknown alert: %s' % u for u in unknown]))
    sys.exit(1)
print('every alert (%d) has a firing and a silent unit test' % len(alerts))
EOF

python3 "$here/check_catalogue.py" rules
echo "rules OK"
