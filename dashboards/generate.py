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


STAT = {"colorMode": "value", "graphMode": "none", "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}

row("Process churn")
panel("Event rates", [t('sum by (event) (rate(procevents_events_total{%s,event=~"fork|exec|exit"}[%s]))' % (SEL, RI), "{{event}}")],
      unit="ops", description="Fork, exec and exit events per second as received from the kernel (threads included).")
panel("Top groups by exec rate", [t('topk(10, sum by (groupname) (rate(procevents_execs_total{%s}[%s])))' % (GSEL, RI), "{{groupname}}")],
      unit="ops", description="The ten programs started most often (execs per second, by the group after exec).")
panel("Process and thread creation", [t('sum by (kind) (rate(procevents_forks_total{%s}[%s]))' % (GSEL, RI), "{{kind}}")],
      unit="ops", description="Forks by kind: new processes and new threads, attributed to the parent's group.")
panel("Live processes (top 10 groups)", [t('topk(10, sum by (groupname) (procevents_processes{%s}))' % GSEL, "{{groupname}}")],
      description="Processes alive now, by group.")
panel("Exporter's own rates (load-average style)",
      [t('sum by (event, window) (procevents_event_rate{%s})' % SEL, "{{event}} {{window}}")], w=24, h=7, unit="ops",
      description="procevents_event_rate: events per second, exponentially weighted over 1, 5 and 15 minutes by the exporter itself.")

row("Exits and crashes")
panel("Exits by outcome", [t('sum by (outcome) (rate(procevents_exits_total{%s}[%s]))' % (GSEL, RI), "{{outcome}}")], unit="ops",
      description="success: exit status 0; failure: non-zero status; signal: killed by a signal.")
panel("Exits by signal", [t('sum by (signal) (rate(procevents_signal_exits_total{%s}[%s]))' % (GSEL, RI), "{{signal}}")],
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
panel("Lifetime quantiles", [
    t('histogram_quantile(0.5, sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s])))' % (GSEL, RI), "p50"),
    t('histogram_quantile(0.9, sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s])))' % (GSEL, RI), "p90"),
    t('histogram_quantile(0.99, sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s])))' % (GSEL, RI), "p99"),
], unit="s", description="Interpolated within the histogram's buckets (0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400 s by default).")
panel("Short-lived share (< 1 s)", [t(
    'sum(rate(procevents_process_lifetime_seconds_bucket{%s,le="1"}[%s])) / sum(rate(procevents_process_lifetime_seconds_count{%s}[%s]))'
    % (GSEL, RI, GSEL, RI), "share")], unit="percentunit",
    description="Fraction of exiting processes that lived less than a second: the ones /proc polling never sees.")
panel("Identity changes", [
    t('sum by (to_root) (rate(procevents_uid_changes_total{%s}[%s]))' % (GSEL, RI), "uid change, to root: {{to_root}}"),
    t('sum(rate(procevents_sid_changes_total{%s}[%s]))' % (GSEL, RI), "new session"),
    t('sum by (op) (rate(procevents_ptrace_total{%s}[%s]))' % (GSEL, RI), "ptrace {{op}}"),
], unit="ops")

row("Exporter health")
panel("Subscribed", [t('min(procevents_connector_up{%s})' % SEL, "", instant=True, range=False)], w=4, h=4, kind="stat",
      description="1 when the exporter is subscribed to the kernel's process events connector.", options=STAT,
      fieldConfig={"defaults": {"mappings": [{"type": "value", "options": {"0": {"text": "NO", "color": "red"},
                                                                             "1": {"text": "yes", "color": "green"}}}]},
                   "overrides": []})
panel("Lost events (1h)", [t('sum(increase(procevents_events_lost_total{%s}[1h]))' % SEL, "", instant=True, range=False)],
      w=4, h=4, kind="stat", options=STAT, description="Should be 0; see the Lost events panel for the reason.")
panel("Tracked processes", [t('sum(procevents_tracked_processes{%s})' % SEL, "", instant=True, range=False)], w=4, h=4,
      kind="stat", options=STAT)
panel("Groups", [t('sum(procevents_groups{%s})' % SEL, "", instant=True, range=False)], w=4, h=4, kind="stat", options=STAT,
      description="Label sets exported; beyond max_groups new programs are counted into \"other\".")
panel("Build", [t('procevents_build_info{%s}' % SEL, "", format="table", instant=True, range=False)], w=8, h=4, kind="table",
      transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True, "__name__": True}}}])
panel("Lost events", [
    t('sum by (reason) (rate(procevents_events_lost_total{%s}[%s]))' % (SEL, RI), "{{reason}}"),
    t('sum(rate(procevents_socket_overruns_total{%s}[%s]))' % (SEL, RI), "socket overruns"),
], w=8, unit="ops", description="kernel_overrun: the socket buffer overflowed (raise receive_buffer_bytes); "
                                "ring_full: the aggregator fell behind (raise ring_capacity).")
panel("Ring pressure", [
    t('max by (instance) (procevents_ring_used{%s} / procevents_ring_capacity{%s})' % (SEL, SEL), "used {{instance}}"),
    t('max by (instance) (procevents_ring_high_watermark{%s} / procevents_ring_capacity{%s})' % (SEL, SEL),
      "high watermark {{instance}}"),
], w=8, unit="percentunit", description="Receiver-to-aggregator ring fill, now and at its highest since start.")
panel("Forks: kernel vs exporter", [
    t('sum by (instance) (rate(procevents_kernel_forks_total{%s}[%s]))' % (SEL, RI), "kernel {{instance}}"),
    t('sum by (instance) (rate(procevents_events_total{%s,event="fork"}[%s]))' % (SEL, RI), "received {{instance}}"),
], w=8, unit="ops", description="The kernel's own fork counter (/proc/stat) against the fork events received: a gap means loss.")
panel("Exporter memory", [t('process_resident_memory_bytes{%s} %s' % (SEL, OF_EXPORTER), "resident {{instance}}")],
      w=8, unit="bytes")
panel("Exporter CPU", [t('rate(process_cpu_seconds_total{%s}[%s]) %s' % (SEL, RI, OF_EXPORTER), "{{instance}}")],
      w=8, unit="percentunit", description="CPU seconds per second used by the exporter process.")
panel("Enrichment failures", [t('sum by (reason) (rate(procevents_enrichment_failures_total{%s}[%s]))' % (SEL, RI), "{{reason}}")],
      w=8, unit="ops", description="Processes whose /proc entry was gone or unreadable when the exporter looked: they are "
                                   "counted under their parent's group (see the README's limits).")

dashboard = {
    "id": None,
    "uid": "procevents-exporter",
    "title": "Process events (procevents_exporter)",
    "description": "Every fork, exec and exit: churn, crash loops, lifetimes, by program.",
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
