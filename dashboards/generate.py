#!/usr/bin/env python3
"""Generates procevents.json (Grafana, Classic JSON model). Run: python3 dashboards/generate.py

A `datasource` template variable instead of __inputs, so the file works both when imported and when
provisioned from disk; every panel and target refers to ${datasource}.
"""
import json
import os

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'instance=~"$instance"'
GSEL = 'instance=~"$instance",groupname=~"$groupname"'
RI = '$__rate_interval'
FATAL = 'SIGSEGV|SIGABRT|SIGBUS|SIGILL|SIGFPE|SIGKILL'

panels = []


def panel(title, targets, x, y, w=12, h=8, kind="timeseries", unit=None, description="", **extra):
    p = {
        "id": len(panels) + 1,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [dict({"datasource": DS, "refId": chr(ord("A") + i)}, **t) for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": {},
    }
    p.update(extra)
    panels.append(p)


def t(expr, legend=""):
    return {"expr": expr, "legendFormat": legend}


def row(title, y):
    panels.append({"id": len(panels) + 1, "type": "row", "title": title, "collapsed": False,
                   "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})


row("Process churn", 0)
panel("Event rates", [t('sum by (event) (rate(procevents_events_total{%s,event=~"fork|exec|exit"}[%s]))' % (SEL, RI), "{{event}}")],
      0, 1, unit="ops", description="Fork, exec and exit events per second, threads included.")
panel("Top groups by exec rate", [t('topk(10, sum by (groupname) (rate(procevents_execs_total{%s}[%s])))' % (GSEL, RI), "{{groupname}}")],
      12, 1, unit="ops")
panel("Forks by kind", [t('sum by (kind) (rate(procevents_forks_total{%s}[%s]))' % (GSEL, RI), "{{kind}}")], 0, 9, unit="ops")
panel("Live processes (top 10 groups)", [t('topk(10, sum by (groupname) (procevents_processes{%s}))' % GSEL, "{{groupname}}")],
      12, 9)

row("Exits and crashes", 17)
panel("Exits by outcome", [t('sum by (outcome) (rate(procevents_exits_total{%s}[%s]))' % (GSEL, RI), "{{outcome}}")], 0, 18,
      unit="ops")
panel("Exits by signal", [t('sum by (signal) (rate(procevents_signal_exits_total{%s}[%s]))' % (GSEL, RI), "{{signal}}")],
      12, 18, unit="ops")
panel("Crash loops: fatal signals per group (10m)",
      [t('topk(10, sum by (groupname) (increase(procevents_signal_exits_total{%s,signal=~"%s"}[10m])))' % (GSEL, FATAL),
         "{{groupname}}")], 0, 26, description="Deaths by SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE or SIGKILL in the last 10 minutes.")
panel("Core dumps", [t('sum by (groupname) (increase(procevents_coredumps_total{%s}[10m]))' % GSEL, "{{groupname}}")], 12, 26)

row("Process lifetime", 34)
panel("Lifetime distribution", [dict(t('sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s]))' % (GSEL, RI),
                                       "{{le}}"), format="heatmap")],
      0, 35, kind="heatmap", options={"calculate": False, "yAxis": {"unit": "s"}, "cellGap": 1})
panel("Lifetime quantiles", [
    t('histogram_quantile(0.5, sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s])))' % (GSEL, RI), "p50"),
    t('histogram_quantile(0.9, sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s])))' % (GSEL, RI), "p90"),
    t('histogram_quantile(0.99, sum by (le) (rate(procevents_process_lifetime_seconds_bucket{%s}[%s])))' % (GSEL, RI), "p99"),
], 12, 35, unit="s")
panel("Short-lived share (< 1 s)", [t(
    'sum(rate(procevents_process_lifetime_seconds_bucket{%s,le="1"}[%s])) / sum(rate(procevents_process_lifetime_seconds_count{%s}[%s]))'
    % (GSEL, RI, GSEL, RI), "share")], 0, 43, unit="percentunit",
    description="Fraction of exiting processes that lived less than a second.")
panel("Identity changes", [
    t('sum by (to_root) (rate(procevents_uid_changes_total{%s}[%s]))' % (GSEL, RI), "uid to_root={{to_root}}"),
    t('sum by (op) (rate(procevents_ptrace_total{%s}[%s]))' % (GSEL, RI), "ptrace {{op}}"),
], 12, 43, unit="ops")

row("Exporter health", 51)
panel("Lost events", [t('sum by (reason) (rate(procevents_events_lost_total{%s}[%s]))' % (SEL, RI), "{{reason}}")], 0, 52,
      w=8, unit="ops", description="kernel_overrun: socket buffer overflowed; ring_full: the aggregator fell behind.")
panel("Ring pressure", [
    t('max by (instance) (procevents_ring_used{%s} / procevents_ring_capacity{%s})' % (SEL, SEL), "used {{instance}}"),
    t('max by (instance) (procevents_ring_high_watermark{%s} / procevents_ring_capacity{%s})' % (SEL, SEL),
      "high watermark {{instance}}"),
], 8, 52, w=8, unit="percentunit")
panel("Subscribed", [t('min(procevents_connector_up{%s})' % SEL, "")], 16, 52, w=4, kind="stat",
      options={"colorMode": "background", "reduceOptions": {"calcs": ["lastNotNull"]}})
panel("Tracked processes", [t('sum(procevents_tracked_processes{%s})' % SEL, "")], 20, 52, w=4, kind="stat")
panel("Exporter memory and CPU", [
    t('process_resident_memory_bytes{job=~".*procevents.*",%s}' % SEL, "resident {{instance}}"),
], 0, 60, w=8, unit="bytes")
panel("Exporter CPU", [t('rate(process_cpu_seconds_total{job=~".*procevents.*",%s}[%s])' % (SEL, RI), "{{instance}}")], 8, 60,
      w=8, unit="percentunit")
panel("Build", [dict(t('procevents_build_info{%s}' % SEL, ""), format="table", instant=True)], 16, 60, w=8, kind="table")

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
    "annotations": {"list": []},
    "links": [],
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "hide": 0,
         "current": {}, "refresh": 1, "options": []},
        {"name": "instance", "label": "Instance", "type": "query", "datasource": DS,
         "query": {"query": "label_values(procevents_build_info, instance)", "refId": "instance"},
         "definition": "label_values(procevents_build_info, instance)", "refresh": 2, "multi": True,
         "includeAll": True, "allValue": ".*", "current": {}, "options": [], "sort": 1, "hide": 0},
        {"name": "groupname", "label": "Group", "type": "query", "datasource": DS,
         "query": {"query": 'label_values(procevents_processes{instance=~"$instance"}, groupname)', "refId": "groupname"},
         "definition": 'label_values(procevents_processes{instance=~"$instance"}, groupname)', "refresh": 2,
         "multi": True, "includeAll": True, "allValue": ".*", "current": {}, "options": [], "sort": 1, "hide": 0},
    ]},
    "panels": panels,
}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "procevents.json"), "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
