// Recording rules. They read procevents_* series only, which no other exporter has, so they need no job
// matcher.
{
  prometheusRules+:: {
    groups+: [{
      name: 'procevents.recording',
      rules: [
        // Per-group churn.
        { record: 'procevents:execs:rate5m', expr: 'sum by (instance, groupname) (rate(procevents_execs_total[5m]))' },
        { record: 'procevents:forks:rate5m', expr: 'sum by (instance, groupname, kind) (rate(procevents_forks_total[5m]))' },
        { record: 'procevents:exits:rate5m', expr: 'sum by (instance, groupname, outcome) (rate(procevents_exits_total[5m]))' },
        {
          record: 'procevents:signal_exits:rate5m',
          expr: 'sum by (instance, groupname, signal) (rate(procevents_signal_exits_total[5m]))',
        },
        // Per-host totals.
        { record: 'instance:procevents_forks:rate5m', expr: 'sum by (instance, kind) (rate(procevents_forks_total[5m]))' },
        { record: 'instance:procevents_exits:rate5m', expr: 'sum by (instance, outcome) (rate(procevents_exits_total[5m]))' },
        // Mean lifetime of each group's processes that exited in the last 5 minutes (always per group).
        {
          record: 'procevents:process_lifetime_seconds:mean5m',
          expr: |||
            sum by (instance, groupname) (rate(procevents_group_process_lifetime_seconds_sum[5m]))
              / sum by (instance, groupname) (rate(procevents_group_process_lifetime_seconds_count[5m]))
          |||,
        },
      ] + [
        // Lifetimes of the processes that exited in the last 5 minutes. A server with native histograms
        // gets them per group (the first leg); a classic one gets buckets per host unless per_group:
        // [lifetime_buckets] (the second); summed by instance it is the same either way.
        {
          record: 'procevents:process_lifetime_seconds:p%s_5m' % q.percentile,
          expr: |||
            histogram_quantile(%(q)s, sum by (instance) (rate(procevents_process_lifetime_seconds[5m])))
              or histogram_quantile(%(q)s, sum by (instance, le) (rate(procevents_process_lifetime_seconds_bucket[5m])))
          ||| % { q: q.quantile },
        }
        for q in (import 'lib/promql.libsonnet').quantiles
      ] + [
        // Per group: native histograms (one series per group), or classic buckets where per_group makes
        // them per group; no series from a classic server with the default per-host buckets.
        {
          record: 'procevents:group_%s:p90_5m' % std.strReplace(family, 'procevents_', ''),
          expr: |||
            histogram_quantile(0.9, sum by (instance, groupname) (rate(%(f)s[5m])))
              or histogram_quantile(0.9, sum by (instance, groupname, le) (rate(%(f)s_bucket{groupname!=""}[5m])))
          ||| % { f: family },
        }
        for family in ['procevents_process_lifetime_seconds', 'procevents_exited_peak_resident_memory_bytes']
      ] + [
        // Share of exiting processes that lived less than a second (the ones /proc polling never sees).
        {
          record: 'procevents:short_lived:ratio5m',
          expr: |||
            histogram_fraction(0, 1, sum by (instance) (rate(procevents_process_lifetime_seconds[5m])))
              or sum by (instance) (rate(procevents_process_lifetime_seconds_bucket{le="1"}[5m]))
              / sum by (instance) (rate(procevents_process_lifetime_seconds_count[5m]))
          |||,
        },
        // What finished processes cost (taskstats exit records; no series while taskstats is off): CPU
        // seconds per second, i.e. cores kept busy by processes that have exited, however short-lived.
        // Storage I/O is per host unless per_group: [storage] (then groupname is absent from the result).
        {
          record: 'procevents:exited_cpu_seconds:rate5m',
          expr: 'sum by (instance, groupname) (rate(procevents_exited_cpu_seconds_total[5m]))',
        },
        {
          record: 'instance:procevents_exited_cpu_seconds:rate5m',
          expr: 'sum by (instance, mode) (rate(procevents_exited_cpu_seconds_total[5m]))',
        },
        {
          record: 'procevents:exited_storage_read_bytes:rate5m',
          expr: 'sum by (instance, groupname) (rate(procevents_exited_storage_read_bytes_total[5m]))',
        },
        {
          record: 'procevents:exited_storage_written_bytes:rate5m',
          expr: 'sum by (instance, groupname) (rate(procevents_exited_storage_written_bytes_total[5m]))',
        },
        // CPU of each group's processes, live and finished (a live process's from /proc at each scrape, a
        // finished one's from its exit record): cores kept busy, what process-exporter's
        // rate(namedprocess_namegroup_cpu_seconds_total) gives, without losing the processes no scrape saw.
        {
          record: 'procevents:cpu_seconds:rate5m',
          expr: 'sum by (instance, groupname) (rate(procevents_cpu_seconds_total[5m]))',
        },
        {
          record: 'instance:procevents_cpu_seconds:rate5m',
          expr: 'sum by (instance, mode) (rate(procevents_cpu_seconds_total[5m]))',
        },
        // Peak resident memory of the processes that exited in the last 5 minutes.
        {
          record: 'procevents:exited_peak_resident_memory_bytes:p90_5m',
          expr: |||
            histogram_quantile(0.9, sum by (instance) (rate(procevents_exited_peak_resident_memory_bytes[5m])))
              or histogram_quantile(0.9, sum by (instance, le) (rate(procevents_exited_peak_resident_memory_bytes_bucket[5m])))
          |||,
        },
      ],
    }],
  },
}
