#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine (Debian's docker-compose parses and resolves
# it offline) and checks that every service under services/ is part of it and scraped by Prometheus.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if ! command -v docker-compose >/dev/null; then
  echo "[compose] installing Debian's docker-compose (to validate the compose file; no engine needed)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends docker-compose >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends docker-compose >/dev/null; }
fi
docker-compose config -q
declared=$(docker-compose config --services | sort)
missing=0
for dir in services/*/; do
  [ -f "$dir/src/main.ts" ] || continue
  name=$(basename "$dir")
  if ! grep -qx "$name" <<<"$declared"; then
    echo "[compose] services/$name is not in docker-compose.yml" >&2
    missing=1
  fi
  if ! grep -q "\"$name:[0-9]*\"" infra/prometheus/prometheus.yml; then
    echo "[compose] services/$name is not scraped in infra/prometheus/prometheus.yml" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1
echo "[compose] docker-compose.yml is valid and lists every service ($(wc -l <<<"$declared") entries)" >&2
