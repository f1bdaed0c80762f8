#!/usr/bin/env bash
# Brings up the local (no-Docker) infrastructure: Postgres and Redis from the machine (started if
# installed but stopped), a real Kafka broker (infra/bin/kafka.sh), the topics and the `taobi`
# database. Idempotent: whatever already runs is reused.
#
# Prints, on stdout, one line per component it had to start ("started kafka", ...), so a caller
# (npm start) can stop exactly what it started and nothing else.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
say() { printf '[infra] %s\n' "$*" >&2; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_port() {
  for _ in $(seq 1 120); do answers "$1" && return 0; sleep 0.25; done
  return 1
}

# start_server NAME PORT STARTED HINT COMMAND...: runs COMMAND, waits for PORT, then prints "started
# STARTED"; on a failure names the server and says where to look (HINT).
start_server() {
  local name=$1 port=$2 started=$3 hint=$4
  shift 4
  "$@" >&2 || { say "could not start $name: $hint"; exit 1; }
  wait_for_port "$port" || { say "$name did not come up on port $port"; exit 1; }
  echo "started $started"
}

PG_PORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

if answers "$PG_PORT"; then
  say "Postgres answers on 127.0.0.1:$PG_PORT"
elif command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "Postgres is installed but stopped: starting cluster $version/main"
  start_server Postgres "$PG_PORT" "postgres $version" \
    "run 'pg_ctlcluster $version main start' and look at its log" \
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
else
  say "Postgres is not running on 127.0.0.1:$PG_PORT and is not installed here."
  say "Install PostgreSQL 15+ (trust auth for 127.0.0.1) or point DATABASE_URL at one."
  exit 1
fi

if answers "$REDIS_PORT"; then
  say "Redis answers on 127.0.0.1:$REDIS_PORT"
elif command -v redis-server >/dev/null; then
  say "Redis is installed but stopped: starting it on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$ROOT/.cache/redis"
  start_server Redis "$REDIS_PORT" "redis $REDIS_PORT" "its log is .cache/redis/redis.log" \
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$ROOT/.cache/redis" --logfile "$ROOT/.cache/redis/redis.log"
else
  say "Redis is not running on 127.0.0.1:$REDIS_PORT and redis-server is not installed."
  say "Install Redis 7 or point REDIS_URL at one."
  exit 1
fi

if [ "${TAOBI_KAFKA_NODES:-1}" -gt 1 ]; then
  # A local cluster (npm start -- --brokers N): KAFKA_PORT is its first node, KAFKA_BROKERS lists them.
  if [ "$(bash "$ROOT/infra/bin/kafka.sh" cluster-start "$TAOBI_KAFKA_NODES" | head -n 1)" = started ]; then
    echo "started kafka-cluster"
  fi
elif [ "$(bash "$ROOT/infra/bin/kafka.sh" start)" = started ]; then echo "started kafka"; fi

# Topics and the database, through the project's own clients (contracts decide the topics).
if [ ! -d "$ROOT/node_modules/tsx" ]; then
  say "workspace dependencies are not installed: use \`npm run infra:up\` (it installs them first)"
  exit 1
fi
(cd "$ROOT" && node --conditions=source --import tsx infra/src/prepare.ts) >&2
