#!/usr/bin/env python3
"""The metric catalogue (metric_names.txt) against the exporter's source and the shipped queries.

  python3 tests/deploy/check_catalogue.py [dashboard] [rules]     (default: both)

1. The catalogue names exactly the families exporter/metrics/*.cpp define, with the same types (their
   labels are checked against the exposition itself by tests/metrics/catalogue_test.cpp).
2. Every series selector in the chosen expressions (promql_exprs.py) names a catalogued metric (or a
   recording rule's series, `up`, `ALERTS`), matches only labels the metric has, with values from the
   label's fixed set where it has one; by/without/on/ignoring name labels that exist; rate(), irate(),
   increase() and resets() read counters (or histogram series); histogram_quantile() reads _bucket series.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import promql_exprs  # noqa: E402

ROOT = promql_exprs.ROOT
CATALOGUE = os.path.join(HERE, 'metric_names.txt')
METRICS_DIR = os.path.join(ROOT, 'exporter', 'metrics')
LABELS_HEADER = os.path.join(ROOT, 'exporter', 'attribution', 'labels.h')

TARGET_LABELS = {'instance': None, 'job': None}


def attribution_labels():
    """{label: None} for every row of the kLabels table in exporter/attribution/labels.h."""
    text = open(LABELS_HEADER).read()
    table = re.search(r'\bkLabels\s*=\s*(?:\{\{|std::to_array<\w+>\(\{)(.*?)\}\)?\}?;', text, re.S)
    names = re.findall(r'\{\s*"([a-z_][a-z0-9_]*)"\s*,', table.group(1)) if table else []
    if not names:
        raise SystemExit('%s: found no rows in the kLabels table; update attribution_labels()' % LABELS_HEADER)
    return dict.fromkeys(names)


ATTRIBUTION_LABELS = attribution_labels()
# Series Prometheus itself writes.
BUILTIN = {
    'up': ('gauge', {}),
    'ALERTS': ('gauge', {'alertname': None, 'alertstate': {'pending', 'firing'}, 'severity': None}),
}
AGGREGATIONS = {'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk',
                'topk', 'quantile', 'limitk', 'limit_ratio'}
KEYWORDS = {'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'start', 'end', 'group_left', 'group_right'}
GROUPING = {'by', 'without', 'on', 'ignoring', 'group_left', 'group_right'}
COUNTER_FUNCTIONS = {'rate', 'irate', 'increase', 'resets'}


def load_catalogue():
    """{name: (type, {label: set_of_values_or_None})}, histograms expanded."""
    out = {}
    with open(CATALOGUE) as f:
        for number, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) != 3 or fields[1] not in ('counter', 'gauge', 'histogram', 'summary'):
                raise SystemExit('%s:%d: want "name type labels"' % (CATALOGUE, number))
            name, kind, label_text = fields
            labels = {}
            if label_text != '-':
                for item in label_text.split(','):
                    label, _, values = item.partition('=')
                    labels[label] = set(values.split('|')) if values else None
            if 'groupname' in labels:
                labels.update(ATTRIBUTION_LABELS)
            labels.update(TARGET_LABELS)
            out[name] = (kind, labels)
    for name, (kind, labels) in list(out.items()):
        if kind == 'histogram':
            out[name + '_bucket'] = ('counter', dict(labels, le=None))
        if kind in ('histogram', 'summary'):
            out[name + '_sum'] = ('counter', labels)
            out[name + '_count'] = ('counter', labels)
    return out


def source_families():
    """{name: type} of every family the metrics layer defines (its Descriptors, in any of its .cpp files)."""
    text = ''.join(open(os.path.join(METRICS_DIR, f)).read() for f in sorted(os.listdir(METRICS_DIR)) if f.endswith('.cpp'))
    found = {}
    pattern = r'"((?:procevents|process|namedprocess)_[a-z0-9_]+)"\s*,\s*(?:"(?:[^"\\]|\\.)*"\s*,\s*)?MetricType::(\w+)'
    for name, kind in re.findall(pattern, text, re.S):
        found[name] = kind.lower()
    return found


def check_source(catalogue, errors):
    source = source_families()
    if not source:
        errors.append('%s: found no metric families; update source_families()' % METRICS_DIR)
        return
    listed = {n: k for n, (k, _) in catalogue.items()
              if not (n.endswith(('_bucket', '_sum', '_count')) and
                      catalogue.get(re.sub(r'_(bucket|sum|count)$', '', n), ('',))[0] in ('histogram', 'summary'))}
    for name in sorted(set(source) - set(listed)):
        errors.append('exporter defines %s (%s) but metric_names.txt does not list it' % (name, source[name]))
    for name in sorted(set(listed) - set(source)):
        errors.append('metric_names.txt lists %s but the exporter does not define it' % name)
    for name in sorted(set(source) & set(listed)):
        if source[name] != listed[name]:
            errors.append('%s is a %s in the exporter, a %s in metric_names.txt' % (name, source[name], listed[name]))


def literal_alternatives(regex):
    """'a|b|c' -> ['a', 'b', 'c'] when the regex is a plain alternation of literals, else None."""
    if re.fullmatch(r'[A-Za-z0-9_+\-]+(\|[A-Za-z0-9_+\-]+)*', regex):
        return regex.split('|')
    return None


def analyse(expr):
    """(selectors, grouping_labels): selectors are (name, [(label, op, value)], [enclosing functions])."""
    tokens = promql_exprs.tokenize(expr)
    selectors, grouping = [], []
    stack, pending = [], None
    i = 0

    def matchers_from(j):
        """Parses {label op "value", ...} starting at tokens[j] == '{'; returns (matchers, index after '}')."""
        out = []
        j += 1
        while tokens[j][1] != '}':
            if tokens[j][1] == ',':
                j += 1
                continue
            label, op, value = tokens[j][1], tokens[j + 1][1], tokens[j + 2][1]
            out.append((label, op, value[1:-1]))
            j += 3
        return out, j + 1

    while i < len(tokens):
        kind, text, _ = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else None
        if kind == 'ident' and text in GROUPING and nxt == '(':
            j = i + 2
            while tokens[j][1] != ')':
                if tokens[j][0] == 'ident':
                    grouping.append(tokens[j][1])
                j += 1
            i = j + 1
            continue
        if kind == 'ident' and nxt == '(':
            stack.append(text)
            i += 2
            continue
        if kind == 'ident' and text in AGGREGATIONS:
            pending = text  # "sum by (x) (...)": the call's parenthesis comes after the grouping
            i += 1
            continue
        if kind == 'ident' and text not in KEYWORDS:
            matchers = []
            i += 1
            if i < len(tokens) and tokens[i][1] == '{':
                matchers, i = matchers_from(i)
            selectors.append((text, matchers, list(stack)))
            continue
        if text == '{':  # {__name__="..."} selector
            matchers, i = matchers_from(i)
            name = next((v for l, o, v in matchers if l == '__name__' and o == '='), None)
            selectors.append((name, [m for m in matchers if m[0] != '__name__'], list(stack)))
            continue
        if text == '(':
            stack.append(pending)
            pending = None
        elif text == ')':
            stack.pop()
        i += 1
    return selectors, grouping


def check_expr(item, catalogue, recorded, errors):
    where, expr = item['source'], item['expr']
    try:
        selectors, grouping = analyse(expr)
    except (IndexError, promql_exprs.ShapeError) as error:
        errors.append('%s: cannot analyse %r: %s' % (where, expr, error))
        return
    available = set(TARGET_LABELS)
    uses_recorded = False
    for name, matchers, functions in selectors:
        if name in recorded:
            uses_recorded = True
            continue
        known = catalogue.get(name) or BUILTIN.get(name)
        if not known:
            errors.append('%s: unknown metric %s (not in metric_names.txt)' % (where, name))
            continue
        kind, labels = known
        available |= set(labels)
        for label, op, value in matchers:
            if label not in labels and label not in TARGET_LABELS:
                errors.append('%s: %s has no label %s' % (where, name, label))
                continue
            allowed = labels.get(label)
            if not allowed:
                continue
            values = [value] if op in ('=', '!=') else literal_alternatives(value)
            for v in values or []:
                if v not in allowed:
                    errors.append('%s: %s{%s} never takes the value %r' % (where, name, label, v))
        direct = next((f for f in reversed(functions) if f), None)
        # A histogram family's own name is its native histogram (protobuf scrapes): rated like a counter,
        # and what histogram_quantile() reads besides the classic _bucket series.
        if direct in COUNTER_FUNCTIONS and kind not in ('counter', 'histogram'):
            errors.append('%s: %s() over %s, a %s' % (where, direct, name, kind))
        if 'histogram_quantile' in functions and not name.endswith('_bucket') and kind != 'histogram':
            errors.append('%s: histogram_quantile() over %s, neither a _bucket series nor a native histogram' % (where, name))
    if not uses_recorded:
        for label in grouping:
            if label not in available:
                errors.append('%s: groups by %s, which none of its metrics has' % (where, label))


def main():
    sources = sys.argv[1:] or ['dashboard', 'rules']
    errors = []
    catalogue = load_catalogue()
    check_source(catalogue, errors)
    rule_items = promql_exprs.rule_exprs()
    recorded = {item['expr'] for item in rule_items if item['kind'] == 'recorded'}
    items = []
    if 'dashboard' in sources:
        items += promql_exprs.dashboard_exprs()
    if 'rules' in sources:
        items += [i for i in rule_items if i['kind'] != 'recorded']
    for item in items:
        check_expr(item, catalogue, recorded, errors)
    if errors:
        print('\n'.join(errors))
        return 1
    used = set()
    for item in items:
        used |= {s[0] for s in analyse(item['expr'])[0]}
    print('catalogue OK: %d families match the exporter; %d %s expressions use %d of its series' %
          (len(source_families()), len(items), '+'.join(sources), len(used & set(catalogue))))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except promql_exprs.ShapeError as error:
        print(error)
        sys.exit(1)
