#!/usr/bin/env python3
"""Every alert in deploy/prometheus/procevents.rules.yml, and the mixin's opt-in alerts (rendered with
expectedPrograms set), has a runbook_url that resolves to a section of a runbook in this repository, each section says what the alert means, how to confirm it (a PromQL query that
promtool accepts) and what to do, and no section is left over from a removed alert.

  python3 tests/deploy/check_runbook.py
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
RULES = os.path.join(ROOT, 'deploy', 'prometheus', 'procevents.rules.yml')
RUNBOOK = 'docs/runbook.md'
PARTS = ('**Meaning.**', '**Confirm.**', '**Action.**')
# The mixin with every opt-in alert on: their runbook sections are checked like the shipped alerts'.
OPT_IN = '((import "mixin.libsonnet") + {_config+:: {expectedPrograms: ["example"]}}).prometheusAlerts'


def anchor(heading):
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def sections(path):
    """{anchor: (heading, body)} of the '## ' sections of a Markdown file."""
    found, heading, body = {}, None, []
    for line in open(path, encoding='utf-8'):
        if line.startswith('## '):
            if heading:
                found[anchor(heading)] = (heading, ''.join(body))
            heading, body = line[3:].strip(), []
        elif heading:
            body.append(line)
    if heading:
        found[anchor(heading)] = (heading, ''.join(body))
    return found


def main():
    errors = []
    rules = yaml.safe_load(open(RULES))
    alerts = [r for g in rules['groups'] for r in g['rules'] if 'alert' in r]
    opt_in = yaml.safe_load(subprocess.run(['jsonnet', '-J', os.path.join(ROOT, 'mixin'), '-e', OPT_IN],
                                           check=True, capture_output=True, text=True).stdout)
    shipped = {r['alert'] for r in alerts}
    alerts += [r for g in opt_in['groups'] for r in g['rules'] if r['alert'] not in shipped]
    documents = {}
    for rule in alerts:
        name = rule['alert']
        expected = '%s#%s' % (RUNBOOK, anchor(name))
        todo = ('give it the annotation "runbook_url: %s" in mixin/alerts.libsonnet, run bash mixin/render.sh '
                '(and add it to exp_annotations in procevents.rules.test.yml), and add a section "## %s" to %s with %s'
                % (expected, name, RUNBOOK, ', '.join(PARTS)))
        url = rule.get('annotations', {}).get('runbook_url')
        if not url:
            errors.append('alert %s has no runbook_url: %s' % (name, todo))
            continue
        path, _, fragment = url.partition('#')
        if path.startswith('/') or '://' in path or not os.path.isfile(os.path.join(ROOT, path)) or not fragment:
            errors.append('alert %s: runbook_url %s is not <file in this repository>#<section>: %s' % (name, url, todo))
            continue
        found = documents.setdefault(path, sections(os.path.join(ROOT, path)))
        if fragment not in found:
            errors.append('alert %s: %s has no section #%s: %s' % (name, path, fragment, todo))
            continue
        heading, body = found[fragment]
        missing = [p for p in PARTS if p not in body]
        if missing:
            errors.append('%s#%s (%s) lacks %s' % (path, fragment, heading, ', '.join(missing)))
        if not re.search(r'```promql\n.+?```', body, re.S):
            errors.append('%s#%s (%s): **Confirm.** needs a ```promql query' % (path, fragment, heading))
    names = {anchor(r['alert']) for r in alerts}
    for path, found in documents.items():
        for fragment, (heading, _) in found.items():
            if fragment not in names:
                errors.append('%s: section "## %s" has no alert (remove it, or name it after the alert)' % (path, heading))

    # The confirming queries parse: promtool checks them as recording rules.
    queries = [q.strip() for _, body in sections(os.path.join(ROOT, RUNBOOK)).values()
               for q in re.findall(r'```promql\n(.+?)```', body, re.S)]
    with tempfile.NamedTemporaryFile('w', suffix='.yml') as scratch:
        yaml.safe_dump({'groups': [{'name': 'runbook', 'rules': [
            {'record': 'runbook:query%d' % i, 'expr': q} for i, q in enumerate(queries)]}]}, scratch)
        scratch.flush()
        result = subprocess.run(['promtool', 'check', 'rules', scratch.name], capture_output=True, text=True)
        if result.returncode != 0:
            errors.append('a runbook query does not parse:\n' + result.stdout + result.stderr)

    if errors:
        print('\n'.join(errors))
        return 1
    print('every alert (%d) has a runbook section with meaning, a query (%d parse) and an action'
          % (len(alerts), len(queries)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
