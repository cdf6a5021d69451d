#!/usr/bin/env bash
# dashboards/procevents.json: portable (datasource variable, no __inputs or ${DS_...}), structurally sound
# (unique ids, gridPos inside 24 columns without overlaps), covering what it promises, every query on the
# job and instance variables, valid PromQL (promtool) over catalogued metrics and labels (check_catalogue.py).
# The file is rendered from mixin/ (ctest deploy.mixin checks that it is current).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dashboard="$root/dashboards/procevents.json"
errors=0
error() {
  echo "$dashboard: $*" >&2
  errors=$((errors + 1))
}

jq empty "$dashboard" || { echo "$dashboard: not valid JSON" >&2; exit 1; }
q() { jq -r "$@" "$dashboard"; }

grep -q '${DS_' "$dashboard" && error 'contains ${DS_...}: file provisioning cannot resolve it'
[[ $(q 'has("__inputs")') == false ]] || error 'has __inputs (export "for sharing externally" off)'
[[ $(q '.id') == null ]] || error '"id" must be null'
[[ $(q '.uid') == procevents-exporter ]] || error 'uid must stay "procevents-exporter" (links and provisioning use it)'
[[ $(q '.schemaVersion') == 39 ]] || error 'schemaVersion must be 39'

# Template variables.
[[ $(q '.templating.list[] | select(.name == "datasource") | "\(.type) \(.query)"') == "datasource prometheus" ]] ||
  error 'needs a datasource variable of type datasource, query prometheus'
[[ $(q '.templating.list[] | select(.name == "job") | "\(.query.query) \(.multi) \(.includeAll) \(.allValue)"') == \
  'label_values(procevents_build_info{job="procevents"}, job) true true null' ]] ||
  error 'job variable must be multi, includeAll without allValue, label_values(procevents_build_info{job="procevents"}, job)'
[[ $(q '.templating.list[] | select(.name == "instance") | .query.query') == 'label_values(procevents_build_info{job=~"$job"}, instance)' ]] ||
  error 'instance variable must be label_values(procevents_build_info{job=~"$job"}, instance)'
[[ $(q '.templating.list[] | select(.name == "groupname") | "\(.query.query) \(.multi) \(.includeAll)"') == \
  'label_values(procevents_processes{job=~"$job",instance=~"$instance"}, groupname) true true' ]] ||
  error 'groupname variable must be multi, includeAll, label_values(procevents_processes{job=~"$job",instance=~"$instance"}, groupname)'
bad=$(q '.templating.list[] | select(.type == "query") | select(.datasource != {"type": "prometheus", "uid": "${datasource}"}) | .name')
[[ -z $bad ]] || error "variables not on \${datasource}: $bad"

# Panels, rows' nested panels included.
all='[.panels[], (.panels[] | .panels[]?)]'
dups=$(q "$all | map(.id) | group_by(.) | map(select(length > 1) | .[0]) | .[]")
[[ -z $dups ]] || error "duplicate panel ids: $dups"
bad=$(q "$all[] | select(.gridPos == null or (.gridPos | (.x == null or .y == null or .w == null or .h == null or .x + .w > 24))) | .id")
[[ -z $bad ]] || error "panels without a complete gridPos inside 24 columns: $bad"
bad=$(q "$all[] | select(.type != \"row\") | select(.datasource != {\"type\": \"prometheus\", \"uid\": \"\${datasource}\"}) | .id")
[[ -z $bad ]] || error "panels not on \${datasource}: $bad"
bad=$(q "$all[] | select(.type != \"row\") | select(any(.targets[]?; .datasource != {\"type\": \"prometheus\", \"uid\": \"\${datasource}\"})) | .id")
[[ -z $bad ]] || error "panels with a target not on \${datasource}: $bad"
bad=$(q "$all[] | select(.type != \"row\") | select((.targets | length) == 0 or any(.targets[]; (.expr // \"\") == \"\")) | .id")
[[ -z $bad ]] || error "panels without a query in every target: $bad"
bad=$(q "$all[] | select(.type != \"row\") | select((.targets | map(.refId) | unique | length) != (.targets | length)) | .id")
[[ -z $bad ]] || error "panels with repeated refIds: $bad"
# Overlapping panels (rows included: they occupy their line).
overlaps=$(q "$all | map(.gridPos + {id}) | [combinations(2) | select(.[0].id < .[1].id)
  | select(.[0].x < .[1].x + .[1].w and .[1].x < .[0].x + .[0].w and .[0].y < .[1].y + .[1].h and .[1].y < .[0].y + .[0].h)
  | \"\(.[0].id)/\(.[1].id)\"] | unique | .[]")
[[ -z $overlaps ]] || error "overlapping panels: $overlaps"

# What the dashboard promises to show (issues 4 and 20): each needs a query containing the text.
exprs=$(q "$all[] | .targets[]? | .expr")
for wanted in 'procevents_events_total{job=~"$job",instance=~"$instance",event=~"fork|exec|exit"}' 'topk(10, sum by (groupname) (rate(procevents_execs_total' \
  'sum by (outcome) (rate(procevents_exits_total' 'sum by (signal) (rate(procevents_signal_exits_total' \
  'sum by (groupname) (increase(procevents_signal_exits_total' 'histogram_quantile(0.5,' 'histogram_quantile(0.9,' \
  'histogram_quantile(0.99,' 'procevents_process_lifetime_seconds_bucket{job=~"$job",instance=~"$instance",groupname=~"$groupname",le="1"}' \
  'procevents_process_lifetime_seconds_count' 'procevents_processes{' 'procevents_events_lost_total' \
  'procevents_ring_used{job=~"$job",instance=~"$instance"} / procevents_ring_capacity' 'procevents_ring_high_watermark' \
  'procevents_connector_up' 'procevents_build_info' 'process_resident_memory_bytes' 'process_cpu_seconds_total' \
  'sum by (groupname) (rate(procevents_exited_cpu_seconds_total' 'rate(procevents_exited_peak_resident_memory_bytes_bucket' \
  'procevents_exited_storage_read_bytes_total' 'procevents_exited_storage_written_bytes_total' \
  'procevents_exited_context_switches_total' 'procevents_taskstats_up' 'procevents_taskstats_records_total' \
  'procevents_taskstats_socket_overruns_total' 'procevents_exits_unmatched_total' \
  'procevents_execs_named_from_exit_record_total' 'topk(10, sum by (groupname) (rate(procevents_cpu_seconds_total' \
  'topk(10, sum by (groupname) (procevents_memory_bytes{job=~"$job",instance=~"$instance",groupname=~"$groupname",memtype="resident"}))' \
  'sum(procevents_threads{' 'procevents_live_read_errors_total'; do
  grep -qF -- "$wanted" <<<"$exprs" || error "no panel queries $wanted"
done
[[ -n $(q "$all[] | select(.type == \"heatmap\") | .targets[] | select(.format == \"heatmap\" and (.expr | test(\"_bucket\")))") ]] ||
  error 'needs a heatmap panel over the lifetime _bucket series with format heatmap'

# Every query follows the job and instance variables.
bad=$(q "$all[] | select(.type != \"row\") | select(any(.targets[]; .expr | contains(\"job=~\\\"\$job\\\",instance=~\\\"\$instance\\\"\") | not)) | .id")
[[ -z $bad ]] || error "panels with a query that ignores \$job or \$instance: $bad"

# Every query parses: promtool checks each one as a recording rule.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/promql_exprs.py" > "$work/exprs.jsonl" || error 'promql_exprs.py failed'
python3 - "$work/exprs.jsonl" > "$work/dashboard.rules.yml" <<'EOF'
import json, sys
print('groups:\n  - name: dashboard\n    rules:')
n = 0
for line in open(sys.argv[1]):
    item = json.loads(line)
    if item['kind'] in ('panel', 'variable'):
        n += 1
        print('      - record: dashboard:query%d  # %s\n        expr: %s' % (n, item['source'], json.dumps(item['expr'])))
EOF
if ! promtool check rules "$work/dashboard.rules.yml" > "$work/promtool.txt" 2>&1; then
  cat "$work/promtool.txt" >&2
  error 'a query does not parse (promtool output above; dashboard:queryN is the Nth panel or variable query of promql_exprs.py)'
fi
python3 "$here/check_catalogue.py" dashboard || error 'queries use metrics or labels the exporter does not have (above)'

[[ $errors -eq 0 ]] || exit 1
echo "dashboard OK: $(q "$all | length") panels, $(grep -c 'record:' "$work/dashboard.rules.yml") queries parse"
