#!/usr/bin/env bash
# Pushtech local stack: Kafka (KRaft, one node, or three with --brokers 3), Redis and FerretDB
# (Mongo wire protocol), real servers on 127.0.0.1, run as this project's own instances. No Docker.
#
#   bash scripts/stack.sh up              start what is not running (installs on first run), wait until ready
#   bash scripts/stack.sh up --brokers 3  the same with Kafka as three KRaft nodes (a new stack dir: kept for it)
#   bash scripts/stack.sh down [--wipe]   stop our servers (--wipe also deletes their data)
#   bash scripts/stack.sh status          one line per server; exit 0 if all running/external, else 3
#   bash scripts/stack.sh env             export lines: eval "$(bash scripts/stack.sh env)"
#   bash scripts/stack.sh clean           down --wipe
#
# See stack/README.md for ports, environment variables and the install cache.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
STACK_DIR=$(realpath -m "${PUSHTECH_STACK_DIR:-$ROOT/.stack}")
CACHE_DIR=$(realpath -m "${PUSHTECH_CACHE_DIR:-${HOME:-/root}/.cache/pushtech}")

KAFKA_VERSION=4.1.1
FERRETDB_VERSION=1.24.2
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
FERRETDB_BIN="$CACHE_DIR/ferretdb-$FERRETDB_VERSION/ferretdb"

KAFKA_PORT=${PUSHTECH_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${PUSHTECH_KAFKA_CONTROLLER_PORT:-19093}
REDIS_PORT=${PUSHTECH_REDIS_PORT:-16379}
MONGO_PORT=${PUSHTECH_MONGO_PORT:-27117}

KAFKA_START_TIMEOUT=${PUSHTECH_KAFKA_START_TIMEOUT:-60}
REDIS_START_TIMEOUT=30
FERRETDB_START_TIMEOUT=30
STOP_TIMEOUT=15

# Kafka nodes: node 1 is `kafka` (ports above), node N is `kafka-N` on the ports 2(N-1) above them.
# The count is kept in $STACK_DIR/kafka.nodes once the stack dir has data (`up --brokers N` sets it).
KAFKA_NODES=1
MAX_KAFKA_NODES=5
KAFKA_PORT_STEP=2
kafka_names() {
  local i
  echo kafka
  for ((i = 2; i <= KAFKA_NODES; i++)); do echo "kafka-$i"; done
}
set_servers() { mapfile -t SERVERS < <(kafka_names; echo redis; echo ferretdb); }
SERVERS=()

# ---------------------------------------------------------------------------------------------
# helpers

say() { printf 'stack: %s\n' "$*"; }
warn() { printf 'stack: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

# True when some socket listens on TCP port $1 (any address, IPv4 or IPv6). Reads the kernel's
# socket tables instead of connecting, so servers do not log a dropped connection for every probe
# (FerretDB warns about each one); falls back to a bash /dev/tcp connect to 127.0.0.1.
port_open() {
  local hex tables=()
  hex=$(printf ':%04X' "$1")
  [[ -r /proc/net/tcp ]] && tables+=(/proc/net/tcp)
  [[ -r /proc/net/tcp6 ]] && tables+=(/proc/net/tcp6)
  if ((${#tables[@]} > 0)); then
    # Columns: sl local_address rem_address st ...; st 0A = LISTEN.
    awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
      "${tables[@]}"
  else
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
  fi
}

server_dir() { printf '%s/%s' "$STACK_DIR" "$1"; }
pid_file() { printf '%s/%s/%s.pid' "$STACK_DIR" "$1" "$1"; }
addr_file() { printf '%s/%s/%s.addr' "$STACK_DIR" "$1" "$1"; }

# kafka → 1, kafka-3 → 3
kafka_node() { [[ $1 == kafka ]] && echo 1 || echo "${1#kafka-}"; }
kafka_port() { echo $((KAFKA_PORT + KAFKA_PORT_STEP * ($(kafka_node "$1") - 1))); }
kafka_controller_port() { echo $((KAFKA_CONTROLLER_PORT + KAFKA_PORT_STEP * ($(kafka_node "$1") - 1))); }
# Which kind of server a name is: kafka, redis or ferretdb.
kind() { [[ $1 == kafka || $1 == kafka-* ]] && echo kafka || echo "$1"; }
ready() { "$(kind "$1")_ready" "$1"; }

main_port() {
  case $1 in
    kafka | kafka-*) kafka_port "$1" ;;
    redis) echo "$REDIS_PORT" ;;
    ferretdb) echo "$MONGO_PORT" ;;
  esac
}

port_var() {
  case $1 in
    kafka | kafka-*) echo PUSHTECH_KAFKA_PORT ;;
    kafka-controller) echo PUSHTECH_KAFKA_CONTROLLER_PORT ;;
    redis) echo PUSHTECH_REDIS_PORT ;;
    ferretdb) echo PUSHTECH_MONGO_PORT ;;
  esac
}

# The environment variable that, when set, makes a server external (we start nothing for it).
external_var() {
  case $1 in
    kafka | kafka-*) echo KAFKA_BROKERS ;;
    redis) echo REDIS_URL ;;
    ferretdb) echo MONGO_URL ;;
  esac
}

is_external() {
  local var
  var=$(external_var "$1")
  [[ -n ${!var:-} ]]
}

# Prints the pid of our running server $1 and returns 0; otherwise removes a stale pid file and
# returns 1. "Ours" = pid file present, process alive, and its working directory is the server's
# directory in $STACK_DIR (every server is started there), which guards against pid reuse.
our_pid() {
  local name=$1 file pid cwd
  file=$(pid_file "$name")
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
    if [[ $cwd == "$(server_dir "$name")" ]]; then
      echo "$pid"
      return 0
    fi
  fi
  rm -f "$file"
  return 1
}

# Starts "$@" in the background, detached in its own session (survives the script, its terminal and
# its process group being killed), working directory $2, output appended to $3, pid in the pid file.
# fd 9 (the stack lock) is closed in the child, or the server would hold the lock for its lifetime.
launch() {
  local name=$1 dir=$2 out=$3 pidf
  shift 3
  pidf=$(pid_file "$name")
  rm -f "$pidf"
  (
    cd "$dir"
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid nohup bash -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" \
      </dev/null >>"$out" 2>&1 9>&- &
  )
  local i
  for i in $(seq 50); do
    [[ -s $pidf ]] && return 0
    sleep 0.1
  done
  die "$name did not start (no pid file after 5 s); see $out"
}

# Prints the last lines of log $1 to stderr; with $2, only what was written after byte offset $2
# (the Kafka log is shared by all runs).
tail_log() {
  local file=$1 off=${2:-0}
  if [[ -s $file ]]; then
    warn "---- last lines of $file ----"
    tail -c +"$((off + 1))" "$file" | tail -n 25 >&2 || true
    warn "----"
  fi
}

# ---------------------------------------------------------------------------------------------
# tools and installs (cache outside the repo, written to a temp path then moved into place)

APT_UPDATED=
apt_install() { # <what is missing> <apt packages...>
  local what=$1
  shift
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    die "missing $what: install it with 'sudo apt-get install $*'"
  fi
  say "installing $* with apt-get (first run only, ~20 s)…"
  mkdir -p "$STACK_DIR"
  if [[ -z $APT_UPDATED ]]; then
    apt-get update >>"$STACK_DIR/install.log" 2>&1 ||
      die "apt-get update failed (needed for $what); see $STACK_DIR/install.log"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
    >>"$STACK_DIR/install.log" 2>&1 ||
    die "missing $what and 'apt-get install $*' failed; see $STACK_DIR/install.log"
}

need_cmd() { # <command> <apt package>
  command -v "$1" >/dev/null && return 0
  apt_install "$1" "$2"
  command -v "$1" >/dev/null || die "missing $1 even after installing apt package $2"
}

need_java17() {
  need_cmd java openjdk-17-jre-headless
  local v
  v=$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1)
  if [[ -z $v || $v -lt 17 ]]; then
    die "Kafka $KAFKA_VERSION needs Java 17 or newer, found '$(java -version 2>&1 | head -n1)'; install apt package openjdk-17-jre-headless"
  fi
}

# Serialises installs across concurrent stack.sh runs sharing one cache (e.g. two stack dirs).
with_install_lock() {
  mkdir -p "$CACHE_DIR"
  (
    flock -w 900 9 || die "timed out waiting for another stack.sh install (lock $CACHE_DIR/.install.lock)"
    "$@"
  ) 9>"$CACHE_DIR/.install.lock"
}

# Fingerprint of the files an install was made from: a changed pom.xml or go.sum reinstalls.
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

kafka_installed() {
  [[ -d $KAFKA_LIBS && "$(cat "$KAFKA_LIBS/.pom-sha256" 2>/dev/null)" == "$(fingerprint "$ROOT/stack/kafka/pom.xml")" ]]
}

install_kafka() {
  kafka_installed && return 0
  need_cmd mvn maven
  say "installing Kafka $KAFKA_VERSION jars from Maven Central (first run only, ~10 s)…"
  local parent tmp
  parent=$(dirname "$KAFKA_LIBS")
  mkdir -p "$parent" "$STACK_DIR"
  rm -rf "$parent"/libs.tmp.* "$parent"/libs.old.*
  tmp=$(mktemp -d "$parent/libs.tmp.XXXXXX")
  # Run on a copy of the pom in the temp dir so Maven writes nothing into the repository.
  cp "$ROOT/stack/kafka/pom.xml" "$tmp/pom.xml"
  if ! (cd "$tmp" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp/libs") >>"$STACK_DIR/install.log" 2>&1; then
    rm -rf "$tmp"
    die "downloading the Kafka jars with Maven failed; see $STACK_DIR/install.log"
  fi
  if [[ ! -f $tmp/libs/kafka_2.13-$KAFKA_VERSION.jar ]]; then
    rm -rf "$tmp"
    die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing; see $STACK_DIR/install.log"
  fi
  fingerprint "$ROOT/stack/kafka/pom.xml" >"$tmp/libs/.pom-sha256"
  # An older install (other pom) is moved aside first; the new one appears with one rename.
  [[ -d $KAFKA_LIBS ]] && mv "$KAFKA_LIBS" "$(mktemp -u "$parent/libs.old.XXXXXX")"
  mv "$tmp/libs" "$KAFKA_LIBS"
  rm -rf "$tmp" "$parent"/libs.old.*
}

# go.mod/go.sum plus this recipe's version: a change to either rebuilds.
FERRETDB_RECIPE=copy-with-version-txt-1+id-index-1
ferretdb_fingerprint() {
  { cat "$ROOT/stack/ferretdb/go.mod" "$ROOT/stack/ferretdb/go.sum"; echo "$FERRETDB_RECIPE"; } | sha256sum | cut -d' ' -f1
}

ferretdb_installed() {
  [[ -x $FERRETDB_BIN && "$(cat "$FERRETDB_BIN.go-sha256" 2>/dev/null)" == "$(ferretdb_fingerprint)" ]]
}

# FerretDB 1.24's SQLite backend filters `_id` with `_ferretdb_sjson->'$._id'` but indexes it as
# `_ferretdb_sjson->"_id"`: SQLite matches an expression index only on the same expression, so every
# `_id` lookup, update and delete scans the whole table (EXPLAIN QUERY PLAN: `SCAN`), parsing each
# document's JSON. Filtering with the index's own expression makes them index searches
# (`SEARCH … USING INDEX`); the results are the same.
ferretdb_fix_id_lookups() {
  local file=$1/internal/backends/sqlite/metadata/metadata.go
  grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$file" || { echo "ferretdb_fix_id_lookups: IDColumn not found in $file"; return 1; }
  sed -i "s/IDColumn = DefaultColumn + \"->'\$._id'\"/IDColumn = DefaultColumn + \`->\"_id\"\`/" "$file"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$file" || { echo "ferretdb_fix_id_lookups: patch did not apply to $file"; return 1; }
}

install_ferretdb() {
  ferretdb_installed && return 0
  need_cmd go golang-go
  local gov
  gov=$(go env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  # shellcheck disable=SC2086
  set -- $gov
  if [[ $# -ne 2 ]] || ((($1 * 100 + $2) < 124)); then
    die "building FerretDB $FERRETDB_VERSION needs Go 1.24 or newer, found '$(go version 2>&1)' (Debian 12's golang-go is too old: install Go 1.24+ from go.dev)"
  fi
  say "building FerretDB $FERRETDB_VERSION with Go (first run only, ~70 s)…"
  local dir tmp src log=$STACK_DIR/install.log
  dir=$(dirname "$FERRETDB_BIN")
  mkdir -p "$dir" "$STACK_DIR"
  rm -rf "$dir"/ferretdb.tmp.*
  tmp=$(mktemp -d "$dir/ferretdb.tmp.XXXXXX")
  # 1. Fetch the module pinned (and hash-checked) by stack/ferretdb/go.mod + go.sum. Not
  #    `go install ...@v1.24.2`: the module proxy refuses the module's version list here.
  # 2. Build from a copy with build/version/version.txt added: FerretDB's release builds generate
  #    that file, and a binary built without it panics at start ("Invalid build/version/version.txt").
  #    Go refuses -overlay for files in the module cache, hence the copy.
  # 3. One fix (see ferretdb_fix_id_lookups): `_id` lookups use the `_id` index.
  # (Each step is checked explicitly: set -e does not apply inside an `if` condition.)
  if ! (
    cd "$ROOT/stack/ferretdb" || exit 1
    export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
    go mod download github.com/FerretDB/FerretDB || exit 1
    src=$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB) && [[ -n $src && -d $src ]] || exit 1
    cp -R "$src" "$tmp/src" && chmod -R u+w "$tmp/src" || exit 1
    echo "v$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt" || exit 1
    echo "pushtech-stack" >"$tmp/src/build/version/package.txt" || exit 1
    ferretdb_fix_id_lookups "$tmp/src" || exit 1
    cd "$tmp/src" || exit 1
    go build -trimpath -buildvcs=false -o "$tmp/ferretdb" ./cmd/ferretdb || exit 1
    "$tmp/ferretdb" --version
  ) >>"$log" 2>&1; then
    rm -rf "$tmp"
    die "building FerretDB failed; see $log"
  fi
  mv -f "$tmp/ferretdb" "$FERRETDB_BIN"
  rm -rf "$tmp"
  # The stamp comes last: an install interrupted before it is redone on the next run.
  ferretdb_fingerprint >"$FERRETDB_BIN.go-sha256.tmp"
  mv -f "$FERRETDB_BIN.go-sha256.tmp" "$FERRETDB_BIN.go-sha256"
}

install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  apt_install redis-server redis-server
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    die "missing redis-server/redis-cli even after installing apt package redis-server"
  fi
}

# ---------------------------------------------------------------------------------------------
# per-server: start and readiness

kafka_log() { echo "$(server_dir "$1")/logs/server.log"; }
# Where this run's part of server.log starts; 0 once log4j has rotated the file (it is then
# smaller than the offset: a broker loading thousands of partitions writes over 20 MB while starting).
kafka_log_offset() {
  local off size
  off=$(cat "$(server_dir "$1")/kafka.logoffset" 2>/dev/null || echo 0)
  size=$(stat -c %s "$(kafka_log "$1")" 2>/dev/null || echo 0)
  ((size >= off)) && echo "$off" || echo 0
}

# Ready = the broker port listens and this run's log has "Kafka Server started". Once seen, the pid
# is noted in kafka.started, so later checks survive log rotation.
kafka_ready() {
  local name=$1 dir pid off
  dir=$(server_dir "$name")
  port_open "$(kafka_port "$name")" || return 1
  pid=$(our_pid "$name") || return 1
  [[ "$(cat "$dir/kafka.started" 2>/dev/null)" == "$pid" ]] && return 0
  off=$(kafka_log_offset "$name")
  # (no grep -q: with pipefail, tail killed by SIGPIPE would turn a match into a failure)
  tail -c +"$((off + 1))" "$(kafka_log "$name")" 2>/dev/null | grep 'Kafka Server started' >/dev/null || return 1
  echo "$pid" >"$dir/kafka.started"
}

# The static voter set of the KRaft quorum: every node is a controller.
kafka_voters() {
  local name voters=()
  for name in $(kafka_names); do voters+=("$(kafka_node "$name")@127.0.0.1:$(kafka_controller_port "$name")"); done
  (IFS=,; echo "${voters[*]}")
}

start_kafka() {
  local name=$1
  need_java17
  with_install_lock install_kafka
  local dir props port controller replicas min_isr session_timeout_ms
  dir=$(server_dir "$name")
  props=$dir/server.properties
  port=$(kafka_port "$name")
  controller=$(kafka_controller_port "$name")
  # Every topic on every node; a write (acks=all) needs all but one of them: one node may be away.
  replicas=$KAFKA_NODES
  min_isr=$((KAFKA_NODES > 1 ? KAFKA_NODES - 1 : 1))
  # Fencing the only node helps nobody: for a moment every partition has no leader and every topic
  # create fails. A CPU-starved machine delays its heartbeat past Kafka's 9 s (a test run did so).
  # Several nodes keep the 9 s, so a killed broker's partitions move soon.
  session_timeout_ms=$((KAFKA_NODES > 1 ? 9000 : 60000))
  mkdir -p "$dir/data" "$dir/logs"
  sed -e "s|@KAFKA_PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller|g" \
    -e "s|@NODE_ID@|$(kafka_node "$name")|g" -e "s|@VOTERS@|$(kafka_voters)|g" \
    -e "s|@REPLICAS@|$replicas|g" -e "s|@MIN_ISR@|$min_isr|g" -e "s|@SESSION_TIMEOUT_MS@|$session_timeout_ms|g" \
    -e "s|@LOG_DIRS@|$dir/data|g" "$ROOT/stack/kafka/server.properties.template" >"$props"

  local jvm=(java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$ROOT/stack/kafka/log4j2.xml" "-Dkafka.logs.dir=$dir/logs"
    -cp "$KAFKA_LIBS/*")

  if [[ ! -f $dir/data/meta.properties ]]; then
    local id
    # A random 16-byte cluster id, base64url without padding (what `StorageTool random-uuid` prints),
    # the same for every node of the stack dir (kept in kafka.cluster-id).
    # Drawn again while it starts with "-", which StorageTool would read as an option.
    id=$(cat "$STACK_DIR/kafka.cluster-id" 2>/dev/null || echo -)
    while [[ $id == -* ]]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); done
    echo "$id" >"$STACK_DIR/kafka.cluster-id"
    say "formatting Kafka storage in $dir/data (cluster id $id)"
    (cd "$dir" && "${jvm[@]}" kafka.tools.StorageTool format -t "$id" -c "$props" --ignore-formatted) \
      >>"$dir/logs/format.log" 2>&1 ||
      { tail_log "$dir/logs/format.log"; die "formatting Kafka storage failed; see $dir/logs/format.log"; }
  fi

  local log
  log=$(kafka_log "$name")
  rm -f "$dir/kafka.started"
  stat -c %s "$log" 2>/dev/null >"$dir/kafka.logoffset" || echo 0 >"$dir/kafka.logoffset"
  echo "127.0.0.1:$port" >"$(addr_file "$name")"
  : >"$dir/logs/stdout.log" # JVM output of this run only (crash reports); the broker logs to server.log
  say "starting $name on 127.0.0.1:$port (controller $controller)"
  launch "$name" "$dir" "$dir/logs/stdout.log" "${jvm[@]}" kafka.Kafka "$props"
}

redis_ready() { # (name)
  [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

start_redis() { # (name)
  with_install_lock install_redis
  local dir
  dir=$(server_dir redis)
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<EOF
# Generated by scripts/stack.sh on every up; edit the script, not this file.
port $REDIS_PORT
bind 127.0.0.1
protected-mode yes
daemonize no
supervised no
dir $dir
logfile $dir/redis.log
loglevel notice
# Durability: append-only file, fsync once a second (a crash can lose up to ~1 s of writes).
appendonly yes
appendfsync everysec
appenddirname appendonlydir
# No RDB snapshots (AOF is the persistence).
save ""
EOF
  echo "127.0.0.1:$REDIS_PORT" >"$(addr_file redis)"
  say "starting redis on 127.0.0.1:$REDIS_PORT"
  launch redis "$dir" "$dir/stdout.log" redis-server "$dir/redis.conf"
}

ferretdb_ready() { port_open "$MONGO_PORT"; } # (name)

start_ferretdb() { # (name)
  with_install_lock install_ferretdb
  local dir
  dir=$(server_dir ferretdb)
  mkdir -p "$dir/data" "$dir/state"
  echo "127.0.0.1:$MONGO_PORT" >"$(addr_file ferretdb)"
  echo "---- $(date '+%F %T') stack.sh starting ferretdb on 127.0.0.1:$MONGO_PORT ----" >>"$dir/ferretdb.log"
  say "starting ferretdb on 127.0.0.1:$MONGO_PORT"
  launch ferretdb "$dir" "$dir/ferretdb.log" "$FERRETDB_BIN" \
    --handler=sqlite "--sqlite-url=file:$dir/data/" \
    "--listen-addr=127.0.0.1:$MONGO_PORT" --telemetry=disable \
    "--state-dir=$dir/state" --debug-addr=127.0.0.1:0 --log-level=WARN --log-format=text
}

server_log() {
  case $1 in
    kafka | kafka-*) kafka_log "$1" ;;
    redis) echo "$(server_dir redis)/redis.log" ;;
    ferretdb) echo "$(server_dir ferretdb)/ferretdb.log" ;;
  esac
}

start_timeout() {
  case $1 in
    kafka | kafka-*) echo "$KAFKA_START_TIMEOUT" ;;
    redis) echo "$REDIS_START_TIMEOUT" ;;
    ferretdb) echo "$FERRETDB_START_TIMEOUT" ;;
  esac
}

# Waits for server $1 to be ready; on time-out or early exit, prints the log tail, stops the
# half-started process and returns 1.
wait_ready() {
  local name=$1 limit start log off=0
  limit=$(start_timeout "$name")
  log=$(server_log "$name")
  start=$SECONDS
  while ((SECONDS - start < limit)); do
    if ready "$name"; then
      return 0
    fi
    if ! our_pid "$name" >/dev/null; then
      warn "$name exited during start-up; log: $log"
      if [[ $(kind "$name") == kafka ]]; then tail_log "$(server_dir "$name")/logs/stdout.log"; off=$(kafka_log_offset "$name"); fi
      tail_log "$log" "$off"
      return 1
    fi
    sleep 0.25
  done
  warn "$name not ready after ${limit} s on 127.0.0.1:$(main_port "$name"); log: $log"
  if [[ $(kind "$name") == kafka ]]; then tail_log "$(server_dir "$name")/logs/stdout.log"; off=$(kafka_log_offset "$name"); fi
  tail_log "$log" "$off"
  stop_servers "$name" >/dev/null 2>&1 || true
  warn "stopped the half-started $name"
  return 1
}

# ---------------------------------------------------------------------------------------------
# commands

# Fails fast when a port we need is taken by something that is not our server.
check_ports() {
  local name=$1 port label
  local ports=("$name:$(main_port "$name")")
  [[ $(kind "$name") == kafka ]] && ports+=("kafka-controller:$(kafka_controller_port "$name")")
  for entry in "${ports[@]}"; do
    label=${entry%%:*}
    port=${entry##*:}
    if port_open "$port"; then
      if [[ $label == kafka-controller ]]; then
        die "port $port (kafka controller) is in use by another process, not Pushtech's kafka; stop it or set $(port_var "$label") to another port"
      fi
      die "port $port ($name) is in use by another process, not Pushtech's $name; stop it or set $(external_var "$name") to use it (or $(port_var "$name") to use another port)"
    fi
  done
}

# The Kafka node count this stack dir was made with (1 unless `up --brokers N` said otherwise).
load_kafka_nodes() {
  KAFKA_NODES=$(cat "$STACK_DIR/kafka.nodes" 2>/dev/null || echo 1)
  set_servers
}

cmd_up() {
  local brokers=
  while (($# > 0)); do
    case $1 in
      --brokers)
        brokers=${2:-}
        shift 2 || die "--brokers needs a number"
        ;;
      --brokers=*)
        brokers=${1#--brokers=}
        shift
        ;;
      *) die "unknown option for up: $1" ;;
    esac
  done
  if [[ -n $brokers ]] && { [[ ! $brokers =~ ^[1-9][0-9]*$ ]] || ((brokers > MAX_KAFKA_NODES)); }; then
    die "--brokers must be a number from 1 to $MAX_KAFKA_NODES, not '$brokers'"
  fi
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 300 9 || die "another 'stack.sh up/down' on $STACK_DIR did not finish within 300 s"
  if [[ -n $brokers && $brokers != "$KAFKA_NODES" ]]; then
    # A formatted node keeps its quorum: a stack dir made with one count does not change to another.
    [[ -f $(server_dir kafka)/data/meta.properties ]] &&
      die "$STACK_DIR holds a Kafka of $KAFKA_NODES node(s), not $brokers: use another PUSHTECH_STACK_DIR, or 'down --wipe' first"
    KAFKA_NODES=$brokers
    echo "$KAFKA_NODES" >"$STACK_DIR/kafka.nodes"
    set_servers
  fi

  local name pid want have to_start=() to_wait=()
  for name in "${SERVERS[@]}"; do
    if is_external "$name"; then
      local var
      var=$(external_var "$name")
      say "$name is external ($var=${!var}), not starting it"
      continue
    fi
    if pid=$(our_pid "$name"); then
      want="127.0.0.1:$(main_port "$name")"
      have=$(cat "$(addr_file "$name")" 2>/dev/null || echo "?")
      if [[ $have != "$want" ]]; then
        die "$name (pid $pid) is running on $have but the configured address is $want; run 'stack.sh down' first"
      fi
      to_wait+=("$name")
      continue
    fi
    check_ports "$name"
    to_start+=("$name")
  done

  for name in "${to_start[@]}"; do
    "start_$(kind "$name")" "$name"
    to_wait+=("$name")
  done

  local failed=0
  for name in "${to_wait[@]}"; do
    if [[ " ${to_start[*]} " == *" $name "* ]]; then
      wait_ready "$name" || failed=1
      [[ $failed -eq 0 ]] && say "$name ready on 127.0.0.1:$(main_port "$name") (pid $(our_pid "$name"))"
    else
      if ready "$name"; then
        say "$name already running (pid $(our_pid "$name")) on 127.0.0.1:$(main_port "$name")"
      else
        say "$name is running (pid $(our_pid "$name")) but not ready yet; waiting"
        wait_ready "$name" || failed=1
      fi
    fi
    [[ $failed -eq 0 ]] || break
  done
  [[ $failed -eq 0 ]] || die "up failed (see above)"
}

# Sends SIGTERM to our servers among "$@", waits up to $STOP_TIMEOUT s, then SIGKILL.
stop_servers() {
  local name pid pids=() names=()
  for name in "$@"; do
    if pid=$(our_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    fi
  done
  local start=$SECONDS alive i
  while ((${#names[@]} > 0)); do
    alive=()
    for i in "${!names[@]}"; do
      if our_pid "${names[$i]}" >/dev/null; then
        alive+=("$i")
      else
        say "${names[$i]} stopped"
      fi
    done
    local keep_names=() keep_pids=()
    for i in "${alive[@]}"; do
      keep_names+=("${names[$i]}")
      keep_pids+=("${pids[$i]}")
    done
    names=("${keep_names[@]}")
    pids=("${keep_pids[@]}")
    ((${#names[@]} == 0)) && break
    if ((SECONDS - start >= STOP_TIMEOUT)); then
      for i in "${!names[@]}"; do
        warn "${names[$i]} (pid ${pids[$i]}) did not stop within ${STOP_TIMEOUT} s; sending SIGKILL"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
      done
      sleep 0.5
      for i in "${!names[@]}"; do
        rm -f "$(pid_file "${names[$i]}")"
        say "${names[$i]} killed"
      done
      break
    fi
    sleep 0.2
  done
}

cmd_down() {
  local wipe=0
  for arg in "$@"; do
    case $arg in
      --wipe) wipe=1 ;;
      *) die "unknown option for down: $arg" ;;
    esac
  done
  if [[ -d $STACK_DIR ]]; then
    exec 9>"$STACK_DIR/.lock"
    flock -w 300 9 || die "another 'stack.sh up/down' on $STACK_DIR did not finish within 300 s"
  fi
  local name running=()
  for name in "${SERVERS[@]}"; do
    if our_pid "$name" >/dev/null; then
      running+=("$name")
    elif is_external "$name"; then
      say "$name is external ($(external_var "$name")), not ours to stop"
    fi
  done
  if ((${#running[@]} > 0)); then
    stop_servers "${running[@]}"
  else
    say "nothing running in $STACK_DIR"
  fi
  if ((wipe)) && [[ -d $STACK_DIR ]]; then
    rm -rf "$STACK_DIR"/kafka "$STACK_DIR"/kafka-* "$STACK_DIR/kafka.nodes" "$STACK_DIR/kafka.cluster-id" \
      "$STACK_DIR/redis" "$STACK_DIR/ferretdb" "$STACK_DIR/install.log" "$STACK_DIR/.lock"
    rmdir "$STACK_DIR" 2>/dev/null || true
    say "wiped data in $STACK_DIR"
  fi
}

cmd_status() {
  local name pid var all_ok=0
  for name in "${SERVERS[@]}"; do
    if is_external "$name"; then
      var=$(external_var "$name")
      printf '%-9s external (%s=%s)\n' "$name" "$var" "${!var}"
    elif pid=$(our_pid "$name"); then
      local addr
      addr=$(cat "$(addr_file "$name")" 2>/dev/null || echo "127.0.0.1:$(main_port "$name")")
      if ready "$name" 2>/dev/null; then
        printf '%-9s running  pid %s  %s\n' "$name" "$pid" "$addr"
      else
        printf '%-9s starting  pid %s  %s (not ready)\n' "$name" "$pid" "$addr"
        all_ok=3
      fi
    else
      printf '%-9s stopped\n' "$name"
      all_ok=3
    fi
  done
  return "$all_ok"
}

cmd_env() {
  local name addresses=()
  for name in $(kafka_names); do addresses+=("127.0.0.1:$(kafka_port "$name")"); done
  printf 'export KAFKA_BROKERS=%q\n' "${KAFKA_BROKERS:-$(IFS=,; echo "${addresses[*]}")}"
  printf 'export REDIS_URL=%q\n' "${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
  printf 'export MONGO_URL=%q\n' "${MONGO_URL:-mongodb://127.0.0.1:$MONGO_PORT}"
}

usage() {
  cat <<EOF
usage: bash scripts/stack.sh up [--brokers N] | down [--wipe] | status | env | clean
  data dir:  $STACK_DIR   (PUSHTECH_STACK_DIR)
  cache dir: $CACHE_DIR   (PUSHTECH_CACHE_DIR)
  ports:     kafka $KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT; node N: +$KAFKA_PORT_STEP(N-1)), redis $REDIS_PORT, ferretdb $MONGO_PORT
EOF
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  load_kafka_nodes
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    clean) cmd_down --wipe ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
