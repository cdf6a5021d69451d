// The rule files this repository ships, rendered from the mixin; mixin/render.sh writes them (and the
// dashboards, from dashboards.jsonnet).
//   jsonnet -J mixin -S -m OUTDIR --tla-code 'config={...}' mixin/render.jsonnet
// `config` is merged into _config (the shipped files use the defaults).
local yaml = import 'lib/yaml.libsonnet';

function(config={})
  local mixin = (import 'mixin.libsonnet') + { _config+:: config };
  local groups = mixin.prometheusRules.groups + mixin.prometheusAlerts.groups;
  local generated = '# GENERATED from mixin/ by mixin/render.sh: edit the mixin and render again (ctest deploy.mixin\n'
                    + '# fails while this file differs from what the mixin renders).\n';
  // jsonnet -S -m ends every file with a newline of its own.
  local file(text) = std.rstripChars(text, '\n');
  {
    'deploy/prometheus/procevents.rules.yml': file(
      generated
      + '# Recording rules and alerts for procevents_exporter.\n'
      + '#   promtool check rules procevents.rules.yml && promtool test rules procevents.rules.test.yml\n'
      + yaml.manifest({ groups: groups })
    ),
    'deploy/kubernetes/prometheusrule.yaml': file(
      generated
      + "# For prometheus-operator; label it to match your Prometheus's ruleSelector.\n"
      + yaml.manifest({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: {
          name: 'procevents-exporter',
          namespace: 'procevents',
          labels: { 'app.kubernetes.io/name': 'procevents-exporter' },
        },
        spec: { groups: groups },
      })
    ),
  }
