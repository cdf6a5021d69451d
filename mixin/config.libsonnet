// What a user overrides, kube-prometheus style:
//   (import 'procevents-mixin/mixin.libsonnet') + { _config+:: { procEventsSelector: 'job="node-procevents"' } }
{
  _config+:: {
    // The scrape job(s) of the exporter: which `up` series ProceventsExporterDown watches and which jobs
    // the dashboard's job variable offers. procevents_* series come only from the exporter, so the other
    // rules need no job matcher (and work whatever the job is called).
    procEventsSelector: 'job="procevents"',

    // runbook_url = runbookBaseURL + 'docs/runbook.md#' + the alert's name in lower case. Empty: the
    // path inside this repository; set it to where the repository's documentation is published, e.g.
    // 'https://github.com/<owner>/procevents_exporter/blob/main/'.
    runbookBaseURL: '',

    // Thresholds, windows and `for` durations of the alerts.
    exporterDownFor: '5m',
    notSubscribedFor: '2m',
    eventsLostWindow: '10m',
    forkStormThreshold: 500,  // new processes per second on a host
    forkStormFor: '5m',
    crashLoopThreshold: 5,  // deaths of a group by a fatal signal within the window
    crashLoopWindow: '10m',
    crashLoopSignals: ['SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGKILL'],
    execStormThreshold: 50,  // execs of one group per second
    execStormFor: '10m',
    groupOverflowWindow: '30m',
    exitsUnmatchedWindow: '10m',
    taskstatsDownFor: '5m',
    tableDriftWindow: '30m',
    configReloadFailedFor: '10m',

    // Opt-in: one ProceventsProgramNotRunning alert per entry, a group name declared with a fixed name in
    // the exporter's process_names (such groups exist at 0 from start-up), or an object
    //   {groupname: 'nginx', 'for': '5m', severity: 'critical'}.
    expectedPrograms: [],
    expectedProgramFor: '5m',
    expectedProgramSeverity: 'warning',

    // Dashboard.
    dashboardUID: 'procevents-exporter',
    dashboardTitle: 'Process events (procevents_exporter)',
    dashboardTags: ['procevents', 'processes'],
    dashboardRefresh: '30s',
  },
}
