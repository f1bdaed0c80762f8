#!/usr/bin/env bash
# The entry point behind `npm start` and `npm test`. Works on a fresh clone: it fetches the pinned
# pnpm, installs the workspace, brings up Kafka / Postgres / Redis, then does what was asked.
#
#   start [--demo]   infrastructure + every service in the foreground (Ctrl-C stops what it started)
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

infra_env() {
  export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
  export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/taobi}
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
}

cmd=${1:-}
shift || true
case "$cmd" in
  start)
    ensure_pnpm; ensure_deps; infra_env
    started=$(bash infra/bin/up.sh | sed -n 's/^started \([a-z]*\).*/\1/p' | xargs)
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
