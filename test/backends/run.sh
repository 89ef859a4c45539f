#!/usr/bin/env bash
# Shared-store backend suite (npm run test:backends): installs redis-server and PostgreSQL from
# Debian's packages if missing, starts a private redis-server and a private PostgreSQL cluster
# on 127.0.0.1 high free ports under one temporary directory, runs test/backends/*.backend.ts
# against them (URLs in CERTWATCH_TEST_REDIS_URL / CERTWATCH_TEST_POSTGRES_URL), stops exactly
# the processes it started (by pid) and fails if any of their ports is still listening.
#   bash test/backends/run.sh [--keep]      (--keep: leave logs in the temp dir)
# Last line: "backends: N passed, N failed". See docs/backends.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
keep=0
[[ " $* " == *" --keep "* ]] && keep=1

echo "== backends: install servers"
bash test/backends/install.sh
installed=$(date +%s)

run_dir=$(mktemp -d /tmp/certwatch-backends.XXXXXX)
chmod 755 "$run_dir"
pids=()
names=()
ports=()
passed=0
failed=0
status=0

# Stops every server we started: SIGINT to postgres (fast shutdown: smart shutdown would wait
# for clients), SIGTERM to redis; SIGKILL after a grace period. Only our own pids.
stop_servers() {
  local pid sig i
  for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    sig=TERM
    [[ ${names[$i]} == postgres ]] && sig=INT
    kill -s "$sig" "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "backends: pid $pid ignored the stop signal; killing it" >&2
      kill -s KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}

listening() {
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  [[ $rc -ne 0 && $status -eq 0 ]] && status=$rc
  stop_servers
  local port
  for port in "${ports[@]}"; do
    if listening "$port"; then
      echo "backends: something is still listening on 127.0.0.1:$port after the servers stopped" >&2
      failed=$((failed + 1))
      status=1
    fi
  done
  if [[ $status -eq 0 && $keep -eq 0 ]]; then
    rm -rf "$run_dir"
  else
    echo "backends: logs kept in $run_dir"
  fi
  local end
  end=$(date +%s)
  echo "backends: install $((installed - start)) s, servers and tests $((end - installed)) s"
  [[ $status -ne 0 && $failed -eq 0 ]] && failed=1
  echo "backends: $passed passed, $failed failed"
  exit $status
}
trap finish EXIT
test_pid=""
# A signal interrupts `wait` at once (not only after the tests end): stop the tests, then finish.
on_signal() {
  status=130
  [[ -n $test_pid ]] && kill -s TERM "$test_pid" 2>/dev/null
  exit 130
}
trap on_signal INT TERM

# Two distinct free ports, held at the same time so the kernel cannot hand out one twice.
read -r redis_port pg_port < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => {
    const b = net.createServer().listen(0, "127.0.0.1", () => {
      console.log(a.address().port, b.address().port);
      a.close(); b.close();
    });
  });')
ports=("$redis_port" "$pg_port")

# Root runs each server as its own system user (postgres refuses to run as root). setpriv
# execs the server, so the pid we record is the server's own.
as_user() {
  local user=$1
  shift
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid "$(id -u "$user")" --regid "$(id -g "$user")" --clear-groups -- "$@"
  else
    "$@"
  fi
}
# Starts a server in the background as `user`, output to <run_dir>/<name>.log; records its pid.
spawn_as() {
  local user=$1 name=$2
  shift 2
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid "$(id -u "$user")" --regid "$(id -g "$user")" --clear-groups -- "$@" >"$run_dir/$name.log" 2>&1 &
  else
    "$@" >"$run_dir/$name.log" 2>&1 &
  fi
  pids+=($!)
  names+=("$name")
}
own() {
  if [[ $(id -u) -eq 0 ]]; then chown -R "$1:" "$2"; fi
}

# Waits (bounded) for a readiness command; fails early when the server process has exited.
wait_ready() {
  local what=$1 pid=$2
  shift 2
  for _ in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "backends: $what exited during startup; its log:" >&2
      cat "$run_dir/$what.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "backends: $what not ready after 30 s; its log:" >&2
  cat "$run_dir/$what.log" >&2 || true
  return 1
}

echo "== backends: redis-server on 127.0.0.1:$redis_port"
mkdir -p "$run_dir/redis"
own redis "$run_dir/redis"
# No persistence, no protected-mode surprises, loopback only; 64 databases (one per test).
spawn_as redis redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$run_dir/redis" \
  --save '' --appendonly no --daemonize no --databases 64 --logfile ''
wait_ready redis "${pids[-1]}" redis-cli -h 127.0.0.1 -p "$redis_port" ping

echo "== backends: postgres on 127.0.0.1:$pg_port"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir -p "$run_dir/pg"
own postgres "$run_dir/pg"
as_user postgres "$pg_bin/initdb" -D "$run_dir/pg/data" -A trust -U postgres -E UTF8 \
  --no-sync --no-instructions >"$run_dir/initdb.log" 2>&1 || {
  cat "$run_dir/initdb.log" >&2
  exit 1
}
spawn_as postgres postgres "$pg_bin/postgres" -D "$run_dir/pg/data" -c "port=$pg_port" \
  -c listen_addresses=127.0.0.1 -c "unix_socket_directories=$run_dir/pg" -c fsync=off \
  -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=100
wait_ready postgres "${pids[-1]}" "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"

echo "== backends: tests"
export CERTWATCH_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
export CERTWATCH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
# One file at a time: the files share the two servers (each test still gets a fresh database).
node --test --test-concurrency=1 --test-timeout=60000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$run_dir/results.tap" \
  test/backends/*.backend.ts &
test_pid=$!
wait "$test_pid" || status=$?
test_pid=""
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$run_dir/results.tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$run_dir/results.tap" | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
if [[ $passed -eq 0 ]]; then
  echo "backends: no test passed" >&2
  status=1
fi
