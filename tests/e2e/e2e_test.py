"""End to end: the exporter and a real Prometheus server (Debian's) on 127.0.0.1, once with the default
series budget, once with every family per group (per_group: [all]), and once with the server's native
histograms on (--enable-feature=native-histograms: it scrapes the protobuf exposition).

A workload runs; then, through Prometheus's HTTP API, every PromQL expression of the dashboard and
of the rules is evaluated (tests/deploy/promql_exprs.py lists them, with what each must return: alert
legs are checked without their threshold since a healthy test host fires none, absent() legs must be
empty), the rules must load healthy, and the workload's exec count must
arrive in Prometheus exactly. With native histograms, 40 runs of one more program must show as a count of 40
in its group's lifetime and peak-memory histograms, with a 0.9 quantile where those runs put it.
The workload's group also burns CPU and holds memory and threads while Prometheus watches: its
procevents:cpu_seconds:rate5m must be above 0, its CPU seconds at least the spin's, its resident memory
at least what it holds and, with per_group: [all], its threads as many as it runs.

Run by ctest through pytest with PROCEVENTS_BINARY and PROCEVENTS_WORKLOAD set.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'deploy'))
from harness import BINARY, WORKLOAD, Exporter, require_root  # noqa: E402
import promql_exprs  # noqa: E402

RULES = os.path.abspath(os.path.join(ROOT, 'deploy', 'prometheus', 'procevents.rules.yml'))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def query(port, expr):
    url = 'http://127.0.0.1:%d/api/v1/query?%s' % (port, urllib.parse.urlencode({'query': expr}))
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body['status'] != 'success':
        raise AssertionError('query failed: %s: %s' % (expr, body))
    return body['data']['result']


# name: (exporter configuration, Prometheus with native histograms)
SETTINGS = {'default': ('', False), 'detailed': ('per_group: [all]\n', False), 'native': ('', True)}
NATIVE_RUNS = 40
NATIVE_SLEEP_MS = 30
HELD_MIB = 32
HELD_THREADS = 8
SPIN_MS = 1500  # longer than a scrape interval: some scrapes read it live


def wait_for_value(port, expr, want, timeout=30):
    """The first series' value of `expr` once it equals `want`, else the last seen (None: no series)."""
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        result = query(port, expr)
        got = float(result[0]['value'][1]) if result else None
        if got == want:
            break
        time.sleep(0.5)
    return got


def wait_for_data(port, expr, timeout=30):
    """The result of `expr` once it has a series, else []."""
    deadline = time.time() + timeout
    while True:
        result = query(port, expr)
        if result or time.time() >= deadline:
            return result
        time.sleep(0.5)


def check_live(prom_port, group, detailed):
    """The group's live figures: CPU rate (the recording rule) above 0 and CPU seconds at least the spin's,
    resident memory at least HELD_MIB,
    and with per_group: [all] at least HELD_THREADS + 2 threads (the holders' main threads)."""
    failures = []
    checks = [('procevents:cpu_seconds:rate5m{groupname="%s"} > 0' % group, 'its CPU rate, live and finished'),
              ('sum(procevents_cpu_seconds_total{groupname="%s"}) >= %g' % (group, 0.95 * SPIN_MS / 1000),
               'the CPU of its finished spin'),
              ('procevents_memory_bytes{groupname="%s",memtype="resident"} >= %d' % (group, HELD_MIB << 20),
               'the resident memory it holds')]
    if detailed:
        checks.append(('procevents_threads{groupname="%s"} >= %d' % (group, HELD_THREADS + 2), 'the threads it runs'))
    for expr, what in checks:
        result = wait_for_data(prom_port, expr)
        if not result:
            failures.append('%s: no data for %s' % (expr, what))
        else:
            print('live: %s -> %s' % (expr, result[0]['value'][1]))
    return failures


def check_native_histograms(prom_port, group):
    """histogram_count() of the group's lifetime and peak memory reach NATIVE_RUNS; their p90 is in range."""
    failures = []
    checks = [('procevents_process_lifetime_seconds', 0.8 * NATIVE_SLEEP_MS / 1000, 1.0),
              ('procevents_exited_peak_resident_memory_bytes', 64 * 1024, 256 * 1024 * 1024)]
    for family, low, high in checks:
        selector = '%s{groupname="%s"}' % (family, group)
        count = wait_for_value(prom_port, 'histogram_count(%s)' % selector, NATIVE_RUNS)
        if count != NATIVE_RUNS:
            failures.append('histogram_count(%s) = %s, expected %d' % (selector, count, NATIVE_RUNS))
            continue
        result = query(prom_port, 'histogram_quantile(0.9, %s)' % selector)
        p90 = float(result[0]['value'][1]) if result else None
        if p90 is None or not low <= p90 <= high:
            failures.append('histogram_quantile(0.9, %s) = %s, expected within [%g, %g]' % (selector, p90, low, high))
        print('native histograms: %s count %d, p90 %s' % (selector, count, p90))
    return failures


@pytest.mark.parametrize('setting', sorted(SETTINGS))
def test_prometheus(setting):
    require_root()
    name = 'pe2e' + str(os.getpid())[-6:]
    work = tempfile.mkdtemp(prefix='procevents-e2e-')
    prometheus = None
    holders = []
    try:
        program = os.path.join(work, name)
        shutil.copy(WORKLOAD, program)
        args = []
        exporter_config, native = SETTINGS[setting]
        if exporter_config:
            args.append('--config.file=' + os.path.join(work, 'procevents.yml'))
            with open(args[-1].split('=', 1)[1], 'w') as f:
                f.write(exporter_config)
        with Exporter(BINARY, *args) as exporter:
            prom_port = free_port()
            config = os.path.join(work, 'prometheus.yml')
            with open(config, 'w') as f:
                f.write('global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
                        'rule_files: [%s]\n'
                        'scrape_configs:\n  - job_name: procevents\n    static_configs:\n'
                        '      - targets: ["127.0.0.1:%d"]\n' % (json.dumps(RULES), exporter.port))
            prometheus = subprocess.Popen(
                ['prometheus', '--config.file=' + config, '--storage.tsdb.path=' + os.path.join(work, 'data'),
                 '--web.listen-address=127.0.0.1:%d' % prom_port, '--log.level=warn'] +
                (['--enable-feature=native-histograms'] if native else []),
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, 'prometheus.log'), 'w'))
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    if query(prom_port, 'up{job="procevents"} == 1'):
                        break
                except Exception:
                    pass
                time.sleep(0.3)
            else:
                raise AssertionError('Prometheus never scraped the exporter:\n' +
                                     open(os.path.join(work, 'prometheus.log')).read())

            # Live processes of the group while Prometheus watches (each one exec, counted in runs).
            holders = [subprocess.Popen([program, 'hold-memory', str(HELD_MIB)]),
                       subprocess.Popen([program, 'hold-threads', str(HELD_THREADS)])]
            runs = len(holders)
            # Every kind of event once at least, so that per-group series exist in the detailed setting too.
            workload = ([('exit', '0')] * 6 + [('exit', '2')] * 2 + [('signal', '11')] * 2 + [('signal', '9')] +
                        [('identity', '65534'), ('threads', '2'), ('spin', str(SPIN_MS))])
            for args in workload:
                subprocess.run([program] + list(args))
                runs += 1
            native_program = program + 'n'
            if native:  # one more program, NATIVE_RUNS times: its group's distributions in one series each
                shutil.copy(WORKLOAD, native_program)
                for _ in range(NATIVE_RUNS):
                    subprocess.run([native_program, 'sleep', str(NATIVE_SLEEP_MS)])

            got = wait_for_value(prom_port, 'procevents_execs_total{groupname="%s"}' % name, runs)
            assert got == runs, 'exec count in Prometheus: %s, expected %d' % (got, runs)
            time.sleep(4)  # a few more scrapes: rate() over 1m needs two samples after the workload

            detailed = setting == 'detailed'
            failures = check_live(prom_port, name, detailed)
            if native:
                failures += check_native_histograms(prom_port, os.path.basename(native_program))
            exprs = (promql_exprs.dashboard_exprs(detailed=detailed, native=native) +
                     promql_exprs.rule_exprs(RULES, detailed, native))
            for item in exprs:
                try:
                    result = query(prom_port, item['expr'])
                except Exception as error:
                    failures.append('%s failed: %s' % (item['source'], error))
                    continue
                if item['expect'] == 'data' and not result:
                    failures.append('%s returned no data: %s' % (item['source'], item['expr']))
                elif item['expect'] == 'empty' and result:
                    failures.append('%s returned data while the exporter is scraped: %s' % (item['source'], item['expr']))
            with urllib.request.urlopen('http://127.0.0.1:%d/api/v1/rules' % prom_port, timeout=10) as r:
                groups = json.load(r)['data']['groups']
            rules = [rule for g in groups for rule in g['rules']]
            unhealthy = [r['name'] for r in rules if r.get('health') != 'ok']
            if unhealthy:
                failures.append('rules not healthy: %s' % unhealthy)
            firing = [r['name'] for r in rules if r.get('type') == 'alerting' and r.get('state') == 'firing']
            if firing:
                failures.append('alerts firing on a healthy host: %s' % firing)
            kinds = {}
            for item in exprs:
                kinds[item['kind']] = kinds.get(item['kind'], 0) + 1
            print('%s setting: evaluated %d expressions (%s), %d rules loaded' %
                  (setting, len(exprs), ', '.join('%d %s' % (n, k) for k, n in sorted(kinds.items())), len(rules)))
            assert not failures, '\n'.join(failures)
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()
        if prometheus:
            prometheus.terminate()
            prometheus.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)

