#!/usr/bin/env bash
# The scaled topology on loopback: one Redis, two replicas of the already-built app
# (scripts/run-app.sh) sharing their sessions through it, and nginx in front of them
# (deploy/nginx.local.conf: round-robin, no stickiness). For the Playwright suite
# (E2E_TOPOLOGY=scaled) and by hand. Works without root.
#
#   scripts/topology.sh up                    start everything, wait until each part answers, then
#                                             supervise until SIGINT/SIGTERM (all parts stopped then)
#   scripts/topology.sh status                what runs, with pids
#   scripts/topology.sh kill-replica 1|2      SIGKILL one replica (a crash); it stays down
#   scripts/topology.sh stop-replica 1|2      SIGTERM, wait until its port is closed
#   scripts/topology.sh start-replica 1|2     start it again, wait for /healthz
#   scripts/topology.sh restart-replica 1|2
#   scripts/topology.sh stop-redis | start-redis | restart-redis
#                                             graceful stop; the same data dir and AOF on restart,
#                                             so the sessions survive
#   scripts/topology.sh stop-nginx | start-nginx
#                                             the load balancer alone (the replicas stay up)
#   scripts/topology.sh restore               start every part that was stopped
#   scripts/topology.sh redis-cli ARGS...     redis-cli against the topology's Redis
#   scripts/topology.sh down                  stop a running topology from another shell
#
# Every command but `up` is a client: it asks the running `up` (the supervisor) through a FIFO
# in the run dir and prints its answer, so every process stays a child of the supervisor (one
# process group: Playwright's shutdown signal reaches them all). A part that exits without
# being asked to stops the whole topology, loudly: nginx would otherwise hide a crashed replica.
#
# Environment: ISSUER (default http://localhost:9011), APP_SECRET_KEY (default: generated once
# per `up`, shared by both replicas), RUST_LOG, PROFILE (debug|release, for run-app.sh),
# TOPOLOGY_REDIS_PORT (6390), TOPOLOGY_RUN_DIR, TOPOLOGY_NGINX_CONF (deploy/nginx.local.conf),
# TOPOLOGY_WATCH_PID (stop when that process is gone; default: the parent).
# Anything else set (REFRESH_SKEW_SECS, WEBHOOK_SIGNING_SECRET, CLIENT_ID, ...) reaches the
# replicas unchanged.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The ports deploy/nginx.local.conf uses.
LB_PORT=3000
REPLICA_PORTS=(3101 3102)
REDIS_PORT="${TOPOLOGY_REDIS_PORT:-6390}"
APP_URL="http://localhost:$LB_PORT"
RUN_DIR="${TOPOLOGY_RUN_DIR:-${TMPDIR:-/tmp}/fusionauth-leptos-topology.$(id -u)}"
RUN_DIR="${RUN_DIR%/}"
NGINX_CONF="${TOPOLOGY_NGINX_CONF:-$root/deploy/nginx.local.conf}"
CONTROL="$RUN_DIR/control"
PARTS=(redis app1 app2 nginx)

say() { printf '[topology] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Each line of a part's output, prefixed with its name, on the supervisor's stderr.
# (A shell loop: mawk, Debian's awk, buffers a pipe's lines.)
prefix() {
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do printf '[%s] %s\n' "$1" "$line"; done >&2
}

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# Alive and not a zombie: a supervisor killed outright stays one until something reaps it.
running() { alive "$1" && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]; }

# Whether something listens on 127.0.0.1:$1 (ss, else lsof, else a connect).
listening() {
  if command -v ss >/dev/null; then
    [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
  elif command -v lsof >/dev/null; then
    lsof -nP -iTCP:"$1" -sTCP:LISTEN >/dev/null 2>&1
  else
    (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

who_listens() {
  if command -v ss >/dev/null; then ss -Hltnp "sport = :$1" 2>/dev/null
  elif command -v lsof >/dev/null; then lsof -nP -iTCP:"$1" -sTCP:LISTEN 2>/dev/null
  else echo "something listens on port $1"; fi
}

nginx_bin() {
  if command -v nginx >/dev/null; then command -v nginx
  elif [[ -x /usr/sbin/nginx ]]; then echo /usr/sbin/nginx
  else return 1; fi
}

supervisor_pid() { cat "$RUN_DIR/supervisor.pid" 2>/dev/null || true; }

## ---- the supervisor's parts ------------------------------------------------------------

# pid_<part> and want_<part> (up|down) are the supervisor's state.
pid_of() { local v="pid_$1"; echo "${!v:-}"; }
set_pid() { printf -v "pid_$1" '%s' "$2"; if [[ -n "$2" ]]; then echo "$2" >"$RUN_DIR/$1.pid"; else rm -f "$RUN_DIR/$1.pid"; fi; }
want() { printf -v "want_$1" '%s' "$2"; }
wanted() { local v="want_$1"; [[ "${!v:-down}" == up ]]; }

port_of() {
  case "$1" in
    redis) echo "$REDIS_PORT" ;;
    app1) echo "${REPLICA_PORTS[0]}" ;;
    app2) echo "${REPLICA_PORTS[1]}" ;;
    nginx) echo "$LB_PORT" ;;
  esac
}

label() {
  case "$1" in
    app1) echo "replica 1 (127.0.0.1:${REPLICA_PORTS[0]})" ;;
    app2) echo "replica 2 (127.0.0.1:${REPLICA_PORTS[1]})" ;;
    redis) echo "redis (127.0.0.1:$REDIS_PORT)" ;;
    nginx) echo "nginx (127.0.0.1:$LB_PORT)" ;;
  esac
}

# Waits up to $2 seconds for `$3...` to succeed while part $1 is alive.
wait_ready() {
  local part="$1" seconds="$2" deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    alive "$(pid_of "$part")" || { say "$(label "$part") exited while starting"; return 1; }
    ((SECONDS < deadline)) || { say "$(label "$part") did not answer within ${seconds}s"; return 1; }
    sleep 0.2
  done
}

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
healthz() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/healthz"; }

start_redis() {
  mkdir -p "$RUN_DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$RUN_DIR/redis" \
    --appendonly yes --save "" --daemonize no --loglevel warning \
    3<&- > >(prefix redis) 2>&1 &
  set_pid redis $!
  want redis up
}

# One replica's process: the run dir is the working directory, so no .env of the checkout is
# read, and each replica has its own SESSION_DB: whatever they share goes through Redis.
replica_main() {
  cd "$RUN_DIR/$1"
  export LEPTOS_SITE_ADDR="127.0.0.1:$2" APP_URL ISSUER APP_SECRET_KEY \
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" SESSION_DB="$RUN_DIR/$1/sessions.db" \
    RUST_LOG="${RUST_LOG:-info}"
  exec "$root/scripts/run-app.sh"
}

start_app() {
  local part="$1" port
  port="$(port_of "$part")"
  mkdir -p "$RUN_DIR/$part"
  replica_main "$part" "$port" 3<&- > >(prefix "replica-${part#app}") 2>&1 &
  set_pid "$part" $!
  want "$part" up
}

start_nginx() {
  local args=(-p "$RUN_DIR/nginx/" -c "$NGINX_CONF" -e stderr)
  # The configuration may leave these to the command line; nginx refuses a duplicate.
  grep -Eq '^[[:space:]]*daemon[[:space:]]+off' "$NGINX_CONF" || args+=(-g 'daemon off;')
  mkdir -p "$RUN_DIR/nginx/logs" "$RUN_DIR/nginx/tmp"
  "$NGINX" "${args[@]}" 3<&- > >(prefix nginx) 2>&1 &
  set_pid nginx $!
  want nginx up
}

start_part() {
  local part="$1"
  if alive "$(pid_of "$part")"; then echo "$(label "$part") already runs (pid $(pid_of "$part"))"; return 0; fi
  if listening "$(port_of "$part")"; then
    echo "cannot start $(label "$part"): the port is taken: $(who_listens "$(port_of "$part")")"
    return 1
  fi
  case "$part" in
    redis) start_redis; wait_ready redis 30 redis_ping ;;
    app1 | app2) start_app "$part"; wait_ready "$part" 60 healthz "$(port_of "$part")" ;;
    nginx) start_nginx; wait_ready nginx 15 healthz "$LB_PORT" ;;
  esac || return 1
  echo "$(label "$part") started (pid $(pid_of "$part"))"
}

# Stops a part with $2 (TERM or KILL) and waits until it has exited and its port is closed.
stop_part() {
  local part="$1" signal="$2" pid deadline
  pid="$(pid_of "$part")"
  want "$part" down
  if alive "$pid"; then
    kill -"$signal" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then say "$(label "$part") ignored SIG$signal for 15s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  fi
  set_pid "$part" ""
  deadline=$((SECONDS + 10))
  while listening "$(port_of "$part")"; do
    if ((SECONDS >= deadline)); then echo "$(label "$part") stopped, but its port is still taken: $(who_listens "$(port_of "$part")")"; return 1; fi
    sleep 0.1
  done
  echo "$(label "$part") $([[ "$signal" == KILL ]] && echo killed || echo stopped)"
}

replica_part() {
  case "${1:-}" in
    1 | 2) echo "app$1" ;;
    *) echo "which replica? 1 or 2, not '${1:-}'"; return 1 ;;
  esac
}

status() {
  local part pid
  for part in "${PARTS[@]}"; do
    pid="$(pid_of "$part")"
    if alive "$pid"; then echo "$(label "$part"): up, pid $pid"; else echo "$(label "$part"): down"; fi
  done
  echo "load balancer: $APP_URL; run dir: $RUN_DIR"
}

# One control request: prints its answer lines; returns the command's status.
run_command() {
  local cmd="$1" arg="${2:-}" part
  case "$cmd" in
    kill-replica) part="$(replica_part "$arg")" && stop_part "$part" KILL ;;
    stop-replica) part="$(replica_part "$arg")" && stop_part "$part" TERM ;;
    start-replica) part="$(replica_part "$arg")" && start_part "$part" ;;
    restart-replica) part="$(replica_part "$arg")" && stop_part "$part" TERM && start_part "$part" ;;
    stop-redis) stop_part redis TERM ;;
    start-redis) start_part redis ;;
    restart-redis) stop_part redis TERM && start_part redis ;;
    stop-nginx) stop_part nginx TERM ;;
    start-nginx) start_part nginx ;;
    restore)
      for part in "${PARTS[@]}"; do
        alive "$(pid_of "$part")" || start_part "$part" || return 1
      done
      echo "every part runs" ;;
    status) status ;;
    *) echo "unknown command '$cmd'"; return 1 ;;
  esac
}

serve_request() {
  local reply="$1" cmd="$2" arg="${3:-}" status=0
  [[ -p "$reply" ]] || return 0 # the client gave up
  say "$cmd${arg:+ $arg}"
  # Read-write, so the open never blocks on a client that went away.
  {
    run_command "$cmd" "$arg" || status=$?
    echo "__exit $status"
  } 1<>"$reply"
}

stop_all() {
  local part pid deadline pids=()
  set +e
  trap - INT TERM HUP
  for part in nginx app1 app2 redis; do
    want "$part" down
    pid="$(pid_of "$part")"
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null; pids+=("$pid"); fi
  done
  deadline=$((SECONDS + 10))
  for pid in ${pids[@]+"${pids[@]}"}; do
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && { say "pid $pid ignored SIGTERM for 10s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
  done
  wait 2>/dev/null
  local leftovers=0 port
  for port in "$LB_PORT" "${REPLICA_PORTS[@]}" "$REDIS_PORT"; do
    if listening "$port"; then leftovers=1; say "port $port still taken after stop: $(who_listens "$port")"; fi
  done
  [[ "${TOPOLOGY_KEEP_RUN_DIR:-}" == 1 ]] || rm -rf "$RUN_DIR"
  ((leftovers == 0)) && say "stopped; ports $LB_PORT ${REPLICA_PORTS[*]} $REDIS_PORT are free"
}

up() {
  local tool pid part
  for tool in redis-server redis-cli curl; do
    command -v "$tool" >/dev/null || die "$tool is missing: run make deps-services (Debian: apt-get install redis-server)"
  done
  NGINX="$(nginx_bin)" || die "nginx is missing: run make deps-services"
  [[ -f "$NGINX_CONF" ]] || die "$NGINX_CONF is missing (set TOPOLOGY_NGINX_CONF to use another)"
  [[ -x "$root/target/${PROFILE:-debug}/fusionauth-leptos" ]] \
    || die "target/${PROFILE:-debug}/fusionauth-leptos is missing: build it first (cargo leptos build)"

  pid="$(supervisor_pid)"
  if running "$pid"; then die "a topology already runs (supervisor pid $pid, run dir $RUN_DIR): scripts/topology.sh down"; fi
  for part in "${PARTS[@]}"; do
    if listening "$(port_of "$part")"; then
      die "port $(port_of "$part") for $(label "$part") is taken: $(who_listens "$(port_of "$part")")"
    fi
  done

  rm -rf "$RUN_DIR"
  mkdir -p -m 700 "$RUN_DIR"
  mkdir -p "$RUN_DIR/nginx/logs" "$RUN_DIR/nginx/tmp"
  "$NGINX" -t -q -p "$RUN_DIR/nginx/" -c "$NGINX_CONF" -e stderr 2>&1 | prefix nginx \
    || die "nginx refuses $NGINX_CONF (see above)"

  ISSUER="${ISSUER:-http://localhost:9011}"
  if [[ -z "${APP_SECRET_KEY:-}" ]]; then
    APP_SECRET_KEY="$(openssl rand -base64 48 2>/dev/null || head -c 48 /dev/urandom | base64 | tr -d '\n')"
  fi
  export ISSUER APP_SECRET_KEY APP_URL

  trap stop_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  echo $$ >"$RUN_DIR/supervisor.pid"
  mkfifo -m 600 "$CONTROL"
  exec 3<>"$CONTROL"

  start_part redis >&2 || exit 1
  # Both replicas start at once; each is waited for.
  start_app app1
  start_app app2
  for part in app1 app2; do
    wait_ready "$part" 60 healthz "$(port_of "$part")" || exit 1
    say "$(label "$part") started (pid $(pid_of "$part"))"
  done
  start_part nginx >&2 || exit 1
  say "ready: $APP_URL -> 127.0.0.1:${REPLICA_PORTS[0]}, 127.0.0.1:${REPLICA_PORTS[1]}; redis 127.0.0.1:$REDIS_PORT; run dir $RUN_DIR"

  # Playwright runs this under `sh -c`, which outlives a killed test runner: the runner
  # names itself in TOPOLOGY_WATCH_PID.
  local parent="${TOPOLOGY_WATCH_PID:-$PPID}" reply cmd arg
  while true; do
    if IFS=' ' read -r -t 1 -u 3 reply cmd arg; then serve_request "$reply" "$cmd" "$arg"; fi
    for part in "${PARTS[@]}"; do
      if wanted "$part" && ! alive "$(pid_of "$part")"; then
        local status=0
        wait "$(pid_of "$part")" 2>/dev/null || status=$?
        die "$(label "$part") exited unexpectedly (status $status): stopping the topology"
      fi
    done
    alive "$parent" || die "process $parent, which started the topology, is gone: stopping it"
  done
}

## ---- the client commands ----------------------------------------------------------------

# Sends one request to the supervisor and prints its answer.
control() {
  local pid reply line status=124 waited=0 timeout="${TOPOLOGY_CONTROL_TIMEOUT:-120}"
  pid="$(supervisor_pid)"
  running "$pid" && [[ -p "$CONTROL" ]] || die "no topology runs (run dir $RUN_DIR): start one with scripts/topology.sh up"
  reply="$(mktemp -u "$RUN_DIR/reply.XXXXXX")"
  mkfifo -m 600 "$reply"
  exec 4<>"$reply"
  # Read-write opens never block, even if the supervisor died since the check.
  printf '%s %s\n' "$reply" "$*" 1<>"$CONTROL"
  while true; do
    if IFS= read -r -t 1 -u 4 line; then
      if [[ "$line" == "__exit "* ]]; then status="${line#__exit }"; break; fi
      printf '%s\n' "$line"
      continue
    fi
    running "$pid" || { say "the supervisor (pid $pid) is gone"; break; }
    ((++waited < timeout)) || { say "no answer from the supervisor (pid $pid) within ${timeout}s"; break; }
  done
  exec 4<&-
  rm -f "$reply"
  return "$status"
}

# What a supervisor that was killed outright (SIGKILL) left running, by the pids it recorded
# and only if each is still the program it started.
stop_orphans() {
  local part pid pids=() deadline
  for part in "${PARTS[@]}"; do
    pid="$(cat "$RUN_DIR/$part.pid" 2>/dev/null || true)"
    running "$pid" || continue
    case "$(ps -o comm= -p "$pid" 2>/dev/null)" in
      redis-server* | nginx* | fusionauth-lep*)
        kill -TERM "$pid" && pids+=("$pid") && say "stopping the orphaned $(label "$part"), pid $pid" ;;
    esac
  done
  deadline=$((SECONDS + 10))
  for pid in ${pids[@]+"${pids[@]}"}; do
    while running "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  done
  ((${#pids[@]})) || say "no topology runs (run dir $RUN_DIR)"
  rm -rf "$RUN_DIR"
}

down() {
  local pid deadline
  pid="$(supervisor_pid)"
  running "$pid" || { stop_orphans; return 0; }
  kill -TERM "$pid"
  deadline=$((SECONDS + 30))
  while running "$pid"; do
    ((SECONDS < deadline)) || die "the supervisor (pid $pid) did not stop within 30s"
    sleep 0.2
  done
  say "stopped"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  redis-cli) shift; exec redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" ;;
  kill-replica | stop-replica | start-replica | restart-replica)
    [[ $# -eq 2 ]] || die "usage: $0 $1 1|2"
    control "$1" "$2" ;;
  stop-redis | start-redis | restart-redis | stop-nginx | start-nginx | restore | status) control "$1" ;;
  -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (see $0 --help)" ;;
esac
