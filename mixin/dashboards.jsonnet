// The dashboards, one file each: jsonnet -J mixin -m OUTDIR [--tla-code 'config={...}'] mixin/dashboards.jsonnet
// (JSON written by jsonnet itself: std.manifestJsonEx takes seconds in jsonnet 0.18).
function(config={})
  ((import 'mixin.libsonnet') + { _config+:: config }).grafanaDashboards
