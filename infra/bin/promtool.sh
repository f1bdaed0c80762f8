#!/usr/bin/env bash
# Checks the Prometheus config and alert rules of the compose stack (infra/prometheus/) with promtool:
# the config and the rules parse, and each alert's unit test (alerts.test.yml) passes. promtool comes
# with Debian's `prometheus` package, installed here when missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT/infra/prometheus"
if ! command -v promtool >/dev/null; then
  echo "[promtool] installing Debian's prometheus package (for promtool)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus >/dev/null; }
fi
promtool check config prometheus.yml >&2
promtool check rules alerts.yml >&2
promtool test rules alerts.test.yml >&2
echo "[promtool] prometheus.yml and alerts.yml are valid and every alert's test passes" >&2
