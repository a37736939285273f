#!/usr/bin/env bash
# MSRV check: the workspace's declared `rust-version` must be at least the highest
# `rust-version` of any package in the resolved dependency graph (normal, build and
# dev dependencies of the workspace members, for every target platform, as locked in
# Cargo.lock). Uses `cargo metadata` only: nothing is compiled.
#
# Exit 0: declared >= required. Exit 1: declared is lower (the packages that need
# more are named). Exit 2: the check itself could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

meta="$(mktemp)"
trap 'rm -f "$meta"' EXIT

# --locked: never rewrite Cargo.lock. Try offline first (the manifests are normally
# in the local registry cache already); fall back to letting cargo download the
# .crate files of dependencies it has not seen yet (manifests only, no build).
if ! cargo metadata --format-version 1 --locked --offline >"$meta" 2>/dev/null; then
  if ! cargo metadata --format-version 1 --locked >"$meta"; then
    echo "msrv: cargo metadata failed (is Cargo.lock up to date with the manifests?)" >&2
    exit 2
  fi
fi

python3 - "$meta" Cargo.toml <<'PY'
import json
import sys
import tomllib

meta_path, root_manifest = sys.argv[1], sys.argv[2]
with open(meta_path) as f:
    meta = json.load(f)
with open(root_manifest, "rb") as f:
    root = tomllib.load(f)


def parse(v):
    """'1.85' / '1.85.0' -> (1, 85, 0)."""
    parts = [int(x) for x in v.split(".")]
    return tuple((parts + [0, 0, 0])[:3])


def show(t):
    return ".".join(str(x) for x in t)


packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
members = set(meta["workspace_members"])

declared_raw = root.get("workspace", {}).get("package", {}).get("rust-version")
if declared_raw is None:
    print("msrv: [workspace.package] rust-version is not set in Cargo.toml", file=sys.stderr)
    sys.exit(2)
declared = parse(declared_raw)

# Members that do not inherit the workspace value would be checked against their own.
for mid in sorted(members):
    p = packages[mid]
    rv = p.get("rust_version")
    if rv is None or parse(rv) != declared:
        print(f"msrv: note: member {p['name']} declares rust-version {rv}, "
              f"not the workspace's {declared_raw}")

# Walk the resolved graph from the workspace members. cargo only resolves dev
# dependencies of workspace members, so every edge in `resolve` counts.
seen, stack = set(), list(members)
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for dep in nodes[pid]["deps"]:
        stack.append(dep["pkg"])

# A package's edition is a floor too (edition 2024 needs 1.85 even without rust-version).
EDITION_FLOOR = {"2015": (1, 0, 0), "2018": (1, 31, 0), "2021": (1, 56, 0), "2024": (1, 85, 0)}


def needs(p):
    rv = parse(p["rust_version"]) if p.get("rust_version") else (0, 0, 0)
    return max(rv, EDITION_FLOOR.get(p.get("edition", "2015"), (0, 0, 0)))


deps = [packages[i] for i in seen if i not in members]
with_rv = sorted(
    ((needs(p), p["name"], p["version"]) for p in deps),
    key=lambda r: (r[0], r[1]),
    reverse=True,
)
without_rv = sum(1 for p in deps if not p.get("rust_version"))
if not with_rv:
    print("msrv: no dependency declares a rust-version")
    required, need_more = (0, 0, 0), []
else:
    required = with_rv[0][0]
    need_more = [r for r in with_rv if r[0] > declared]

print(f"msrv: declared rust-version (Cargo.toml [workspace.package]): {declared_raw}")
print(f"msrv: required by dependencies: {show(required)} "
      f"({len(deps)} dependency packages; {without_rv} declare no rust-version "
      f"and count by their edition)")
print("msrv: top 5 dependencies by rust-version:")
for rv, name, version in with_rv[:5]:
    print(f"msrv:   {show(rv):<8} {name} {version}")

if need_more:
    print(f"msrv: FAIL: declared rust-version {declared_raw} is lower than what "
          f"{len(need_more)} dependencies need:")
    for rv, name, version in need_more:
        print(f"msrv:   {name} {version} needs rust {show(rv)}")
    short = f"{required[0]}.{required[1]}" if required[2] == 0 else show(required)
    print(f"msrv: set [workspace.package] rust-version = \"{short}\" "
          f"(needed by {need_more[0][1]} {need_more[0][2]})")
    sys.exit(1)
print(f"msrv: ok ({declared_raw} >= {show(required)})")
PY
