// Alerts. Every one is `<expression> <comparison> <threshold>` (legs joined by `or`, or absent(...)): the
// end-to-end test evaluates each expression without its threshold and expects data
// (tests/deploy/promql_exprs.py).
local promql = import 'lib/promql.libsonnet';

{
  local config = self._config,
  local alert(name, expr, severity, summary, description, forDuration=null) = {
    alert: name,
    expr: expr,
    labels: { severity: severity },
    annotations: {
      runbook_url: config.runbookBaseURL + 'docs/runbook.md#' + std.asciiLower(name),
      summary: summary,
      description: description,
    },
  } + (if forDuration == null then {} else { 'for': forDuration }),

  local fatal = promql.alternatives(config.crashLoopSignals),

  prometheusAlerts+:: {
    groups+: [{
      name: 'procevents.alerts',
      rules: [
        // absent(): no target at all, e.g. the DaemonSet has no pods or the scrape job is gone.
        alert(
          'ProceventsExporterDown',
          'up{%(procEventsSelector)s} == 0 or absent(up{%(procEventsSelector)s})' % config,
          'warning',
          'procevents_exporter {{ with $labels.instance }}on {{ . }} {{ end }}is down or not scraped',
          'Prometheus has no samples from procevents_exporter (%s); process churn on the host is invisible.'
          % promql.selectorInWords(config.procEventsSelector),
          config.exporterDownFor,
        ),
        alert(
          'ProceventsNotSubscribed',
          'procevents_connector_up == 0',
          'warning',
          'procevents_exporter on {{ $labels.instance }} is not subscribed to process events',
          "The exporter runs but the kernel's process events connector does not deliver to it. It needs "
          + "CAP_NET_ADMIN, the host's network namespace and the host's PID and user namespaces (hostNetwork, "
          + 'hostPID, no user namespace).',
          config.notSubscribedFor,
        ),
        alert(
          'ProceventsEventsLost',
          'sum by (instance, reason) (increase(procevents_events_lost_total[%(eventsLostWindow)s])) > 0' % config,
          'warning',
          'procevents_exporter on {{ $labels.instance }} lost {{ $value | humanize }} events ({{ $labels.reason }}) in %s'
          % config.eventsLostWindow,
          'Counts are too low while this lasts. kernel_overrun: the socket buffer overflowed, raise '
          + 'receive_buffer_bytes; ring_full: the aggregator fell behind, raise ring_capacity or find what slows it.',
        ),
        alert(
          'ProceventsForkStorm',
          'sum by (instance) (rate(procevents_forks_total{kind="process"}[2m])) > %(forkStormThreshold)s' % config,
          'warning',
          'Fork storm on {{ $labels.instance }}: {{ $value | humanize }} new processes per second',
          'More than %s new processes per second for %s. procevents_forks_total by groupname names the parents.'
          % [config.forkStormThreshold, promql.durationInWords(config.forkStormFor)],
          config.forkStormFor,
        ),
        // A group's series for a signal appears with its first death by it, so increase() alone would
        // miss that one: series without a sample one window ago count whole (`or`), the others by increase().
        alert(
          'ProceventsCrashLoop',
          std.rstripChars(|||
            sum by (instance, groupname) (
                (increase(procevents_signal_exits_total{signal=~"%(fatal)s"}[%(window)s])
                  and procevents_signal_exits_total offset %(window)s)
              or procevents_signal_exits_total{signal=~"%(fatal)s"}
            ) > %(threshold)s
          |||, '\n') % { fatal: fatal, window: config.crashLoopWindow, threshold: config.crashLoopThreshold },
          'warning',
          '{{ $labels.groupname }} on {{ $labels.instance }} is crash-looping ({{ $value | humanize }} fatal signals in %s)'
          % config.crashLoopWindow,
          'Processes of this group keep dying by %s%s.' % [
            promql.inWords(config.crashLoopSignals),
            if std.member(config.crashLoopSignals, 'SIGKILL') then ' (the OOM killer sends SIGKILL)' else '',
          ],
        ),
        alert(
          'ProceventsExecStorm',
          'sum by (instance, groupname) (rate(procevents_execs_total[5m])) > %(execStormThreshold)s' % config,
          'info',
          "{{ $labels.groupname }} on {{ $labels.instance }} is exec'd {{ $value | humanize }} times per second",
          'A program started this often for %s is usually a retry loop or a misconfigured health check.'
          % promql.durationInWords(config.execStormFor),
          config.execStormFor,
        ),
        alert(
          'ProceventsGroupOverflow',
          'increase(procevents_group_overflows_total[%(groupOverflowWindow)s]) > 0' % config,
          'info',
          'procevents_exporter on {{ $labels.instance }} counts processes into group "other"',
          'More distinct groups than max_groups; refine process_names or raise max_groups.',
        ),
        alert(
          'ProceventsExitsUnmatched',
          'sum by (instance, source) (increase(procevents_exits_unmatched_total[%(exitsUnmatchedWindow)s])) > 0' % config,
          'warning',
          'procevents_exporter on {{ $labels.instance }} saw {{ $value | humanize }} task exits from {{ $labels.source }} only in %s'
          % config.exitsUnmatchedWindow,
          "The connector's exits and the kernel's taskstats exit records stop matching one to one: exit costs "
          + '(procevents_exited_*) or exit counts are incomplete. source=connector: exit records went missing (see '
          + 'procevents_taskstats_socket_overruns_total, procevents_taskstats_records_lost_total); source=taskstats: '
          + 'connector exits went missing (see procevents_events_lost_total). Without loss this is an exporter bug.',
        ),
        // Expected = this instance had the exit records within the last day (a restart lost them).
        alert(
          'ProceventsTaskstatsDown',
          'max_over_time(procevents_taskstats_up[1d]) - procevents_taskstats_up > 0',
          'warning',
          "procevents_exporter on {{ $labels.instance }} lost the kernel's taskstats exit records",
          'procevents_taskstats_up went from 1 to 0: no procevents_exited_* costs, and processes that exit before '
          + "/proc is read are named after their parent's group. The exporter's log says why (taskstats turned off "
          + "in the configuration, or the registration failed: it needs CAP_NET_ADMIN and the host's network namespace).",
          config.taskstatsDownFor,
        ),
        alert(
          'ProceventsTableDrift',
          'sum by (instance, kind) (increase(procevents_table_drift_total[%(tableDriftWindow)s])) > 0' % config,
          'warning',
          'procevents_exporter on {{ $labels.instance }} found {{ $value | humanize }} {{ $labels.kind }} process table entries in %s'
          % config.tableDriftWindow,
          'The self-audit compares the process table with /proc every audit_interval_seconds and corrected these '
          + 'entries (procevents_table_drift_corrected_total); until then procevents_processes was off by as many. '
          + 'stale = a process exited without its exit event, missing = a process started without its fork event, '
          + 'though no loss was counted (procevents_events_lost_total). Steady drift is an exporter bug: report it '
          + "with the exporter's log and kernel version.",
        ),
        alert(
          'ProceventsConfigReloadFailed',
          'procevents_config_last_reload_successful == 0',
          'warning',
          'procevents_exporter on {{ $labels.instance }} refused its reloaded {{ $labels.file }} file',
          'The last reload of the {{ $labels.file }} file (on SIGHUP, or, for the web config, when it or a certificate '
          + 'it names changed) failed: the previous configuration stays in force, and a restart would fail to start. '
          + "The exporter's log gives the file, line, column and reason; procevents_exporter --config.check checks a "
          + 'file before the SIGHUP.',
          config.configReloadFailedFor,
        ),
      ] + [
        // Opt-in (_config.expectedPrograms): a group declared with a fixed name exists at 0 from start-up, so
        // `== 0` is "not running"; summed over the attribution labels, where it may be 0 in one label set and
        // running in another. absent(): no exporter reports the group at all (none scraped, or the group is
        // not declared in its process_names).
        local entry = if std.isString(program) then { groupname: program } else program;
        local series = 'procevents_processes{%s,groupname=%s}'
                       % [config.procEventsSelector, std.escapeStringJson(entry.groupname)];
        alert(
          'ProceventsProgramNotRunning',
          'sum by (job, instance, groupname) (%s) == 0 or absent(%s)' % [series, series],
          std.get(entry, 'severity', config.expectedProgramSeverity),
          '%s is not running{{ with $labels.instance }} on {{ . }}{{ end }}' % entry.groupname,
          'No process of group %s for %s, or no exporter reports the group (none is scraped, or its process_names '
          % [entry.groupname, promql.durationInWords(std.get(entry, 'for', config.expectedProgramFor))]
          + 'do not declare it with a fixed name).',
          std.get(entry, 'for', config.expectedProgramFor),
        )
        for program in config.expectedPrograms
      ],
    }],
  },
}
