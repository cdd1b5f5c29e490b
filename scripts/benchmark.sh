#!/usr/bin/env bash
# Measures the daemon (release build, HTTP plugin, nginx as the receiver) and
# prints its figures; asserts nothing. All traffic stays on 127.0.0.1, and
# every load is bounded in time.
#   scripts/benchmark.sh [seconds per load run, default 10]
# Environment:
#   WAL_AUTOCHECKPOINT=N  storage.wal_autocheckpoint for the daemon (default 1000)
#   PROFILE=1             (other runs) perf-record the daemon during the end-to-end run and
#                         print where its CPU time went (needs linux-perf)
#   ONLY=http|channels|alertmanager
#                         only the HTTP runs, the Kafka and syslog runs, or the
#                         side-by-side run against Alertmanager on its own API
#   PROFILE=PHASE         (with ONLY=alertmanager) perf-record Herald during that
#                         phase: burst100, burst1, rate200 or rate1000
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
scripts/setup.sh
# Runs this part of the benchmark? All of them when ONLY is unset.
want() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }
install() { apt-get install -y -qq "$@" >/dev/null 2>&1 || sudo apt-get install -y -qq "$@" >/dev/null; }
command -v wrk >/dev/null || install wrk
want alertmanager && { command -v prometheus-alertmanager >/dev/null || install prometheus-alertmanager
                       python3 -c 'import uvloop' 2>/dev/null || install python3-uvloop; }
[ -z "${PROFILE:-}" ] || command -v perf >/dev/null || install linux-perf
echo "building in release mode..."
swift build -c release --product herald >/tmp/herald-bench-build.log 2>&1 || { cat /tmp/herald-bench-build.log; exit 1; }
scripts/build-plugins.sh release >>/tmp/herald-bench-build.log 2>&1 || { cat /tmp/herald-bench-build.log; exit 1; }
herald=.build/release/herald
work=$(mktemp -d /tmp/herald-bench.XXXXXX)
nginx_port=18090
herald_port=18080
probe_port=18092
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  log_format bench '\$msec \$uri';
  access_log $work/access.log bench buffer=64k flush=100ms;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fcgi;
  uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  keepalive_requests 10000000;
  server { listen 127.0.0.1:$nginx_port; location / { return 200 "ok"; } }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)

# Starts the daemon with the given durability and endpoint section.
start_daemon() {
  local durability=$1 endpoints=$2 policies=$3
  rm -f "$work"/herald.sqlite*
  cat > "$work/herald.yaml" <<YAML
server: {host: 127.0.0.1, port: $herald_port, max_body_bytes: 8388608}
storage: {path: $work/herald.sqlite, durability: $durability, wal_autocheckpoint: ${WAL_AUTOCHECKPOINT:-1000}}
plugins: {directories: [$PWD/.build/herald-plugins]}
teams: [{name: bench, tokens: [bench-token]}]
endpoints: $endpoints
policies: $policies
YAML
  "$herald" serve --config "$work/herald.yaml" --log-level warning 2>"$work/herald.log" &
  daemon=$!
  pids+=($daemon)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$herald_port/healthz" >/dev/null && return; sleep 0.1; done
  echo "daemon did not start:"; cat "$work/herald.log"; exit 1
}
stop_daemon() {
  echo "  peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$daemon/status)"
  kill "$daemon"; wait "$daemon" 2>/dev/null || true
}
# events/s from a wrk run: requests/s times events per request; non-2xx counted apart.
wrk_rate() {
  local per=$1 connections=$2
  local out; out=$(BATCH=$per wrk -t2 -c"$connections" -d"${seconds}s" -s Benchmarks/events.lua "http://127.0.0.1:$herald_port" 2>&1)
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local errors; errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  local p99; p99=$(echo "$out" | awk '/Latency/ {print $2}')
  awk -v r="$rps" -v p="$per" -v e="${errors:-0}" -v l="$p99" \
    'BEGIN {printf "%.0f events/s (%.0f requests/s, mean answer %s, non-2xx %s)\n", r*p, r, l, e}'
}

# Ingests batches of 100 events for half a run; prints how many were accepted.
ingest_half_run() {
  BATCH=100 wrk -t2 -c8 -d"$((seconds / 2))s" -s Benchmarks/events.lua "http://127.0.0.1:$herald_port" 2>&1 \
    | awk '/requests in/ {print $1 * 100}'
}

# CPU seconds (user + system) so far of a process and its children.
cpu_seconds() {
  local ticks; ticks=$(getconf CLK_TCK)
  for pid in "$1" $(pgrep -P "$1" || true); do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null; done \
    | awk -v t="$ticks" '{sum += $1} END {printf "%.2f", sum / t}'
}

# Ingests for half a run and waits until nginx has every delivery; prints
# deliveries/s and the daemon's CPU per delivery (its worker included).
end_to_end() {
  local durability=$1 isolation=$2
  start_daemon "$durability" \
    "[{name: sink, team: bench, channel: http, isolation: $isolation, max_in_flight: 512, config: {url: 'http://127.0.0.1:$nginx_port/e/{{ id }}'}}]" \
    "[{name: all, team: bench, endpoints: [sink]}]"
  : > "$work/access.log"
  if [ "${PROFILE:-}" = 1 ]; then
    perf record -F 499 -g -o "$work/perf.data" -p "$daemon" >/dev/null 2>&1 &
    profiler=$!
  fi
  local cpu_before; cpu_before=$(cpu_seconds "$daemon")
  ingested=$(ingest_half_run)
  for _ in $(seq 600); do
    sleep 0.5
    received=$(wc -l < "$work/access.log")
    [ "$received" -ge "$ingested" ] && break
  done
  sleep 0.3
  local cpu; cpu=$(awk -v a="$(cpu_seconds "$daemon")" -v b="$cpu_before" 'BEGIN {print a - b}')
  if [ "${PROFILE:-}" = 1 ]; then
    kill -INT "$profiler"; wait "$profiler" 2>/dev/null || true
    # (head closes the pipe early: no pipefail here)
    (set +o pipefail
     echo "  profile, share of samples by thread:"
     perf report -i "$work/perf.data" --no-children --sort pid --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -6
     echo "  profile, share including callees, Herald and library entry points:"
     perf report -i "$work/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' \
       | grep -E 'Herald|JSON|Stencil|GRDB|commit|curl_multi|__connect|__send' | head -25 | cut -c1-160) || true
  fi
  # wrk counts only the requests answered before its deadline; those still in flight then are
  # accepted too, so a few hundred more events than counted may arrive. "repeated" counts
  # deliveries of an id that had arrived before (at-least-once repeats).
  awk -v n="$ingested" -v iso="$isolation" -v cpu="$cpu" 'NR == 1 {first = $1} {last = $1; count++; if (seen[$2]++) repeated++}
    END {printf "  end to end (isolation %s): %d of %d events delivered (%d repeated) in %.2f s from first to last receipt: %.0f deliveries/s, %.0f us CPU per event (ingest and delivery)\n",
         iso, count, n, repeated, last - first, (count - 1) / (last - first), cpu * 1e6 / count}' "$work/access.log"
  stop_daemon
}

echo "Herald benchmark, $(nproc) cores, ${seconds}s per run, $(date -u +%F)"
want http && for durability in process power; do
  echo
  echo "== durability: $durability =="
  # Ingest alone: events stored durably, no policy routes them anywhere.
  start_daemon "$durability" "[]" "[]"
  echo "  durable ingest, batches of 100: $(wrk_rate 100 16)"
  echo "  durable ingest, one event per request: $(wrk_rate 1 64)"
  stop_daemon

  # End to end: every event pushed to nginx through the HTTP plugin, in the
  # daemon's process; with durability process, also in a worker process.
  end_to_end "$durability" none
  [ "$durability" = process ] && end_to_end "$durability" process

  # Latency at fixed offered rates, on a fresh daemon: each event goes to latency.py's own receiver.
  start_daemon "$durability" \
    "[{name: probe, team: bench, channel: http, config: {url: 'http://127.0.0.1:$probe_port/{{ id }}'}}]" \
    "[{name: latency, team: bench, endpoints: [probe]}]"
  python3 Benchmarks/latency.py "$herald_port" "$probe_port" 1000 "$seconds" "l1000$durability"
  python3 Benchmarks/latency.py "$herald_port" "$probe_port" 100 "$seconds" "l100$durability"
  stop_daemon
done

if want channels; then
echo
echo "== channels, end to end (durability: process) =="
# Kafka: librdkafka's mock cluster (the test peer), 4 partitions per topic.
cc -O2 -o "$work/kafka_mock" Tests/peers/kafka_mock.c -lrdkafka -lpthread
"$work/kafka_mock" 1 > "$work/kafka.boot" 2>"$work/kafka.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/kafka.boot" ] && break; sleep 0.1; done
brokers=$(head -1 "$work/kafka.boot")
start_daemon process \
  "[{name: kafka, team: bench, channel: kafka, max_in_flight: 1024, config: {brokers: '$brokers', topic: bench}}]" \
  "[{name: all, team: bench, endpoints: [kafka]}]"
# Watches the topic from before the load starts, so it sees records arrive while events come in.
python3 Benchmarks/kafka_rate.py "$brokers" bench 4 > "$work/kafka.rate" &
watcher=$!
ingest_half_run >/dev/null
wait "$watcher"
echo "  kafka: $(cat "$work/kafka.rate")"
stop_daemon

# Syslog over TCP to rsyslogd; receipt = rsyslog's own receive time.
syslog_port=18514
cat > "$work/rsyslog.conf" <<RSYSLOG
global(workDirectory="$work")
module(load="imtcp")
template(name="received" type="string" string="%timegenerated:::date-rfc3339%\\t%msg%\\n")
ruleset(name="bench") { action(type="omfile" file="$work/syslog.out" template="received") }
input(type="imtcp" address="127.0.0.1" port="$syslog_port" ruleset="bench")
RSYSLOG
/usr/sbin/rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" 2>"$work/rsyslog.log" &
pids+=($!)
sleep 1
start_daemon process \
  "[{name: syslog, team: bench, channel: syslog, max_in_flight: 1024, config: {destination: 'tcp://127.0.0.1:$syslog_port', message: '{{ id }}'}}]" \
  "[{name: all, team: bench, endpoints: [syslog]}]"
ingest_half_run >/dev/null
# Until no message arrived for a second: wrk's count leaves out requests still in flight at its end.
previous=-1
for _ in $(seq 120); do
  [ "$(wc -l < "$work/syslog.out" 2>/dev/null || echo 0)" = "$previous" ] && break
  previous=$(wc -l < "$work/syslog.out" 2>/dev/null || echo 0); sleep 1
done
echo "  syslog (tcp): $(python3 Benchmarks/receipt_rate.py < "$work/syslog.out")"
stop_daemon
fi

if want alertmanager; then
  echo
  echo "== against Alertmanager $(prometheus-alertmanager --version 2>&1 | awk 'NR == 1 {print $3}') on its own API (POST /api/v2/alerts) =="
  python3 Benchmarks/compare_alertmanager.py "$PWD/$herald" "$PWD/.build/herald-plugins" "$seconds" "$work" process power
fi
