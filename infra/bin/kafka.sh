#!/usr/bin/env bash
# Runs a real Apache Kafka broker (KRaft) from jars Maven fetches from Maven Central, with the
# machine's Java. No Docker needed. One node, or a cluster of N nodes (each a broker and a
# controller, replication factor 3, min.insync.replicas 2: infra/kafka/cluster.properties).
#
#   infra/bin/kafka.sh start            start (or reuse a broker already answering on the port) and wait
#   infra/bin/kafka.sh stop             stop the broker this script started on the port
#   infra/bin/kafka.sh status           say whether a broker answers on the port
#   infra/bin/kafka.sh fetch            only download the jars
#   infra/bin/kafka.sh cluster-start N  start (or reuse) an N-node cluster, wait until every node answers;
#                                       prints `started` or `reused`, then the bootstrap list on stdout
#   infra/bin/kafka.sh cluster-stop N   stop the cluster's nodes this script started
#   infra/bin/kafka.sh node-start I     (re)start node I (1..N) of the cluster
#   infra/bin/kafka.sh node-stop I      stop node I; `node-kill I` kills it (SIGKILL, no clean shutdown)
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (port + 1), KAFKA_NODE_DIR (where data, log
# and pid live; default .cache/kafka/node-<port>), KAFKA_HEAP (-Xmx1g), TAOBI_CACHE_DIR (.cache).
# A cluster's node I listens on KAFKA_PORT + I - 1 and its controller on KAFKA_PORT + 100 + I - 1,
# unless KAFKA_CLUSTER_PORTS / KAFKA_CLUSTER_CONTROLLER_PORTS list them (comma-separated, N each);
# its data is in KAFKA_CLUSTER_DIR/node-I (default .cache/kafka/cluster-<first port>).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${TAOBI_CACHE_DIR:-$ROOT/.cache}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/infra/kafka/pom.xml")
LIBS="$CACHE/kafka/libs-$KAFKA_VERSION"
PORT=${KAFKA_PORT:-9092}
BASE_PORT=$PORT
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
  if [ -n "${NODE_ID:-}" ]; then format_cluster_node; return 0; fi
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

# Cluster mode: node I's ports and directory (sets the globals the single-node functions use).
cluster_size() { echo "${CLUSTER_SIZE:-3}"; }
nth() { echo "$1" | cut -d, -f"$2"; }
cluster_ports() {
  local n; n=$(cluster_size)
  if [ -n "${KAFKA_CLUSTER_PORTS:-}" ]; then echo "$KAFKA_CLUSTER_PORTS"; return; fi
  seq -s, "$BASE_PORT" $((BASE_PORT + n - 1))
}
cluster_controller_ports() {
  local n; n=$(cluster_size)
  if [ -n "${KAFKA_CLUSTER_CONTROLLER_PORTS:-}" ]; then echo "$KAFKA_CLUSTER_CONTROLLER_PORTS"; return; fi
  seq -s, $((BASE_PORT + 100)) $((BASE_PORT + 100 + n - 1))
}
CLUSTER_DIR=${KAFKA_CLUSTER_DIR:-$CACHE/kafka/cluster-$(nth "${KAFKA_CLUSTER_PORTS:-$PORT}" 1)}
use_node() {
  NODE_ID=$1
  PORT=$(nth "$(cluster_ports)" "$1")
  CONTROLLER_PORT=$(nth "$(cluster_controller_ports)" "$1")
  [ -n "$PORT" ] && [ -n "$CONTROLLER_PORT" ] || { say "no ports for node $1 of $(cluster_size)"; exit 2; }
  NODE_DIR="$CLUSTER_DIR/node-$1"
  PID_FILE="$NODE_DIR/broker.pid"
  LOG_FILE="$NODE_DIR/broker.log"
}
format_cluster_node() {
  local voters="" i cluster_id
  for i in $(seq 1 "$(cluster_size)"); do
    voters="$voters${voters:+,}$i@127.0.0.1:$(nth "$(cluster_controller_ports)" "$i")"
  done
  mkdir -p "$NODE_DIR/data"
  sed -e "s|@NODE_ID@|$NODE_ID|g" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
    -e "s|@VOTERS@|$voters|g" -e "s|@DATA_DIR@|$NODE_DIR/data|g" \
    "$ROOT/infra/kafka/cluster.properties" > "$NODE_DIR/server.properties"
  # Every node of a cluster is formatted with the same cluster id, kept beside the nodes.
  if [ ! -f "$CLUSTER_DIR/cluster.id" ]; then
    java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 > "$CLUSTER_DIR/cluster.id"
  fi
  cluster_id=$(cat "$CLUSTER_DIR/cluster.id")
  java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$NODE_DIR/server.properties" \
    >/dev/null 2>&1 || { say "formatting $NODE_DIR/data failed"; exit 1; }
}

launch() {
  fetch
  format_storage
  mkdir -p "$NODE_DIR"
  say "starting Kafka $KAFKA_VERSION${NODE_ID:+ node $NODE_ID} on 127.0.0.1:$PORT (log: $LOG_FILE)"
  # setsid: the broker lives in its own session so a Ctrl-C meant for `npm start` does not kill it
  # mid-write; whoever started it stops it with `kafka.sh stop`.
  setsid java ${KAFKA_HEAP:--Xms256m -Xmx1g} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.logFile="$LOG_FILE" -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -Dorg.slf4j.simpleLogger.log.kafka.request.logger=warn \
    -cp "$LIBS/*" kafka.Kafka "$NODE_DIR/server.properties" >"$NODE_DIR/stdout.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
}

wait_up() {
  local pid; pid=$(cat "$PID_FILE")
  for _ in $(seq 1 480); do
    if answers "$PORT"; then say "Kafka${NODE_ID:+ node $NODE_ID} is up (pid $pid)"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "Kafka${NODE_ID:+ node $NODE_ID} exited during startup; last lines of its log:"
      tail -n 20 "$LOG_FILE" "$NODE_DIR/stdout.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.25
  done
  say "Kafka did not answer on 127.0.0.1:$PORT within 120 s (log: $LOG_FILE)"; exit 1
}

cluster_start() {
  local n i up=0
  n=$(cluster_size)
  [ "$n" -ge 1 ] || { say "a cluster needs at least one node"; exit 2; }
  for i in $(seq 1 "$n"); do use_node "$i"; answers "$PORT" && up=$((up + 1)); done
  if [ "$up" -eq "$n" ]; then
    say "reusing the $n-node cluster already answering on $(cluster_ports)"
    echo reused
  else
    fetch
    mkdir -p "$CLUSTER_DIR"
    # Launch every node before waiting: a controller needs a majority of its voters to elect a leader.
    for i in $(seq 1 "$n"); do
      use_node "$i"
      answers "$PORT" || running_pid >/dev/null || launch
    done
    for i in $(seq 1 "$n"); do use_node "$i"; answers "$PORT" || wait_up; done
    echo started
  fi
  cluster_ports | tr ',' '\n' | sed 's/^/127.0.0.1:/' | paste -sd, -
}

start() {
  if answers "$PORT"; then
    say "reusing the broker already answering on 127.0.0.1:$PORT"
    echo reused
    return 0
  fi
  launch
  wait_up
  echo started
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
  cluster-start) CLUSTER_SIZE=${2:-3} cluster_start ;;
  cluster-stop)
    CLUSTER_SIZE=${2:-3}
    for i in $(seq 1 "$CLUSTER_SIZE"); do use_node "$i"; stop; done ;;
  node-start) use_node "${2:?node number}"; if answers "$PORT"; then say "node $2 already answers"; else launch; wait_up; fi ;;
  node-stop) use_node "${2:?node number}"; stop ;;
  node-kill)
    use_node "${2:?node number}"
    if pid=$(running_pid); then say "killing node $2 (pid $pid)"; kill -KILL "$pid"; rm -f "$PID_FILE"; fi ;;
  start) start ;;
  stop) stop ;;
  fetch) fetch ;;
  status) if answers "$PORT"; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|fetch|cluster-start N|cluster-stop N|node-start I|node-stop I|node-kill I" >&2; exit 2 ;;
esac
