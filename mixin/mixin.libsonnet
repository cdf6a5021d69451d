// procevents_exporter's monitoring mixin: alerts, recording rules and a Grafana dashboard, rendered from
// _config (config.libsonnet). kube-prometheus style:
//   (import 'procevents-mixin/mixin.libsonnet') + { _config+:: { procEventsSelector: 'job="node-procevents"' } }
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards.libsonnet')
