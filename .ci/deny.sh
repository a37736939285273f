#!/usr/bin/env bash
# cargo-deny, fully offline: advisories (against the RustSec advisory-db snapshot in
# shared/), licenses, sources and bans, configured by deny.toml. Prints one line per
# check; a failing check's full diagnostics follow its line. Exits non-zero if any fails.
#
# Needs cargo-deny (`cargo install --locked cargo-deny`; 0.20 was used to write this)
# and git. Touches no network: cargo-deny runs with --offline --locked (cargo metadata
# from the local registry cache, yanked status from the local index cache, no
# advisory-db fetch).
#
# Environment:
#   IMI_ADVISORY_DB_SNAPSHOT  the snapshot folder (default: ../shared/rustsec-advisory-db
#                             next to this repository, where the session and CI have it)
#   IMI_ADVISORY_DB_MAX_AGE_DAYS  if set, fail when the snapshot is older than this
#   DENY_VERBOSE=1            also print the diagnostics (warnings) of passing checks
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

snapshot="${IMI_ADVISORY_DB_SNAPSHOT:-$repo/../shared/rustsec-advisory-db}"
if [ ! -d "$snapshot/crates" ]; then
  echo "deny: no advisory-db snapshot at $snapshot (expected a crates/ folder there)" >&2
  exit 2
fi
if ! cargo deny --version >/dev/null 2>&1; then
  echo "deny: cargo-deny is not installed (cargo install --locked cargo-deny)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The graph covers every target platform, which needs the manifests of all platforms'
# crates (windows-sys, wasm-bindgen, ...) in the local registry cache. `cargo build`
# only downloads the host's; `cargo fetch --locked` (online) gets the rest. Without
# them, check the host platform only, and say so.
target_args=()
if ! cargo metadata --format-version 1 --locked --offline >/dev/null 2>"$tmp/metadata.err"; then
  if grep -q 'cannot update the lock file' "$tmp/metadata.err"; then
    echo "deny: Cargo.lock is not up to date with the manifests (a cargo build or 'cargo update -w' refreshes it)" >&2
    exit 2
  elif grep -q -- '--offline was specified' "$tmp/metadata.err"; then
    host="$(rustc -vV | sed -n 's/^host: //p')"
    target_args=(--target "$host")
    echo "deny: note: not every platform's crates are in the local cache (run 'cargo fetch --locked' online once): checking for $host only"
  else
    echo "deny: cargo metadata failed:" >&2
    cat "$tmp/metadata.err" >&2
    exit 2
  fi
fi

# cargo-deny (0.20) opens each advisory database at <db-path>/<name>-<hash>, where
# <name> is the URL's last path segment and <hash> the XxHash64 (seed 0xca80de71) of
# the lower-cased URL (src/advisories/helpers/db.rs, url_to_db_path). This name is the
# one for db-urls = ["https://github.com/rustsec/advisory-db"] in deny.toml; change
# both together. With --offline it does not fetch, but it still wants a git checkout:
# it takes the database's age from .git/FETCH_HEAD, or else from the HEAD commit.
db="$tmp/advisory-db-3157b0e258782691"
cp -R "$snapshot" "$db"
chmod -R u+w "$db"

# The snapshot's date, from its SNAPSHOT note ("... at <sha> (YYYY-MM-DD), files only").
snap_note="$(cat "$snapshot/SNAPSHOT" 2>/dev/null || true)"
snap_date="$(printf '%s' "$snap_note" | grep -oE '\([0-9]{4}-[0-9]{2}-[0-9]{2}\)' | tr -d '()' | head -1)"
snap_sha="$(printf '%s' "$snap_note" | grep -oE '\b[0-9a-f]{40}\b' | head -1)"
[ -n "$snap_date" ] || snap_date="$(date -u -r "$snapshot/crates" +%F)"

# A throwaway repository with one commit, dated as the snapshot. No hooks, no user or
# system git config, no signing.
(
  cd "$db"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  export GIT_AUTHOR_DATE="${snap_date}T00:00:00Z" GIT_COMMITTER_DATE="${snap_date}T00:00:00Z"
  git init -q -b main --template= .
  git add -A
  git -c user.name=advisory-db-snapshot -c user.email=snapshot@invalid \
      -c commit.gpgsign=false -c core.hooksPath=/dev/null \
      commit -q -m "advisory-db snapshot ${snap_sha:-unknown} (${snap_date})"
)
# cargo-deny's own staleness limit (maximum-db-staleness, 90 days) would be judged by
# the checkout's mtime, i.e. now: the snapshot's real age is reported (and optionally
# enforced) here instead.
age_days=$(( ( $(date -u +%s) - $(date -u -d "$snap_date" +%s) ) / 86400 ))
n_adv="$(find "$db/crates" -name 'RUSTSEC-*.md' | wc -l)"
stale=""
if [ "$age_days" -gt 90 ]; then
  stale=" - older than cargo-deny's 90-day default, refresh shared/rustsec-advisory-db"
fi
echo "advisory-db: snapshot ${snap_sha:0:12} of ${snap_date}, ${n_adv} advisories, ${age_days} days old${stale}"
if [ -n "${IMI_ADVISORY_DB_MAX_AGE_DAYS:-}" ] && [ "$age_days" -gt "$IMI_ADVISORY_DB_MAX_AGE_DAYS" ]; then
  echo "deny: the advisory-db snapshot is older than IMI_ADVISORY_DB_MAX_AGE_DAYS=$IMI_ADVISORY_DB_MAX_AGE_DAYS" >&2
  exit 1
fi

export IMI_ADVISORY_DB_ROOT="$tmp"

failed=()
for check in advisories licenses sources bans; do
  log="$tmp/$check.log"
  if cargo deny --offline --locked --color never --log-level info \
      --manifest-path "$repo/Cargo.toml" --config "$repo/deny.toml" "${target_args[@]}" \
      check "$check" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$check")
  fi
  errors="$(grep -cE '^error(\[|:)' "$log" || true)"
  warnings="$(grep -cE '^warning(\[|:)' "$log" || true)"
  notes=""
  if [ "$check" = advisories ]; then
    ignored="$(grep -c '^note\[advisory-ignored\]' "$log" || true)"
    notes=", ${ignored} ignored advisories"
  fi
  printf 'deny %-10s %-6s (%s errors, %s warnings%s)\n' "$check" "$status" "$errors" "$warnings" "$notes"
  if [ "$status" = FAILED ] || [ "${DENY_VERBOSE:-0}" = 1 ]; then
    grep -vE '^[0-9-]+ [0-9:]+ \[INFO\]' "$log" | sed 's/^/    /'  # diagnostics, not progress
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "deny: FAILED: ${failed[*]}" >&2
  exit 1
fi
