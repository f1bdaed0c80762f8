#!/usr/bin/env bash
# The entry point behind `npm start` and `npm test`. Works on a fresh clone: it fetches the pinned
# pnpm, installs the workspace, brings up Kafka / Postgres / Redis, then does what was asked.
#
#   start [--demo] [--brokers N] [--instances N]
#                    infrastructure + every service in the foreground (Ctrl-C stops what it started);
#                    --brokers 3: a 3-node Kafka cluster (infra/bin/kafka.sh cluster-start) on 9192-9194
#                    instead of the single broker on 9092; --instances N: N processes of scoring, tier
#                    and entitlement in their consumer groups (ports 8085, 8185, ...)
#   test [jest args] infrastructure if needed, then every test
#   demo [args]      the demo against a running stack (`npm start` in another terminal)
#   infra-up | infra-down
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
say() { printf '[taobi] %s\n' "$*" >&2; }

# pnpm is pinned in package.json's packageManager. Corepack on this Node cannot verify newer pnpm
# signatures, so we install that exact version with npm into .tools/ (git-ignored) instead.
ensure_pnpm() {
  local wanted
  wanted=$(node -p 'require("./package.json").packageManager.split("@")[1]')
  if command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$wanted" ]; then return 0; fi
  export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
  if [ "$(pnpm --version 2>/dev/null || true)" != "$wanted" ]; then
    say "installing pnpm $wanted into .tools/"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" "pnpm@$wanted" >&2
  fi
}

# Installs dependencies when the lockfile changed since the last install.
ensure_deps() {
  local stamp="node_modules/.taobi-install-stamp" sum
  sum=$(cat pnpm-lock.yaml pnpm-workspace.yaml package.json packages/*/package.json services/*/package.json \
    infra/package.json tests/package.json 2>/dev/null | cksum || true)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  say "installing workspace dependencies (pnpm install)"
  pnpm install --frozen-lockfile --reporter=append-only >&2
  echo "$sum" >"$stamp"
}

# --brokers N (N > 1) selects a local Kafka cluster: TAOBI_KAFKA_NODES tells up.sh / down.sh, and
# the services get every node in KAFKA_BROKERS. Its nodes listen from KAFKA_CLUSTER_PORT (9192), clear
# of a single broker on 9092/9093, so both can run side by side.
cluster_env() {
  local nodes=$1 base=${KAFKA_CLUSTER_PORT:-9192}
  [[ "$nodes" =~ ^[0-9]+$ ]] && [ "$nodes" -ge 1 ] || { say "--brokers wants a number, got '$nodes'"; exit 2; }
  [ "$nodes" -gt 1 ] || return 0
  export TAOBI_KAFKA_NODES=$nodes KAFKA_PORT=$base
  KAFKA_BROKERS=${KAFKA_BROKERS:-$(seq "$base" $((base + nodes - 1)) | sed 's/^/127.0.0.1:/' | paste -sd, -)}
  export KAFKA_BROKERS
}

infra_env() {
  export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
  export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/taobi}
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
}

cmd=${1:-}
shift || true
case "$cmd" in
  start)
    args=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --brokers) cluster_env "${2:-}"; shift 2 ;;
        --brokers=*) cluster_env "${1#*=}"; shift ;;
        --instances) export TAOBI_INSTANCES=${2:-}; shift 2 ;;
        --instances=*) export TAOBI_INSTANCES=${1#*=}; shift ;;
        *) args+=("$1"); shift ;;
      esac
    done
    [[ "${TAOBI_INSTANCES:-1}" =~ ^[1-9][0-9]*$ ]] || { say "--instances wants a number, got '$TAOBI_INSTANCES'"; exit 2; }
    set -- "${args[@]}"
    ensure_pnpm; ensure_deps; infra_env
    started=$(bash infra/bin/up.sh | sed -n 's/^started \([a-z-]*\).*/\1/p' | xargs)
    export TAOBI_STARTED_INFRA="$started"
    exec node --conditions=source --import tsx infra/src/stack.ts "$@"
    ;;
  test)
    ensure_pnpm; ensure_deps; infra_env
    bash infra/bin/up.sh >/dev/null
    bash infra/bin/chromium.sh
    exec pnpm --silent exec jest "$@"
    ;;
  demo)
    ensure_pnpm; ensure_deps; infra_env
    exec node --conditions=source --import tsx packages/cli/src/main.ts demo "$@"
    ;;
  infra-up) ensure_pnpm; ensure_deps; infra_env; bash infra/bin/up.sh >/dev/null ;;
  infra-down) bash infra/bin/down.sh "$@" ;;
  *) echo "usage: scripts/taobi.sh start|test|demo|infra-up|infra-down" >&2; exit 2 ;;
esac
