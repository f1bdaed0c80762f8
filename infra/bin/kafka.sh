#!/usr/bin/env bash
# Runs a real Apache Kafka broker (KRaft, single node) from jars Maven fetches from Maven Central,
# with the machine's Java. No Docker needed.
#
#   infra/bin/kafka.sh start    start (or reuse a broker already answering on the port) and wait
#   infra/bin/kafka.sh stop     stop the broker this script started on the port
#   infra/bin/kafka.sh status   say whether a broker answers on the port
#   infra/bin/kafka.sh fetch    only download the jars
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (port + 1), KAFKA_NODE_DIR (where data, log
# and pid live; default .cache/kafka/node-<port>), KAFKA_HEAP (-Xmx1g), TAOBI_CACHE_DIR (.cache).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${TAOBI_CACHE_DIR:-$ROOT/.cache}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/infra/kafka/pom.xml")
LIBS="$CACHE/kafka/libs-$KAFKA_VERSION"
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
NODE_DIR=${KAFKA_NODE_DIR:-$CACHE/kafka/node-$PORT}
PID_FILE="$NODE_DIR/broker.pid"
LOG_FILE="$NODE_DIR/broker.log"

say() { printf '[kafka] %s\n' "$*" >&2; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  command -v java >/dev/null || { say "Java 17 is required to run Kafka (java not found on PATH)"; exit 1; }
  command -v mvn >/dev/null || { say "Maven is required to fetch Kafka's jars (mvn not found on PATH)"; exit 1; }
  say "first run: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (about 46 MB, once)..."
  rm -rf "$LIBS.tmp"
  # Maven prints one line per artifact it downloads: that is the progress output.
  if ! mvn -B -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS.tmp" -DincludeScope=runtime -Dstyle.color=never \
      -Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=info 2>&1 \
      | sed -u 's/\x1b\[[0-9;]*m//g' | grep -E --line-buffered 'Downloaded from|BUILD|ERROR' \
      | sed -u 's/^/[kafka]   /' >&2; then
    say "could not fetch Kafka from Maven Central (see the Maven output above)"; exit 1
  fi
  [ -f "$LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { say "Maven did not produce kafka_2.13-$KAFKA_VERSION.jar"; exit 1; }
  mv "$LIBS.tmp" "$LIBS"
  touch "$LIBS/.complete"
  say "Kafka jars in $LIBS ($(du -sh "$LIBS" | cut -f1))"
}

format_storage() {
  [ -f "$NODE_DIR/data/meta.properties" ] && return 0
  mkdir -p "$NODE_DIR/data"
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$NODE_DIR/data|g" \
    "$ROOT/infra/kafka/server.properties" > "$NODE_DIR/server.properties"
  local cluster_id
  cluster_id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$NODE_DIR/server.properties" \
    >/dev/null 2>&1 || { say "formatting $NODE_DIR/data failed"; exit 1; }
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid=$(cat "$PID_FILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if answers "$PORT"; then
    say "reusing the broker already answering on 127.0.0.1:$PORT"
    echo reused
    return 0
  fi
  fetch
  format_storage
  mkdir -p "$NODE_DIR"
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (log: $LOG_FILE)"
  # setsid: the broker lives in its own session so a Ctrl-C meant for `npm start` does not kill it
  # mid-write; whoever started it stops it with `kafka.sh stop`.
  setsid java ${KAFKA_HEAP:--Xms256m -Xmx1g} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.logFile="$LOG_FILE" -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -Dorg.slf4j.simpleLogger.log.kafka.request.logger=warn \
    -cp "$LIBS/*" kafka.Kafka "$NODE_DIR/server.properties" >"$NODE_DIR/stdout.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local pid; pid=$(cat "$PID_FILE")
  for _ in $(seq 1 240); do
    if answers "$PORT"; then say "Kafka is up (pid $pid)"; echo started; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "Kafka exited during startup; last lines of its log:"
      tail -n 20 "$LOG_FILE" "$NODE_DIR/stdout.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.25
  done
  say "Kafka did not answer on 127.0.0.1:$PORT within 60 s (log: $LOG_FILE)"; exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    say "no broker started by this script is running on port $PORT"
    return 0
  fi
  say "stopping Kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; say "Kafka stopped"; return 0; }
    sleep 0.25
  done
  say "Kafka did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  fetch) fetch ;;
  status) if answers "$PORT"; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|fetch" >&2; exit 2 ;;
esac
