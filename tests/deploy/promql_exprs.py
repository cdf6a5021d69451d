#!/usr/bin/env python3
"""Every PromQL expression the project ships, one JSON object per line, for tests that evaluate them
against a real Prometheus (tests/e2e) or check them offline (check_dashboard.sh, check_rules.sh).

  python3 tests/deploy/promql_exprs.py [--dashboard FILE] [--rules FILE] [--detailed] [--native]

Each line: {"source": "...", "kind": "...", "expr": "...", "expect": "..."}

kind    panel        a dashboard panel target; Grafana variables substituted: $job, $instance and $groupname
                     (any form: $x, ${x}, ${x:fmt}, [[x]]) -> .*, $__rate_interval and $__interval -> 1m,
                     $__range -> 1h
        variable     the series selector inside a dashboard variable's label_values() query
        record       a recording rule's expression
        recorded     the series a recording rule writes (exists only where the rules are loaded)
        alert        an alert's whole expression
        alert_probe  one `or` leg of an alert without its threshold comparison: the series the alert watches
        alert_absent an absent(...) leg of an alert
expect  data         returns at least one series from a scraped exporter that has seen some processes
        empty        returns nothing while the exporter is scraped (absent() legs)
        any          evaluation must succeed; whether it returns data depends on the host (alert conditions,
                     queries that read only HOST_DEPENDENT series, or with --detailed (per_group: [all])
                     DETAILED_HOST_DEPENDENT ones)

Exit status 1 (with the reason on stderr) when an alert does not have the shape the probes need
(`<expr> <comparison> <number>` legs joined by `or`, or absent(...) legs) or a dashboard query uses a
variable this script does not know.
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DASHBOARD = os.path.join(ROOT, 'dashboards', 'procevents.json')
RULES = os.path.join(ROOT, 'deploy', 'prometheus', 'procevents.rules.yml')

# Values that make a dashboard query a plain PromQL query.
VARIABLES = {
    'job': '.*',
    'instance': '.*',
    'groupname': '.*',
    '__rate_interval': '1m',
    '__interval': '1m',
    '__range': '1h',
}
VARIABLE = re.compile(r'\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]')

# Series that exist only where the host provides something: a query that reads nothing else may
# return nothing even from a busy exporter.
HOST_DEPENDENT = {
    'procevents_exited_cpu_delay_seconds_total': 'delay accounting (sysctl kernel.task_delayacct=1)',
    'procevents_exited_blkio_delay_seconds_total': 'delay accounting, and processes that waited for block I/O',
}
# With per_group: [all] (the detailed setting) these are per group, and a group's series appears only
# once it has something to say: storage I/O only from processes that missed the page cache (reads) or
# dirtied pages of a disk-backed file (writes).
DETAILED_HOST_DEPENDENT = {
    'procevents_exited_storage_read_bytes_total': 'storage reads that missed the page cache, by exited processes',
    'procevents_exited_storage_written_bytes_total': 'writes to disk-backed files by exited processes',
}


# Histogram families a server with native histograms (protobuf scrapes) stores as one native series per
# group, without _bucket, _count or _sum series; a classic server stores only those, per host unless
# per_group says otherwise (then with a non-empty groupname). Queries ask for both, joined by `or`.
NATIVE_HISTOGRAMS = {'procevents_process_lifetime_seconds', 'procevents_exited_peak_resident_memory_bytes'}
CLASSIC_SERIES = {name + suffix for name in NATIVE_HISTOGRAMS for suffix in ('_bucket', '_count', '_sum')}
# Gauges per host (no groupname) unless per_group names them: a leg that keeps only per-group series
# (groupname!="") has data only with per_group, like the classic per-group buckets above.
PER_HOST_BY_DEFAULT = {'procevents_threads'}


class ShapeError(Exception):
    pass


# ---- a small PromQL tokenizer (enough to find the top level, selectors, label lists) ----

TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>\[[^\]]*\])
  | (?P<offset>(?:[0-9]+(?:ms|[smhdwy]))+(?![A-Za-z0-9_:]))
  | (?P<number>(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)(?![A-Za-z_:]))
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=,(){}@])
''', re.VERBOSE)


def tokenize(expr):
    """[(kind, text, offset)] without whitespace and comments; raises ShapeError on a stray character."""
    tokens, pos = [], 0
    while pos < len(expr):
        match = TOKEN.match(expr, pos)
        if not match:
            raise ShapeError('cannot tokenize %r at offset %d' % (expr, pos))
        kind = match.lastgroup
        if kind not in ('space', 'comment'):
            tokens.append((kind, match.group(), pos))
        pos = match.end()
    return tokens


def split_top_level(expr, keyword):
    """Splits expr at `keyword` (e.g. "or") where it is a binary operator outside any parentheses."""
    parts, depth, start = [], 0, 0
    for kind, text, pos in tokenize(expr):
        if text in ('(', '{'):
            depth += 1
        elif text in (')', '}'):
            depth -= 1
        elif depth == 0 and kind == 'ident' and text == keyword:
            parts.append(expr[start:pos])
            start = pos + len(text)
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def strip_parens(expr):
    expr = expr.strip()
    while expr.startswith('(') and expr.endswith(')'):
        depth = 0
        for i, ch in enumerate(expr):
            depth += ch == '('
            depth -= ch == ')'
            if depth == 0 and i < len(expr) - 1:
                return expr  # "(a) + (b)": the outer parentheses are not one pair
        expr = expr[1:-1].strip()
    return expr


def strip_threshold(leg):
    """'<expr> > 5' -> '<expr>': removes one trailing top-level comparison with a number."""
    tokens = tokenize(leg)
    depth = 0
    for i, (kind, text, pos) in enumerate(tokens):
        if text in ('(', '{'):
            depth += 1
        elif text in (')', '}'):
            depth -= 1
        elif depth == 0 and text in ('==', '!=', '>', '<', '>=', '<='):
            rest = tokens[i + 1:]
            if rest and rest[0][1] == 'bool':
                rest = rest[1:]
            if len(rest) == 1 and rest[0][0] == 'number':
                return leg[:pos].strip()
    raise ShapeError('no trailing "<comparison> <number>" in %r' % leg)


# ---- sources ----

def substitute(expr, where):
    def replace(match):
        name = next(g for g in match.groups() if g)
        if name not in VARIABLES:
            raise ShapeError('%s: unknown dashboard variable $%s (add it to VARIABLES)' % (where, name))
        return VARIABLES[name]
    return VARIABLE.sub(replace, expr)


def leg_can_have_data(leg, detailed, native):
    """False when a top-level `or` leg reads a histogram form this server does not store (native histograms on a
    classic server, classic series on a native one), per-group series (groupname!="") of a family that is
    per host without per_group (CLASSIC_SERIES, PER_HOST_BY_DEFAULT), or only HOST_DEPENDENT series
    (DETAILED_HOST_DEPENDENT ones in the detailed setting)."""
    tokens = tokenize(leg)
    names = {text for kind, text, _ in tokens if kind == 'ident' and text.startswith(('procevents_', 'process_'))}
    absent = CLASSIC_SERIES if native else NATIVE_HISTOGRAMS
    if names & absent:
        return False
    per_group_classic = any(tokens[i][1] == 'groupname' and tokens[i + 1][1] == '!=' and tokens[i + 2][1] == '""'
                            for i in range(len(tokens) - 2))
    if per_group_classic and names & (CLASSIC_SERIES | PER_HOST_BY_DEFAULT) and not detailed:
        return False
    sparse = set(HOST_DEPENDENT) | (set(DETAILED_HOST_DEPENDENT) if detailed else set())
    return not (names and names <= sparse)


def expectation(expr, detailed=False, native=False):
    """'data' when some top-level `or` leg can return data in this setting (leg_can_have_data), else 'any'.
    `native`: the server ingests native histograms (it scrapes protobuf)."""
    legs = split_top_level(expr, 'or')
    return 'data' if any(leg_can_have_data(leg, detailed, native) for leg in legs) else 'any'


def dashboard_exprs(path=DASHBOARD, detailed=False, native=False):
    with open(path) as f:
        dashboard = json.load(f)
    out = []
    for var in dashboard.get('templating', {}).get('list', []):
        query = var.get('query')
        if isinstance(query, dict):
            query = query.get('query')
        if var.get('type') != 'query' or not isinstance(query, str):
            continue
        match = re.fullmatch(r'\s*label_values\((.*),\s*\w+\)\s*', query)
        if match:
            where = 'dashboard variable %s' % var['name']
            out.append({'source': where, 'kind': 'variable', 'expr': substitute(match.group(1), where), 'expect': 'data'})

    def walk(panels):
        for panel in panels:
            yield panel
            yield from walk(panel.get('panels', []))

    for panel in walk(dashboard.get('panels', [])):
        for target in panel.get('targets', []):
            if not target.get('expr'):
                continue
            where = 'dashboard panel %s "%s" target %s' % (panel.get('id'), panel.get('title'), target.get('refId'))
            expr = substitute(target['expr'], where)
            out.append({'source': where, 'kind': 'panel', 'expr': expr, 'expect': expectation(expr, detailed, native)})
    return out


def rule_exprs(path=RULES, detailed=False, native=False):
    import yaml  # python3-yaml
    with open(path) as f:
        rules = yaml.safe_load(f)
    out = []
    for group in rules['groups']:
        for rule in group['rules']:
            expr = rule['expr'].strip()
            if 'record' in rule:
                where = 'rule record %s' % rule['record']
                out.append({'source': where, 'kind': 'record', 'expr': expr, 'expect': expectation(expr, detailed, native)})
                out.append({'source': 'recorded series %s' % rule['record'], 'kind': 'recorded',
                            'expr': rule['record'], 'expect': expectation(expr, detailed, native)})
                continue
            where = 'rule alert %s' % rule['alert']
            out.append({'source': where, 'kind': 'alert', 'expr': expr, 'expect': 'any'})
            for i, leg in enumerate(split_top_level(expr, 'or')):
                leg = strip_parens(leg)
                if re.match(r'absent(_over_time)?\s*\(', leg):
                    out.append({'source': '%s, leg %d (absent)' % (where, i + 1), 'kind': 'alert_absent',
                                'expr': leg, 'expect': 'empty'})
                else:
                    try:
                        probe = strip_threshold(leg)
                    except ShapeError as error:
                        raise ShapeError('%s: %s' % (where, error))
                    out.append({'source': '%s, leg %d without its threshold' % (where, i + 1),
                                'kind': 'alert_probe', 'expr': probe, 'expect': 'data'})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dashboard', default=DASHBOARD)
    parser.add_argument('--rules', default=RULES)
    parser.add_argument('--detailed', action='store_true', help='expectations for per_group: [all]')
    parser.add_argument('--native', action='store_true', help='expectations for a server with native histograms')
    args = parser.parse_args()
    try:
        exprs = (dashboard_exprs(args.dashboard, args.detailed, args.native) +
                 rule_exprs(args.rules, args.detailed, args.native))
    except ShapeError as error:
        print('promql_exprs.py: %s' % error, file=sys.stderr)
        return 1
    for item in exprs:
        print(json.dumps(item))
    return 0


if __name__ == '__main__':
    sys.exit(main())
