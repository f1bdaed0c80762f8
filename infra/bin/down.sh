#!/usr/bin/env bash
# Stops what `up.sh` started. With no arguments, stops only the Kafka broker (Postgres and Redis
# belong to the machine); `down.sh kafka redis postgres` names components explicitly, and
# `kafka-cluster` the local cluster of `npm start -- --brokers N` (TAOBI_KAFKA_NODES, KAFKA_PORT).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
say() { printf '[infra] %s\n' "$*" >&2; }
components=("$@")
[ ${#components[@]} -gt 0 ] || components=(kafka)
for component in "${components[@]}"; do
  case "$component" in
    kafka) bash "$ROOT/infra/bin/kafka.sh" stop ;;
    kafka-cluster) bash "$ROOT/infra/bin/kafka.sh" cluster-stop "${TAOBI_KAFKA_NODES:-3}" ;;
    redis) say "stopping Redis"; redis-cli -p "${REDIS_PORT:-6379}" shutdown nosave >/dev/null 2>&1 || true ;;
    postgres)
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      say "stopping Postgres $version/main"
      pg_ctlcluster --skip-systemctl-redirect "$version" main stop >&2 || true ;;
    *) say "unknown component: $component" ;;
  esac
done
