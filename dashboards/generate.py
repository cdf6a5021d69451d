#!/usr/bin/env python3
"""Generates procevents.json (Grafana, Classic JSON model, schemaVersion 39).

  python3 dashboards/generate.py          (tests/deploy/check_dashboard.sh fails when the file is stale)

A `datasource` template variable instead of __inputs, so the same file works imported through the UI and
provisioned from disk; every panel and target refers to ${datasource}. Panels are laid out left to right
in rows of 24 grid units.
"""
import json
import os

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'instance=~"$instance"'
GSEL = 'instance=~"$instance",groupname=~"$groupname"'
RI = '$__rate_interval'
FATAL = 'SIGSEGV|SIGABRT|SIGBUS|SIGILL|SIGFPE|SIGKILL'
# process_* series are only the exporter's when they come from a target that also exports build_info.
OF_EXPORTER = 'and on (instance, job) procevents_build_info'

panels = []
cursor = {"x": 0, "y": 0, "h": 0}


def place(w, h):
    if cursor["x"] + w > 24:
        cursor["x"], cursor["y"], cursor["h"] = 0, cursor["y"] + cursor["h"], 0
    pos = {"x": cursor["x"], "y": cursor["y"], "w": w, "h": h}
    cursor["x"] += w
    cursor["h"] = max(cursor["h"], h)
    return pos


def row(title):
    cursor["x"], cursor["y"], cursor["h"] = 0, cursor["y"] + cursor["h"], 0
    panels.append({"id": len(panels) + 1, "type": "row", "title": title, "collapsed": False,
                   "gridPos": place(24, 1), "panels": []})
    cursor["x"], cursor["y"], cursor["h"] = 0, cursor["y"] + 1, 0


def t(expr, legend="", **extra):
    return dict({"expr": expr, "legendFormat": legend, "range": True}, **extra)


def panel(title, targets, w=12, h=8, kind="timeseries", unit=None, description="", options=None, **extra):
    p = {
        "id": len(panels) + 1,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": place(w, h),
        "targets": [dict({"datasource": DS, "refId": chr(ord("A") + i)}, **target) for i, target in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": options or {},
    }
    p.update(extra)
    panels.append(p)


def rate_sum(metric, by=None, sel=GSEL):
    """sum [by (labels)] (rate(metric{sel}[$__rate_interval])): a counter's per-second rate, summed."""
    return ('sum by (%s) ' % by if by else 'sum') + '(rate(%s{%s}[%s]))' % (metric, sel, RI)


def top10(metric):
    """The ten groups with the highest rate of `metric`."""
    return 'topk(10, %s)' % rate_sum(metric, 'groupname')


def instant(expr):
    """A single-value target for stat and table panels."""
    return t(expr, "", instant=True, range=False)


def quantiles(bucket):
    """p50, p90 and p99 targets over the rate of a histogram's _bucket series."""
    return [t('histogram_quantile(%s, %s)' % (q, rate_sum(bucket, 'le')), "p%d" % round(q * 100)) for q in (0.5, 0.9, 0.99)]


STAT = {"colorMode": "value", "graphMode": "none", "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}


def stat(title, expr, w=4, description="", **extra):
    """A 4-high stat panel showing the last value of one instant query."""
    panel(title, [instant(expr)], w=w, h=4, kind="stat", description=description, options=STAT, **extra)


# A 0/1 gauge shown as NO (red) / yes (green).
UP_FIELDS = {"defaults": {"mappings": [{"type": "value", "options": {"0": {"text": "NO", "color": "red"},
                                                                     "1": {"text": "yes", "color": "green"}}}]},
             "overrides": []}

row("Process churn")
panel("Event rates", [t(rate_sum('procevents_events_total', 'event', SEL + ',event=~"fork|exec|exit"'), "{{event}}")],
      unit="ops", description="Fork, exec and exit events per second as received from the kernel (threads included).")
panel("Top groups by exec rate", [t(top10('procevents_execs_total'), "{{groupname}}")],
      unit="ops", description="The ten programs started most often (execs per second, by the group after exec).")
panel("Process and thread creation", [t(rate_sum('procevents_forks_total', 'kind'), "{{kind}}")],
      unit="ops", description="Forks by kind: new processes and new threads, attributed to the parent's group.")
panel("Live processes (top 10 groups)", [t('topk(10, sum by (groupname) (procevents_processes{%s}))' % GSEL, "{{groupname}}")],
      description="Processes alive now, by group.")
panel("Exporter's own rates (load-average style)",
      [t('sum by (event, window) (procevents_event_rate{%s})' % SEL, "{{event}} {{window}}")], w=24, h=7, unit="ops",
      description="procevents_event_rate: events per second, exponentially weighted over 1, 5 and 15 minutes by the exporter itself.")

row("Exits and crashes")
panel("Exits by outcome", [t(rate_sum('procevents_exits_total', 'outcome'), "{{outcome}}")], unit="ops",
      description="success: exit status 0; failure: non-zero status; signal: killed by a signal.")
panel("Exits by signal", [t(rate_sum('procevents_signal_exits_total', 'signal'), "{{signal}}")],
      unit="ops", description="Processes killed by a signal, by signal name.")
panel("Crash loops: fatal signals per group (10m)",
      [t('topk(10, sum by (groupname) (increase(procevents_signal_exits_total{%s,signal=~"%s"}[10m])))' % (GSEL, FATAL),
         "{{groupname}}")],
      description="Deaths by SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE or SIGKILL in the last 10 minutes; the "
                  "ProceventsCrashLoop alert fires above 5.")
panel("Core dumps (10m)", [t('sum by (groupname) (increase(procevents_coredumps_total{%s}[10m]))' % GSEL, "{{groupname}}")])

row("Process lifetime")
panel("Lifetime distribution",
      [t('sum by (le) (increase(procevents_process_lifetime_seconds_bucket{%s}[%s]))' % (GSEL, RI), "{{le}}", format="heatmap")],
      kind="heatmap", description="Exited processes by how long they lived (fork to exit, kernel timestamps).",
      options={"calculate": False, "yAxis": {"unit": "s"}, "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges"},
               "rowsFrame": {"layout": "auto"}, "tooltip": {"show": True, "yHistogram": True}})
panel("Lifetime quantiles", quantiles('procevents_process_lifetime_seconds_bucket'), unit="s",
      description="Interpolated within the histogram's buckets (0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400 s by default). "
                  "The histogram is the host's unless per_group: [lifetime_buckets] is set; then choosing groups narrows it.")
panel("Mean lifetime (top 10 groups)", [t(
    'topk(10, %s / %s)' % (rate_sum('procevents_group_process_lifetime_seconds_sum', 'groupname'),
                           rate_sum('procevents_group_process_lifetime_seconds_count', 'groupname')), "{{groupname}}")],
    unit="s", description="How long each group's exiting processes lived on average (always per group, as sum and count).")
panel("Short-lived share (< 1 s)", [t(
    rate_sum('procevents_process_lifetime_seconds_bucket', sel=GSEL + ',le="1"') + ' / ' +
    rate_sum('procevents_process_lifetime_seconds_count'), "share")], unit="percentunit",
    description="Fraction of exiting processes that lived less than a second: the ones /proc polling never sees.")
panel("Identity changes (the host's unless per_group: [identity])", [
    t(rate_sum('procevents_uid_changes_total', 'to_root'), "uid change, to root: {{to_root}}"),
    t(rate_sum('procevents_sid_changes_total'), "new session"),
    t(rate_sum('procevents_ptrace_total', 'op'), "ptrace {{op}}"),
], unit="ops")

row("What finished processes cost (taskstats exit records)")
panel("CPU burnt by finished processes (top 10 groups)",
      [t(top10('procevents_exited_cpu_seconds_total'), "{{groupname}}")],
      unit="percentunit", description="CPU seconds per second (100 % = one core) used by tasks that have exited, from the "
                                      "kernel's exit records: processes too short-lived for /proc polling count too; "
                                      "threads count in their process's group.")
panel("CPU of finished processes by mode",
      [t(rate_sum('procevents_exited_cpu_seconds_total', 'mode'), "{{mode}}")],
      unit="percentunit", description="User and system CPU of tasks that have exited (100 % = one core).")
panel("Peak memory of exited processes", quantiles('procevents_exited_peak_resident_memory_bytes_bucket'),
      unit="bytes", description="High-water resident memory of the processes that exited, interpolated within the "
                                "histogram's buckets (peak_memory_buckets: 4 MiB to 4 GiB by default).")
panel("Storage I/O of exited processes (top 10 groups)", [
    t(top10('procevents_exited_storage_read_bytes_total'),
      "read {{groupname}}"),
    t(top10('procevents_exited_storage_written_bytes_total'),
      "written {{groupname}}"),
], unit="Bps", description="Bytes per second that tasks which have exited caused to be read from or written to storage "
                           "(page-cache hits are not reads; writes count when dirtied). Per group with per_group: [storage], "
                           "else one line for the host.")
panel("Context switches of exited processes",
      [t(rate_sum('procevents_exited_context_switches_total', 'ctxswitchtype'), "{{ctxswitchtype}}")],
      description="Context switches per second of tasks that have exited: voluntary (blocked, slept) and nonvoluntary "
                  "(preempted; many means CPU contention).")
panel("Delays of exited processes", [
    t(rate_sum('procevents_exited_cpu_delay_seconds_total'), "waiting for a CPU"),
    t(rate_sum('procevents_exited_blkio_delay_seconds_total'), "waiting for block I/O"),
], unit="s", description="Seconds per second that tasks which have exited spent runnable without a CPU, or waiting for "
                         "block I/O. Empty unless delay accounting is on (sysctl kernel.task_delayacct=1).")

row("Exporter health")
stat("Subscribed", 'min(procevents_connector_up{%s})' % SEL, fieldConfig=UP_FIELDS,
     description="1 when the exporter is subscribed to the kernel's process events connector.")
stat("Lost events (1h)", 'sum(increase(procevents_events_lost_total{%s}[1h]))' % SEL,
     description="Should be 0; see the Lost events panel for the reason.")
stat("Tracked processes", 'sum(procevents_tracked_processes{%s})' % SEL)
stat("Groups", 'sum(procevents_groups{%s})' % SEL,
     description="Label sets exported; beyond max_groups new programs are counted into \"other\".")
panel("Build", [t('procevents_build_info{%s}' % SEL, "", format="table", instant=True, range=False)], w=8, h=4, kind="table",
      transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True, "__name__": True}}}])
panel("Lost events", [
    t(rate_sum('procevents_events_lost_total', 'reason', SEL), "{{reason}}"),
    t(rate_sum('procevents_socket_overruns_total', sel=SEL), "socket overruns"),
], w=8, unit="ops", description="kernel_overrun: the socket buffer overflowed (raise receive_buffer_bytes); "
                                "ring_full: the aggregator fell behind (raise ring_capacity).")
panel("Ring pressure", [
    t('max by (instance) (procevents_ring_used{%s} / procevents_ring_capacity{%s})' % (SEL, SEL), "used {{instance}}"),
    t('max by (instance) (procevents_ring_high_watermark{%s} / procevents_ring_capacity{%s})' % (SEL, SEL),
      "high watermark {{instance}}"),
], w=8, unit="percentunit", description="Receiver-to-aggregator ring fill, now and at its highest since start.")
panel("Forks: kernel vs exporter", [
    t(rate_sum('procevents_kernel_forks_total', 'instance', SEL), "kernel {{instance}}"),
    t(rate_sum('procevents_events_total', 'instance', SEL + ',event="fork"'), "received {{instance}}"),
], w=8, unit="ops", description="The kernel's own fork counter (/proc/stat) against the fork events received: a gap means loss.")
panel("Exporter memory", [t('process_resident_memory_bytes{%s} %s' % (SEL, OF_EXPORTER), "resident {{instance}}")],
      w=8, unit="bytes")
panel("Exporter CPU", [t('rate(process_cpu_seconds_total{%s}[%s]) %s' % (SEL, RI, OF_EXPORTER), "{{instance}}")],
      w=8, unit="percentunit", description="CPU seconds per second used by the exporter process.")
panel("Enrichment failures", [t(rate_sum('procevents_enrichment_failures_total', 'reason', SEL), "{{reason}}")],
      w=8, unit="ops", description="Processes whose /proc entry was gone or unreadable when the exporter looked: they are "
                                   "counted under their parent's group (see the README's limits).")
panel("Process table self-audit", [
    t('sum by (kind) (increase(procevents_table_drift_total{%s}[%s]))' % (SEL, RI), "drift: {{kind}}"),
    t('sum(increase(procevents_table_drift_corrected_total{%s}[%s]))' % (SEL, RI), "corrected"),
], w=24, h=6, description="Process table entries the periodic audit against /proc found wrong (stale: gone without an "
                          "exit event; missing: alive without a fork event) and corrected. 0 unless events were missed "
                          "without a counted loss; the ProceventsTableDrift alert fires on any.")

row("Exit records (taskstats)")
stat("Exit records", 'min(procevents_taskstats_up{%s})' % SEL, fieldConfig=UP_FIELDS,
     description="1 when registered for the kernel's taskstats exit records (taskstats: true and the registration "
                 "worked); without them there are no costs of finished processes.")
stat("Unmatched exits (1h)", 'sum(increase(procevents_exits_unmatched_total{%s}[1h]))' % SEL,
     description="Task exits seen by only one of the connector and taskstats: 0 without loss. The "
                 "ProceventsExitsUnmatched alert fires on any.")
stat("Taskstats overruns (1h)", 'sum(increase(procevents_taskstats_socket_overruns_total{%s}[1h]))' % SEL,
     description="Receive calls on the taskstats socket that failed with ENOBUFS: exit records were dropped.")
stat("Execs awaiting an exit record", 'sum(procevents_execs_awaiting_exit_record{%s})' % SEL,
     description="Execs of processes gone before /proc was read, held until their exit record names them.")
stat("Taskstats receive buffer", 'min(procevents_taskstats_socket_receive_buffer_bytes{%s})' % SEL, w=8, unit="bytes",
     description="As granted by the kernel (receive_buffer_bytes, doubled).")
panel("Exit records received", [
    t(rate_sum('procevents_taskstats_records_total', 'scope', SEL), "{{scope}}"),
    t(rate_sum('procevents_exits_joined_total', sel=SEL), "joined with a connector exit"),
], w=8, unit="ops", description="task: one record per exiting task; thread_group: one more with a multi-threaded "
                                "process's last task. Joined: task exits seen by both sources.")
panel("Unmatched exits and lost exit records", [
    t(rate_sum('procevents_exits_unmatched_total', 'source', SEL), "seen by {{source}} only"),
    t(rate_sum('procevents_taskstats_socket_overruns_total', sel=SEL), "taskstats socket overruns"),
    t(rate_sum('procevents_taskstats_records_lost_total', 'reason', SEL), "records lost ({{reason}})"),
], w=8, unit="ops", description="All 0 without loss. Overruns: raise receive_buffer_bytes; ring_full: raise ring_capacity.")
panel("Execs named from exit records",
      [t(rate_sum('procevents_execs_named_from_exit_record_total', sel=SEL), "named from exit record")],
      w=8, unit="ops", description="Execs whose process was gone before /proc could be read, named from the comm in its "
                                   "exit record instead of falling back to the parent's group.")
panel("Receive and parse errors", [
    t(rate_sum('procevents_receive_errors_total', 'source', SEL), "receive errors ({{source}})"),
    t(rate_sum('procevents_taskstats_parse_errors_total', 'reason', SEL), "taskstats {{reason}}"),
], w=12, unit="ops", description="Receive calls that failed for another reason than a full buffer, and taskstats "
                                 "messages that could not be used. Should stay 0.")
panel("Events filtered in user space",
      [t(rate_sum('procevents_events_filtered_total', 'instance', SEL), "{{instance}}")],
      w=12, unit="ops", description="Events dropped by the exporter's own filter on kernels without per-socket filtering "
                                    "(procevents_kernel_filter_active 0) when the events list is narrowed.")

dashboard = {
    "id": None,
    "uid": "procevents-exporter",
    "title": "Process events (procevents_exporter)",
    "description": "Every fork, exec and exit: churn, crash loops, lifetimes and what finished processes cost, by program.",
    "tags": ["procevents", "processes"],
    "editable": True,
    "schemaVersion": 39,
    "version": 1,
    "time": {"from": "now-1h", "to": "now"},
    "refresh": "30s",
    "timezone": "",
    "graphTooltip": 1,
    "fiscalYearStartMonth": 0,
    "liveNow": False,
    "weekStart": "",
    "annotations": {"list": [{
        "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
    "links": [],
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "hide": 0,
         "current": {}, "refresh": 1, "options": [], "regex": ""},
        {"name": "instance", "label": "Instance", "type": "query", "datasource": DS,
         "query": {"query": "label_values(procevents_build_info, instance)", "refId": "instance"},
         "definition": "label_values(procevents_build_info, instance)", "refresh": 2, "multi": True,
         "includeAll": True, "allValue": ".*", "current": {}, "options": [], "sort": 1, "hide": 0, "regex": ""},
        {"name": "groupname", "label": "Group", "type": "query", "datasource": DS,
         "query": {"query": 'label_values(procevents_processes{instance=~"$instance"}, groupname)', "refId": "groupname"},
         "definition": 'label_values(procevents_processes{instance=~"$instance"}, groupname)', "refresh": 2,
         "multi": True, "includeAll": True, "allValue": ".*", "current": {}, "options": [], "sort": 1, "hide": 0,
         "regex": ""},
    ]},
    "panels": panels,
}


def render():
    return json.dumps(dashboard, indent=2) + "\n"


if __name__ == "__main__":
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "procevents.json"), "w") as f:
        f.write(render())
