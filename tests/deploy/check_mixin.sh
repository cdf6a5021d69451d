#!/usr/bin/env bash
# mixin/: formatted (jsonnetfmt); the files the repository ships (deploy/prometheus/procevents.rules.yml,
# deploy/kubernetes/prometheusrule.yaml, dashboards/procevents.json) are what it renders now; its YAML passes
# yamllint. Rendered with another job selector, nothing still names job="procevents", every job matcher is the
# configured one, and the rules pass promtool's checks and unit tests (the tests' job label adapted). The
# opt-in expectedPrograms alerts pass their own unit tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mixin="$root/mixin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
errors=0
error() {
  echo "mixin: $*" >&2
  errors=$((errors + 1))
}
shipped=(deploy/prometheus/procevents.rules.yml deploy/kubernetes/prometheusrule.yaml dashboards/procevents.json)

# Formatted as jsonnetfmt would.
for f in "$mixin"/*.jsonnet "$mixin"/*.libsonnet "$mixin"/lib/*.libsonnet; do
  jsonnetfmt --test "$f" || error "${f#"$root"/} is not formatted: jsonnetfmt -i ${f#"$root"/}"
done

# The shipped files are the default rendering.
bash "$mixin/render.sh" "$work/default"
for f in "${shipped[@]}"; do
  diff -u "$root/$f" "$work/default/$f" >&2 || error "$f differs from what mixin/ renders (diff above): run bash mixin/render.sh"
done
yamllint --strict -c "$here/yamllint.yml" "$work/default/deploy" || error 'rendered YAML fails yamllint (above)'

# Another job selector.
selector='job="node-procevents"'
bash "$mixin/render.sh" "$work/custom" "{procEventsSelector: '$selector', runbookBaseURL: 'https://runbooks.example/procevents/'}"
if grep -rn -e 'job="procevents"' -e 'job procevents' "$work/custom"; then
  error 'rendered with procEventsSelector '"$selector"', the lines above still name job procevents'
fi
python3 - "$work/custom" "$selector" <<'PY' || error 'job selector not applied (above)'
import json, os, re, sys
import yaml
out, selector = sys.argv[1:]
errors = []
rules = yaml.safe_load(open(os.path.join(out, 'deploy/prometheus/procevents.rules.yml')))
operator = yaml.safe_load(open(os.path.join(out, 'deploy/kubernetes/prometheusrule.yaml')))
if operator['spec']['groups'] != rules['groups']:
    errors.append('the PrometheusRule and the rules file differ')
dashboard = json.load(open(os.path.join(out, 'dashboards/procevents.json')))
exprs = [('rule %s' % (r.get('alert') or r.get('record')), r['expr']) for g in rules['groups'] for r in g['rules']]
exprs += [('panel %s' % p['id'], t['expr']) for p in dashboard['panels'] for t in p.get('targets', [])]
exprs += [('variable %s' % v['name'], v['query']['query']) for v in dashboard['templating']['list'] if v['type'] == 'query']
for where, expr in exprs:
    for matcher in re.findall(r'\bjob\s*[=!]~?\s*"[^"]*"', expr):
        if matcher.replace(' ', '') not in (selector, 'job=~"$job"'):
            errors.append('%s: %s is neither %s nor job=~"$job"' % (where, matcher, selector))
down = next(r for g in rules['groups'] for r in g['rules'] if r.get('alert') == 'ProceventsExporterDown')
if down['expr'] != 'up{%s} == 0 or absent(up{%s})' % (selector, selector):
    errors.append('ProceventsExporterDown does not watch up{%s}: %s' % (selector, down['expr']))
job = next(v for v in dashboard['templating']['list'] if v['name'] == 'job')
if job['query']['query'] != 'label_values(procevents_build_info{%s}, job)' % selector:
    errors.append('the job variable does not offer the jobs of %s: %s' % (selector, job['query']['query']))
for g in rules['groups']:
    for r in g['rules']:
        if 'alert' in r and not r['annotations']['runbook_url'].startswith('https://runbooks.example/procevents/docs/runbook.md#'):
            errors.append('%s: runbook_url %s ignores runbookBaseURL' % (r['alert'], r['annotations']['runbook_url']))
print('\n'.join(errors), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
# promtool: the rules, and their unit tests with the job renamed (rule_files resolve beside the test file).
promtool check rules "$work/custom/deploy/prometheus/procevents.rules.yml" >/dev/null || error 'promtool check rules fails (custom selector)'
sed -e 's/job="procevents"/job="node-procevents"/g' -e 's/job: procevents/job: node-procevents/g' \
    -e 's/(job procevents)/(job node-procevents)/g' -e 's#runbook_url: docs/#runbook_url: https://runbooks.example/procevents/docs/#' \
    "$root/deploy/prometheus/procevents.rules.test.yml" > "$work/custom/deploy/prometheus/procevents.rules.test.yml"
(cd "$work/custom/deploy/prometheus" && promtool test rules procevents.rules.test.yml >"$work/promtool-custom.txt" 2>&1) ||
  { cat "$work/promtool-custom.txt" >&2; error 'promtool unit tests fail with the custom selector (above)'; }

# The opt-in alert for programs that must be running.
bash "$mixin/render.sh" "$work/expected" \
  "{expectedPrograms: ['nginx', {groupname: 'sshd', 'for': '1m', severity: 'critical'}]}"
yamllint --strict -c "$here/yamllint.yml" "$work/expected/deploy" || error 'rendered YAML with expectedPrograms fails yamllint (above)'
cp "$here/expected_programs.rules.test.yml" "$work/expected/deploy/prometheus/"
(cd "$work/expected/deploy/prometheus" && promtool check rules procevents.rules.yml >/dev/null &&
  promtool test rules expected_programs.rules.test.yml >"$work/promtool-expected.txt" 2>&1) ||
  { cat "$work/promtool-expected.txt" >&2; error 'expectedPrograms: promtool check or unit tests fail (above)'; }

[[ $errors -eq 0 ]] || exit 1
echo "mixin OK: the shipped files are its rendering; another job selector renders everywhere and passes promtool's tests"
