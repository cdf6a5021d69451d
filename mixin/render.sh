#!/usr/bin/env bash
# Renders the mixin into the files the repository ships: deploy/prometheus/procevents.rules.yml,
# deploy/kubernetes/prometheusrule.yaml and dashboards/procevents.json.
#   bash mixin/render.sh                  # after editing the mixin: rewrites the repository's copies
#   bash mixin/render.sh OUTDIR [CONFIG]  # into OUTDIR instead; CONFIG (jsonnet) is merged into _config, e.g.
#     bash mixin/render.sh /tmp/out '{procEventsSelector: "job=\"node-procevents\"", runbookBaseURL: "https://x/"}'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/..}
config=${2:-"{}"}
command -v jsonnet >/dev/null || { echo "render.sh: jsonnet is not installed (apt-get install jsonnet)" >&2; exit 1; }
mkdir -p "$out/deploy/prometheus" "$out/deploy/kubernetes" "$out/dashboards"
jsonnet -J "$here" -S -m "$out" --tla-code "config=$config" "$here/render.jsonnet" >/dev/null
jsonnet -J "$here" -m "$out/dashboards" --tla-code "config=$config" "$here/dashboards.jsonnet" >/dev/null
