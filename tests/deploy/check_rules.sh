#!/usr/bin/env bash
# Alert and recording rules are valid, and every alert fires and stays silent as its unit test says.
set -euo pipefail
cd "$(dirname "$0")/../../deploy/prometheus"
promtool check rules procevents.rules.yml
promtool test rules procevents.rules.test.yml
promtool check config --syntax-only prometheus.yml
