#!/usr/bin/env bash
# Runs the README's curl walk-through, as written, against a fresh example server.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

data="$(mktemp -d)"
out="$data/server.out"
cargo build -q -p imi-examples --bin imi-server
"${CARGO_TARGET_DIR:-target}/debug/imi-server" --addr 127.0.0.1:0 --data "$data/store" >"$out" 2>"$data/server.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do
  grep -q "ready" "$out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.err" >&2; exit 1; }
  sleep 0.5
done
grep -q "ready" "$out" || { echo "the server did not become ready" >&2; exit 1; }
eval "$(grep '^export ' "$out")"

script="$(sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' README.md | sed '/^<!--/d; /^```/d')"
[ -n "$script" ] || { echo "no walk-through found in README.md" >&2; exit 1; }
bash -euo pipefail -c "$script" >"$data/walk.out" || { echo "walk-through failed:" >&2; cat "$data/walk.out" >&2; cat "$data/server.err" >&2; exit 1; }
grep -q '"id":"pq-diploma-check"' "$data/walk.out"
grep -q 'Sundhedsstyrelsen' "$data/walk.out"
grep -q '"code":"forbidden"' "$data/walk.out"
grep -q '"stage_label":"Afventer dit svar"' "$data/walk.out"
grep -q '"stage_label":"Besvaret"' "$data/walk.out"
grep -q 'no submission opens with this secret' "$data/walk.out"
grep -q '"stage":"closed"' "$data/walk.out"
grep -q '"resolved":1' "$data/walk.out"
grep -q '"revision":1' "$data/walk.out"
grep -q 'DK,works-well,yes,1' "$data/walk.out"
echo "walk-through ok ($(wc -l <"$data/walk.out") lines of output)"
kill -INT "$pid"
wait "$pid"
trap 'rm -rf "$data"' EXIT
