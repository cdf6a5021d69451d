// The Grafana dashboard (Classic JSON model, schemaVersion 39). A `datasource` template variable instead of
// __inputs, so the same file works imported through the UI and provisioned from disk; every panel and target
// refers to ${datasource}. Variables job (the jobs procEventsSelector matches), instance and groupname narrow
// every query. Panels are laid out left to right in rows of 24 grid units.
local promql = import 'lib/promql.libsonnet';

local ds = { type: 'prometheus', uid: '${datasource}' };
local sel = 'job=~"$job",instance=~"$instance"';
local gsel = sel + ',groupname=~"$groupname"';
local ri = '$__rate_interval';
// process_* series are only the exporter's when they come from a target that also exports build_info.
local ofExporter = 'and on (instance, job) procevents_build_info';

// ---- queries ----
local target(expr, legend='', extra={}) = { expr: expr, legendFormat: legend, range: true } + extra;
// A single-value target for stat and table panels.
local instant(expr) = target(expr, '', { instant: true, range: false });
// sum [by (labels)] (rate(metric{selector}[$__rate_interval])): a counter's per-second rate, summed.
local rateSum(metric, by=null, selector=gsel) =
  (if by == null then 'sum' else 'sum by (%s) ' % by) + '(rate(%s{%s}[%s]))' % [metric, selector, ri];
// The ten groups with the highest rate of `metric`.
local top10(metric) = 'topk(10, %s)' % rateSum(metric, 'groupname');
// The ten groups with the highest value of the gauge `metric` now.
local top10now(metric, selector=gsel) = 'topk(10, sum by (groupname) (%s{%s}))' % [metric, selector];
// p50, p90 and p99 targets of a histogram family: its native histograms where the server ingests them (a
// Prometheus with --enable-feature=native-histograms scrapes protobuf and gets them per group), else its
// classic _bucket series; each server has only one of the two.
local quantiles(histogram) = [
  target('histogram_quantile(%s, %s) or histogram_quantile(%s, %s)'
         % [q.quantile, rateSum(histogram), q.quantile, rateSum(histogram + '_bucket', 'le')], 'p' + q.percentile)
  for q in promql.quantiles
];
// The ten groups with the highest p90 of a histogram family: native histograms, or classic buckets where
// per_group sets them per group (groupname!=""); nothing on a classic server with per-host buckets.
local top10p90(histogram) =
  'topk(10, histogram_quantile(0.9, %s)) or topk(10, histogram_quantile(0.9, %s))'
  % [rateSum(histogram, 'groupname'), rateSum(histogram + '_bucket', 'groupname, le', gsel + ',groupname!=""')];

// ---- panels: sizes are hidden fields that layout() turns into gridPos ----
local panel(title, targets, w=12, h=8, kind='timeseries', unit=null, description='', options={}) = {
  w:: w,
  h:: h,
  type: kind,
  title: title,
  description: description,
  datasource: ds,
  targets: [
    { datasource: ds, refId: std.char(std.codepoint('A') + i) } + targets[i]
    for i in std.range(0, std.length(targets) - 1)
  ],
  fieldConfig: { defaults: if unit == null then {} else { unit: unit }, overrides: [] },
  options: options,
};
local row(title) = { row:: true, type: 'row', title: title, collapsed: false, panels: [] };

local statOptions = {
  colorMode: 'value',
  graphMode: 'none',
  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
};
// A 4-high stat panel showing the last value of one instant query.
local stat(title, expr, w=4, unit=null, description='') =
  panel(title, [instant(expr)], w=w, h=4, kind='stat', unit=unit, description=description, options=statOptions);
// A 0/1 gauge shown as NO (red) / yes (green).
local upFields = {
  fieldConfig: {
    defaults: { mappings: [{ type: 'value', options: { '0': { text: 'NO', color: 'red' }, '1': { text: 'yes', color: 'green' } } }] },
    overrides: [],
  },
};

// ids in order, gridPos left to right: a panel that does not fit on the line starts the next one, a row
// takes a line of its own.
local layout(items) = std.foldl(
  function(state, item)
    local wrap = std.objectHasAll(item, 'row') || state.x + item.w > 24;
    local y = if wrap then state.y + state.h else state.y;
    local x = if wrap then 0 else state.x;
    local placed = if std.objectHasAll(item, 'row')
    then { id: std.length(state.panels) + 1 } + item + { gridPos: { x: 0, y: y, w: 24, h: 1 } }
    else { id: std.length(state.panels) + 1 } + item + { gridPos: { x: x, y: y, w: item.w, h: item.h } };
    if std.objectHasAll(item, 'row')
    then { x: 0, y: y + 1, h: 0, panels: state.panels + [placed] }
    else { x: x + item.w, y: y, h: std.max(if wrap then 0 else state.h, item.h), panels: state.panels + [placed] },
  items,
  { x: 0, y: 0, h: 0, panels: [] },
).panels;

local variable(name, label, query, extra={}) = {
  name: name,
  label: label,
  type: 'query',
  datasource: ds,
  query: { query: query, refId: name },
  definition: query,
  refresh: 2,
  multi: true,
  includeAll: true,
  current: {},
  options: [],
  sort: 1,
  hide: 0,
  regex: '',
} + extra;

{
  local config = self._config,
  local fatal = promql.alternatives(config.crashLoopSignals),

  local panels = [
    row('Process churn'),
    panel('Event rates',
          [target(rateSum('procevents_events_total', 'event', sel + ',event=~"fork|exec|exit"'), '{{event}}')],
          unit='ops',
          description='Fork, exec and exit events per second as received from the kernel (threads included).'),
    panel('Top groups by exec rate',
          [target(top10('procevents_execs_total'), '{{groupname}}')],
          unit='ops',
          description='The ten programs started most often (execs per second, by the group after exec).'),
    panel('Process and thread creation',
          [target(rateSum('procevents_forks_total', 'kind'), '{{kind}}')],
          unit='ops',
          description="Forks by kind: new processes and new threads, attributed to the parent's group."),
    panel('Live processes (top 10 groups)',
          [target(top10now('procevents_processes'), '{{groupname}}')],
          description='Processes alive now, by group.'),
    panel("Exporter's own rates (load-average style)",
          [target('sum by (event, window) (procevents_event_rate{%s})' % sel, '{{event}} {{window}}')],
          w=24,
          h=7,
          unit='ops',
          description='procevents_event_rate: events per second, exponentially weighted over 1, 5 and 15 minutes by the exporter itself.'),

    // Read at scrape time from the live processes the exporter tracks (no /proc walk), and CPU counted
    // live + finished. CPU and resident memory are always per group; the others are the host's unless
    // per_group names them, so each query sums the same way either way (a per-host series has no
    // groupname, which the "All" groups value still matches).
    row('Processes now'),
    panel('CPU by group, live and finished (top 10)',
          [target(top10('procevents_cpu_seconds_total'), '{{groupname}}')],
          unit='percentunit',
          description="CPU seconds per second (100 % = one core) of each group's processes: live ones read at each "
                      + 'scrape, finished ones from their exit records, so processes too short-lived for any scrape '
                      + 'count too. A process that execs into another group leaves what it used before with the old one.'),
    panel('CPU by mode',
          [target(rateSum('procevents_cpu_seconds_total', 'mode'), '{{mode}}')],
          unit='percentunit',
          description='User and system CPU of the chosen groups, live and finished (100 % = one core).'),
    panel('Resident memory (top 10 groups)',
          [target(top10now('procevents_memory_bytes', gsel + ',memtype="resident"'), '{{groupname}}')],
          unit='bytes',
          description="Resident memory of each group's live processes now (shared pages count in every process "
                      + 'that maps them, as in top).'),
    panel('Memory by type',
          [target('sum by (memtype) (procevents_memory_bytes{%s})' % gsel, '{{memtype}}')],
          unit='bytes',
          description="resident: per group; virtual: the host's unless per_group: [memory]; swapped: only with "
                      + 'per_group: [memory] (it reads status).'),
    panel('Threads', [
      target('sum(procevents_threads{%s})' % gsel, 'all'),
      target(top10now('procevents_threads', gsel + ',groupname!=""'), '{{groupname}}'),
    ], description="Threads of the live processes. The host's total unless per_group: [threads], which adds the "
                  + 'ten groups with the most.'),
    panel('Process states',
          [target('sum by (state) (procevents_process_states{%s})' % gsel, '{{state}}')],
          description="Live processes by state (Other: idle kernel threads, stopped, traced). The host's unless "
                      + 'per_group: [states].'),
    panel('Page faults, live and finished',
          [target(rateSum('procevents_page_faults_total', 'fault'), '{{fault}}')],
          unit='ops',
          description="Minor and major page faults per second. The host's unless per_group: [faults]."),
    panel('Live read errors',
          [target(rateSum('procevents_live_read_errors_total', 'part', sel), '{{part}}')],
          unit='ops',
          description='Live processes whose /proc entry could not be read at a scrape, by part (process: stat itself; '
                      + "status; io; fds): refused without ptrace rights over the process, e.g. another user's under the "
                      + 'least-privilege capability set. Their figures are missing from the panels above; a process '
                      + 'that exited meanwhile is no error.'),

    row('Exits and crashes'),
    panel('Exits by outcome',
          [target(rateSum('procevents_exits_total', 'outcome'), '{{outcome}}')],
          unit='ops',
          description='success: exit status 0; failure: non-zero status; signal: killed by a signal.'),
    panel('Exits by signal',
          [target(rateSum('procevents_signal_exits_total', 'signal'), '{{signal}}')],
          unit='ops',
          description='Processes killed by a signal, by signal name.'),
    panel('Crash loops: fatal signals per group (%s)' % config.crashLoopWindow,
          [target('topk(10, sum by (groupname) (increase(procevents_signal_exits_total{%s,signal=~"%s"}[%s])))'
                  % [gsel, fatal, config.crashLoopWindow], '{{groupname}}')],
          description='Deaths by %s in the last %s; the ProceventsCrashLoop alert fires above %s.'
                      % [
                        promql.inWords(config.crashLoopSignals),
                        promql.durationInWords(config.crashLoopWindow),
                        config.crashLoopThreshold,
                      ]),
    panel('Core dumps (10m)', [target('sum by (groupname) (increase(procevents_coredumps_total{%s}[10m]))' % gsel, '{{groupname}}')]),

    row('Process lifetime'),
    panel('Lifetime distribution (classic buckets)',
          [target('sum by (le) (increase(procevents_process_lifetime_seconds_bucket{%s}[%s]))' % [gsel, ri],
                  '{{le}}',
                  { format: 'heatmap' })],
          kind='heatmap',
          description='Exited processes by how long they lived (fork to exit, kernel timestamps). Classic buckets: '
                      + 'empty on a Prometheus with native histograms, which gets the quantile panels per group instead.',
          options={
            calculate: false,
            yAxis: { unit: 's' },
            cellGap: 1,
            color: { mode: 'scheme', scheme: 'Oranges' },
            rowsFrame: { layout: 'auto' },
            tooltip: { show: true, yHistogram: true },
          }),
    panel('Lifetime quantiles',
          quantiles('procevents_process_lifetime_seconds'),
          unit='s',
          description='From native histograms (per group, ~4 % error) on a Prometheus with native histograms; else interpolated '
                      + "within the classic buckets (0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400 s by default), which are the host's "
                      + 'unless per_group: [lifetime_buckets] is set. Where the histogram is per group, choosing groups narrows it.'),
    panel('Lifetime p90 by group (native histograms)',
          [target(top10p90('procevents_process_lifetime_seconds'), '{{groupname}}')],
          unit='s',
          description='Needs a Prometheus with native histograms (--enable-feature=native-histograms), or '
                      + 'per_group: [lifetime_buckets]; empty otherwise.'),
    panel('Mean lifetime (top 10 groups)', [target(
      'topk(10, %s / %s)' % [
        rateSum('procevents_group_process_lifetime_seconds_sum', 'groupname'),
        rateSum('procevents_group_process_lifetime_seconds_count', 'groupname'),
      ], '{{groupname}}'
    )], unit='s', description="How long each group's exiting processes lived on average (always per group, as sum and count)."),
    panel('Short-lived share (< 1 s)', [target(
      'histogram_fraction(0, 1, %s) or ' % rateSum('procevents_process_lifetime_seconds')
      + rateSum('procevents_process_lifetime_seconds_bucket', selector=gsel + ',le="1"') + ' / '
      + rateSum('procevents_process_lifetime_seconds_count'), 'share'
    )], unit='percentunit', description='Fraction of exiting processes that lived less than a second: the ones /proc polling never sees.'),
    panel("Identity changes (the host's unless per_group: [identity])", [
      target(rateSum('procevents_uid_changes_total', 'to_root'), 'uid change, to root: {{to_root}}'),
      target(rateSum('procevents_sid_changes_total'), 'new session'),
      target(rateSum('procevents_ptrace_total', 'op'), 'ptrace {{op}}'),
    ], unit='ops'),

    row('What finished processes cost (taskstats exit records)'),
    panel('CPU burnt by finished processes (top 10 groups)',
          [target(top10('procevents_exited_cpu_seconds_total'), '{{groupname}}')],
          unit='percentunit',
          description='CPU seconds per second (100 % = one core) used by tasks that have exited, from the '
                      + "kernel's exit records: processes too short-lived for /proc polling count too; "
                      + "threads count in their process's group."),
    panel('CPU of finished processes by mode',
          [target(rateSum('procevents_exited_cpu_seconds_total', 'mode'), '{{mode}}')],
          unit='percentunit',
          description='User and system CPU of tasks that have exited (100 % = one core).'),
    panel('Peak memory of exited processes',
          quantiles('procevents_exited_peak_resident_memory_bytes'),
          unit='bytes',
          description='High-water resident memory of the processes that exited: from native histograms (per group) on a '
                      + 'Prometheus with native histograms, else interpolated within the classic buckets (peak_memory_buckets: '
                      + '4 MiB to 4 GiB by default).'),
    panel('Peak memory p90 by group (native histograms)',
          [target(top10p90('procevents_exited_peak_resident_memory_bytes'), '{{groupname}}')],
          unit='bytes',
          description='Needs a Prometheus with native histograms (--enable-feature=native-histograms), or '
                      + 'per_group: [peak_memory]; empty otherwise.'),
    panel('Storage I/O of exited processes (top 10 groups)', [
      target(top10('procevents_exited_storage_read_bytes_total'), 'read {{groupname}}'),
      target(top10('procevents_exited_storage_written_bytes_total'), 'written {{groupname}}'),
    ], unit='Bps', description='Bytes per second that tasks which have exited caused to be read from or written to storage '
                             + '(page-cache hits are not reads; writes count when dirtied). Per group with per_group: [storage], '
                             + 'else one line for the host.'),
    panel('Context switches of exited processes',
          [target(rateSum('procevents_exited_context_switches_total', 'ctxswitchtype'), '{{ctxswitchtype}}')],
          description='Context switches per second of tasks that have exited: voluntary (blocked, slept) and nonvoluntary '
                      + '(preempted; many means CPU contention).'),
    panel('Delays of exited processes', [
      target(rateSum('procevents_exited_cpu_delay_seconds_total'), 'waiting for a CPU'),
      target(rateSum('procevents_exited_blkio_delay_seconds_total'), 'waiting for block I/O'),
    ], unit='s', description='Seconds per second that tasks which have exited spent runnable without a CPU, or waiting for '
                           + 'block I/O. Empty unless delay accounting is on (sysctl kernel.task_delayacct=1).'),

    row('Exporter health'),
    stat('Subscribed',
         'min(procevents_connector_up{%s})' % sel,
         description="1 when the exporter is subscribed to the kernel's process events connector.") + upFields,
    stat('Lost events (1h)',
         'sum(increase(procevents_events_lost_total{%s}[1h]))' % sel,
         description='Should be 0; see the Lost events panel for the reason.'),
    stat('Tracked processes', 'sum(procevents_tracked_processes{%s})' % sel),
    stat('Groups',
         'sum(procevents_groups{%s})' % sel,
         description='Label sets exported; beyond max_groups new programs are counted into "other".'),
    panel('Build',
          [target('procevents_build_info{%s}' % sel, '', { format: 'table', instant: true, range: false })],
          w=8,
          h=4,
          kind='table')
    + { transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true } } }] },
    panel('Lost events', [
      target(rateSum('procevents_events_lost_total', 'reason', sel), '{{reason}}'),
      target(rateSum('procevents_socket_overruns_total', selector=sel), 'socket overruns'),
    ], w=8, unit='ops', description='kernel_overrun: the socket buffer overflowed (raise receive_buffer_bytes); '
                                 + 'ring_full: the aggregator fell behind (raise ring_capacity).'),
    panel('Ring pressure', [
      target('max by (instance) (procevents_ring_used{%s} / procevents_ring_capacity{%s})' % [sel, sel], 'used {{instance}}'),
      target('max by (instance) (procevents_ring_high_watermark{%s} / procevents_ring_capacity{%s})' % [sel, sel],
             'high watermark {{instance}}'),
    ], w=8, unit='percentunit', description='Receiver-to-aggregator ring fill, now and at its highest since start.'),
    panel('Forks: kernel vs exporter', [
      target(rateSum('procevents_kernel_forks_total', 'instance', sel), 'kernel {{instance}}'),
      target(rateSum('procevents_events_total', 'instance', sel + ',event="fork"'), 'received {{instance}}'),
    ], w=8, unit='ops', description="The kernel's own fork counter (/proc/stat) against the fork events received: a gap means loss."),
    panel('Exporter memory',
          [target('process_resident_memory_bytes{%s} %s' % [sel, ofExporter], 'resident {{instance}}')],
          w=8,
          unit='bytes'),
    panel('Exporter CPU',
          [target('rate(process_cpu_seconds_total{%s}[%s]) %s' % [sel, ri, ofExporter], '{{instance}}')],
          w=8,
          unit='percentunit',
          description='CPU seconds per second used by the exporter process.'),
    panel('Enrichment failures',
          [target(rateSum('procevents_enrichment_failures_total', 'reason', sel), '{{reason}}')],
          w=8,
          unit='ops',
          description='Processes whose /proc entry was gone or unreadable when the exporter looked: they are '
                      + "counted under their parent's group (see the README's limits)."),
    panel('Process table self-audit', [
      target('sum by (kind) (increase(procevents_table_drift_total{%s}[%s]))' % [sel, ri], 'drift: {{kind}}'),
      target('sum(increase(procevents_table_drift_corrected_total{%s}[%s]))' % [sel, ri], 'corrected'),
    ], w=24, h=6, description='Process table entries the periodic audit against /proc found wrong (stale: gone without an '
                           + 'exit event; missing: alive without a fork event) and corrected. 0 unless events were missed '
                           + 'without a counted loss; the ProceventsTableDrift alert fires on any.'),

    row('Exit records (taskstats)'),
    stat('Exit records',
         'min(procevents_taskstats_up{%s})' % sel,
         description="1 when registered for the kernel's taskstats exit records (taskstats: true and the registration "
                     + 'worked); without them there are no costs of finished processes.') + upFields,
    stat('Unmatched exits (1h)',
         'sum(increase(procevents_exits_unmatched_total{%s}[1h]))' % sel,
         description='Task exits seen by only one of the connector and taskstats: 0 without loss. The '
                     + 'ProceventsExitsUnmatched alert fires on any.'),
    stat('Taskstats overruns (1h)',
         'sum(increase(procevents_taskstats_socket_overruns_total{%s}[1h]))' % sel,
         description='Receive calls on the taskstats socket that failed with ENOBUFS: exit records were dropped.'),
    stat('Execs awaiting an exit record',
         'sum(procevents_execs_awaiting_exit_record{%s})' % sel,
         description='Execs of processes gone before /proc was read, held until their exit record names them.'),
    stat('Taskstats receive buffer',
         'min(procevents_taskstats_socket_receive_buffer_bytes{%s})' % sel,
         w=8,
         unit='bytes',
         description='As granted by the kernel (receive_buffer_bytes, doubled).'),
    panel('Exit records received', [
      target(rateSum('procevents_taskstats_records_total', 'scope', sel), '{{scope}}'),
      target(rateSum('procevents_exits_joined_total', selector=sel), 'joined with a connector exit'),
    ], w=8, unit='ops', description='task: one record per exiting task; thread_group: one more with a multi-threaded '
                                 + "process's last task. Joined: task exits seen by both sources."),
    panel('Unmatched exits and lost exit records', [
      target(rateSum('procevents_exits_unmatched_total', 'source', sel), 'seen by {{source}} only'),
      target(rateSum('procevents_taskstats_socket_overruns_total', selector=sel), 'taskstats socket overruns'),
      target(rateSum('procevents_taskstats_records_lost_total', 'reason', sel), 'records lost ({{reason}})'),
    ], w=8, unit='ops', description='All 0 without loss. Overruns: raise receive_buffer_bytes; ring_full: raise ring_capacity.'),
    panel('Execs named from exit records',
          [target(rateSum('procevents_execs_named_from_exit_record_total', selector=sel), 'named from exit record')],
          w=8,
          unit='ops',
          description='Execs whose process was gone before /proc could be read, named from the comm in its '
                      + "exit record instead of falling back to the parent's group."),
    panel('Receive and parse errors', [
      target(rateSum('procevents_receive_errors_total', 'source', sel), 'receive errors ({{source}})'),
      target(rateSum('procevents_taskstats_parse_errors_total', 'reason', sel), 'taskstats {{reason}}'),
    ], w=12, unit='ops', description='Receive calls that failed for another reason than a full buffer, and taskstats '
                                  + 'messages that could not be used. Should stay 0.'),
    panel('Events filtered in user space',
          [target(rateSum('procevents_events_filtered_total', 'instance', sel), '{{instance}}')],
          w=12,
          unit='ops',
          description="Events dropped by the exporter's own filter on kernels without per-socket filtering "
                      + '(procevents_kernel_filter_active 0) when the events list is narrowed.'),
  ],

  grafanaDashboards+:: {
    'procevents.json': {
      id: null,
      uid: config.dashboardUID,
      title: config.dashboardTitle,
      description: 'Every fork, exec and exit: churn, crash loops, lifetimes and what finished processes cost, by program.',
      tags: config.dashboardTags,
      editable: true,
      schemaVersion: 39,
      version: 1,
      time: { from: 'now-1h', to: 'now' },
      refresh: config.dashboardRefresh,
      timezone: '',
      graphTooltip: 1,
      fiscalYearStartMonth: 0,
      liveNow: false,
      weekStart: '',
      annotations: { list: [{
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      }] },
      links: [],
      templating: { list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          hide: 0,
          current: {},
          refresh: 1,
          options: [],
          regex: '',
        },
        // "All" is every job the selector matches (no allValue), not every job Prometheus scrapes.
        variable('job', 'Job', 'label_values(procevents_build_info{%(procEventsSelector)s}, job)' % config),
        variable('instance', 'Instance', 'label_values(procevents_build_info{job=~"$job"}, instance)', { allValue: '.*' }),
        variable('groupname', 'Group', 'label_values(procevents_processes{%s}, groupname)' % sel, { allValue: '.*' }),
      ] },
      panels: layout(panels),
    },
  },
}
