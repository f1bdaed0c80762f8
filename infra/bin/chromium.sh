#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is installed (/usr/bin/chromium), for the console's
# browser tests. Quiet and idempotent: does nothing when it is there; installs it with apt-get when
# run as root; otherwise says how and exits 0 (the browser tests then fail with that message).
#
#   infra/bin/chromium.sh          ensure it is installed
#   infra/bin/chromium.sh path     print the executable's path (or nothing) and exit
set -euo pipefail
BROWSER=${CHROMIUM_PATH:-/usr/bin/chromium}
say() { printf '[chromium] %s\n' "$*" >&2; }

if [ "${1:-}" = path ]; then
  [ -x "$BROWSER" ] && echo "$BROWSER"
  exit 0
fi
[ -x "$BROWSER" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  say "Chromium is not installed and this user cannot install it: run 'apt-get install -y chromium' as root"
  exit 0
fi
say "installing Debian's chromium for the browser tests (apt-get; once)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation; } >"$log" 2>&1; then
  say "apt-get could not install chromium (browser tests will fail); its last lines:"
  tail -n 5 "$log" >&2
fi
rm -f "$log"
exit 0
