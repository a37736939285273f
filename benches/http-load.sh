#!/usr/bin/env bash
# HTTP load against the example server, and against a bare axum handler on the same
# machine, with wrk: two reads (a directory entry by id, and a directory search), two
# audited reads (the caller's own user record, and one request: each read is written to
# the audit log), a transition (creating a request: a durable command), and the
# server's memory afterwards.
#
#   bash benches/http-load.sh [DATA_DIR] [SECONDS] [CONNECTIONS]
#
# DATA_DIR: the server's data directory (default: a fresh one with the demo world; give
# the directory of an `imi-scale --data DIR` run to load a big world; the server adds
# the demo world to it). SEARCH: the directory query (default `nurses`). Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${2:-10}"
conns="${3:-32}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
cargo build -q --release -p imi-examples --bin imi-server --bin imi-bare-axum
bin="${CARGO_TARGET_DIR:-target}/release"
work="$(mktemp -d)"
data="${1:-$work/store}"
"$bin/imi-server" --addr 127.0.0.1:0 --data "$data" >"$work/server.out" 2>"$work/server.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; kill ${bare:-} 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  grep -q "ready" "$work/server.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.5
done
eval "$(grep '^export ' "$work/server.out")"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '/ 99%/ {print $2}' "$1"; }
bad() { awk '/Non-2xx/ {print $5}' "$1"; }
run() { # name, output file, wrk arguments...
  local name="$1" out="$2"; shift 2
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" >"$out"
  printf '| %s | %s | %s | %s |\n' "$name" "$(rps "$out")" "$(p99 "$out")" "$(bad "$out" | sed 's/^$/0/')"
}

search="$IMI/v1/directory?q=${SEARCH:-nurses}"
authority=$(curl -fsS -H "Authorization: Bearer $DK_HANDLER" "$IMI/v1/me" | grep -o '"authority":"[^"]*"' | head -1 | cut -d'"' -f4)
entry="$IMI/v1/authorities/$authority"
entry_size=$(curl -fsS -H "Authorization: Bearer $DK_HANDLER" "$entry" | wc -c)
size=$(curl -fsS -H "Authorization: Bearer $DK_HANDLER" "$search" | wc -c)
req=$(curl -fsS -X POST -H "Authorization: Bearer $DK_HANDLER" -H "Content-Type: application/json" \
  -d '{"procedure":"pq-diploma-check"}' "$IMI/v1/requests" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
cat >"$work/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"procedure":"pq-diploma-check"}'
wrk.headers["Content-Type"] = "application/json"
LUA

echo "| endpoint ($conns connections, ${secs} s, wrk -t2) | requests/s | p99 | non-2xx |"
echo "|---|---|---|---|"
run "GET /v1/authorities/{id} (read: a directory entry, ${entry_size} bytes)" "$work/entry.txt" \
  -H "Authorization: Bearer $DK_HANDLER" "$entry"
run "GET /v1/directory?q=${SEARCH:-nurses} (read: a search, ${size} bytes)" "$work/read.txt" \
  -H "Authorization: Bearer $DK_HANDLER" "$search"
run "GET /v1/me (read, audited: the caller's own record)" "$work/me.txt" \
  -H "Authorization: Bearer $DK_HANDLER" "$IMI/v1/me"
run "GET /v1/requests/{id} (read, audited)" "$work/audited.txt" \
  -H "Authorization: Bearer $DK_HANDLER" "$IMI/v1/requests/$req"
run "POST /v1/requests (transition: create, durable)" "$work/create.txt" \
  -H "Authorization: Bearer $DK_HANDLER" -s "$work/create.lua" "$IMI/v1/requests"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -INT "$pid"; wait "$pid" || true

"$bin/imi-bare-axum" --addr 127.0.0.1:18181 --bytes "$size" >"$work/bare.out" 2>&1 &
bare=$!
for _ in $(seq 1 100); do grep -q ready "$work/bare.out" 2>/dev/null && break; sleep 0.1; done
run "bare axum GET, ${size} bytes (as the search)" "$work/bare.txt" "http://127.0.0.1:18181/bare"
kill "$bare"; wait "$bare" 2>/dev/null || true
"$bin/imi-bare-axum" --addr 127.0.0.1:18181 --bytes "$entry_size" >"$work/bare.out" 2>&1 &
bare=$!
for _ in $(seq 1 100); do grep -q ready "$work/bare.out" 2>/dev/null && break; sleep 0.1; done
run "bare axum GET, ${entry_size} bytes (as the entry)" "$work/bare-entry.txt" "http://127.0.0.1:18181/bare"
kill "$bare"; wait "$bare" 2>/dev/null || true
echo
awk -v e="$(rps "$work/entry.txt")" -v be="$(rps "$work/bare-entry.txt")" -v r="$(rps "$work/read.txt")" -v b="$(rps "$work/bare.txt")" \
  'BEGIN { printf "read throughput, share of bare axum with the same body size: directory entry %.1f %%, directory search %.1f %%\n", 100 * e / be, 100 * r / b }'
store=$(du -sm "$data" | cut -f1)
echo "server memory after the runs: RSS $((rss / 1024)) MiB, peak $((hwm / 1024)) MiB (data: $data, $store MiB on disk)"
