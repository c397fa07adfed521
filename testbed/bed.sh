#!/usr/bin/env bash
# The whole test bed in one: a systemd --user manager, a loopback registry with the stand-in t3, one version
# installed the way the controller installs (its own prefix + the global link), and users whose units run it
# with populated databases. The demo and the end-to-end tests both stand on this.
#
#   bed.sh up DIR USER...     bring it up (idempotent), then print the desired-state file's path
#                             (T3_BED_REGISTRY=URL: use that registry instead of starting DIR/registry;
#                              T3_BED_WRITE_INTERVAL_MS=0: the users' servers write nothing by themselves)
#   bed.sh down DIR           stop units, manager, bus and registry started for DIR (only those)
#   bed.sh publish DIR VERSION FLAVOR [TAG...]   publish a stand-in build (schema from the flavor's default); T3_STANDIN_NAME=@corp/t3 names it
#   bed.sh agent DIR USER on|off                 start/stop a fake agent ("claude") under USER's server
#   bed.sh archive-thread DIR USER               USER archives a thread (data some migrations trip over)
#
# T3_BED_REAL=1 bed.sh up ...: the users run the real t3 0.0.33 instead (testbed/real-t3.sh): 0.0.33 and its derived
# 0.0.34 are published beside the stand-in builds, the units and install.npm run on Node 24 from the bed's cache, and
# telemetry is off. Without it, nothing of the real server is touched.
#
# Layout: DIR/systemd (manager, bus, units, logs), DIR/registry, DIR/versions/<v>, DIR/bin/t3 (the link),
# DIR/home/<user>/.t3/userdata/state.sqlite, DIR/backups, DIR/state (controller), DIR/desired-state.yaml.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE_VERSION=${T3_BED_BASE_VERSION:-0.0.25-nightly.20260601.1}

die() { echo "bed.sh: $*" >&2; exit 2; }
abs() { mkdir -p "$1" && (cd "$1" && pwd); }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
bus_of() { echo "unix:path=$1/systemd/bus"; }

manager() { # manager DIR METHOD UNIT: a systemd job over the bed's bus
  busctl --address="$(bus_of "$1")" call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager "$2" ss "$3" replace >/dev/null
}

port_of() { sed -n 's/^PORT=//p' "$1/systemd/ports/$2.env"; }

cmd_up() {
  local dir; dir=$(abs "${1:?up DIR USER...}"); shift
  [[ $# -gt 0 ]] || die "name at least one user"
  chmod 0755 "$dir"
  # The controller runs candidate code as install.user (default t3-candidate): the account must exist.
  id -u t3-candidate >/dev/null 2>&1 || useradd --system --no-create-home --user-group --shell /usr/sbin/nologin t3-candidate \
    || id -u t3-candidate >/dev/null 2>&1 || die "cannot create the t3-candidate account"
  "$HERE/systemd-bed.sh" up "$dir/systemd" >&2
  # npm's cache is keyed by URL and loopback ports get reused by other beds: each bed keeps its own.
  export npm_config_cache="$dir/npm-cache"
  # T3_BED_REGISTRY=URL: use another bed's registry instead of starting one (a fleet's hosts share one registry).
  local url
  if [[ -n "${T3_BED_REGISTRY:-}" ]]; then url=$T3_BED_REGISTRY; else url=$("$HERE/registry.sh" up "$dir/registry" | tail -n 1); fi
  if [[ -z "$(npm view "t3@$BASE_VERSION" version --registry "$url" --fetch-retries=0 2>/dev/null)" ]]; then
    "$HERE/registry.sh" publish "$dir/registry" "$BASE_VERSION" good "" nightly latest >&2
  fi
  local npm_bin; npm_bin=$(command -v npm)
  local node_bin=""
  if [[ "${T3_BED_REAL:-}" == 1 ]]; then
    node_bin=$("$HERE/real-t3.sh" node)
    "$HERE/real-t3.sh" publish "$dir/registry" >&2
    BASE_VERSION=0.0.33
    npm_bin="$node_bin/npm"
  fi
  local prefix="$dir/versions/$BASE_VERSION"
  if [[ ! -f "$prefix/.t3-reconciler-complete" ]]; then
    rm -rf "$prefix"
    PATH="${node_bin:+$node_bin:}$PATH" npm install -g --prefix "$prefix" --registry "$url" --no-audit --no-fund --loglevel=error "t3@$BASE_VERSION" >&2
    touch "$prefix/.t3-reconciler-complete"
  fi
  mkdir -p "$dir/bin" "$dir/home" "$dir/backups" "$dir/state" "$dir/scratch"
  chmod 0755 "$dir/home" "$dir/versions" "$dir/bin"
  [[ -L "$dir/bin/t3" ]] || ln -s "$prefix/bin/t3" "$dir/bin/t3"
  mkdir -p "$dir/systemd/units/t3-serve@.service.d"
  # A user at work: the stand-in appends a chat message every 2 s, so backups run against a writing server.
  # T3_BED_WRITE_INTERVAL_MS=0: idle users, whose databases stay byte-identical while nothing touches them.
  local write_ms=${T3_BED_WRITE_INTERVAL_MS:-2000}
  [[ "$write_ms" =~ ^[0-9]+$ ]] || die "T3_BED_WRITE_INTERVAL_MS must be a number of milliseconds: '$write_ms'"
  if [[ "$write_ms" != 0 ]]; then
    printf '[Service]\nEnvironment=T3_STANDIN_WRITE_INTERVAL_MS=%s\n' "$write_ms" > "$dir/systemd/units/t3-serve@.service.d/standin.conf"
  else
    rm -f "$dir/systemd/units/t3-serve@.service.d/standin.conf"
  fi
  local start_timeout=30s
  if [[ -n "$node_bin" ]]; then
    # The real server's agents: no agent CLI exists offline, so DIR/agents/claude stands in for Claude's. The real
    # server runs `claude --version` when it starts; while DIR/agents/busy.<user> exists, that call leaves a process
    # behind under the user's unit, as an agent session would (bed.sh agent DIR USER on|off, then a restart).
    mkdir -p "$dir/agents"; chmod 0755 "$dir/agents"
    cat > "$dir/agents/claude" <<'SH'
#!/bin/sh
if [ "$1" = --version ]; then
  flag="$(dirname "$0")/busy.$(id -un)"
  if [ -e "$flag" ]; then
    setsid sh -c 'while [ -e "$1" ]; do sleep 1; done' claude "$flag" </dev/null >/dev/null 2>&1 &
  fi
  echo "2.0.0 (Claude Code)"
  exit 0
fi
# Anything else is the SDK session the real server opens after the version probe to read capabilities. It writes to
# our stdin, and 0.0.33 crashes on the EPIPE if we exit first (an unhandled 'error' on the child's stdin: a loaded CI
# machine hit it). So read until it closes stdin, answering nothing (its probe times out, as offline); exec'd as cat,
# so the busy probe does not take it for an agent.
exec cat >/dev/null
SH
    chmod 0755 "$dir/agents/claude"
    # The bin is `#!/usr/bin/env node` and needs Node >= 22.16; the machine's node may be older. No phoning home.
    printf '[Service]\nEnvironment=PATH=%s:%s:/usr/local/bin:/usr/bin:/bin T3CODE_TELEMETRY_ENABLED=false\n' "$dir/agents" "$node_bin" \
      > "$dir/systemd/units/t3-serve@.service.d/real.conf"
    start_timeout=2m # about 4.5 s alone; a loaded machine runs several
  fi
  local user port
  for user in "$@"; do
    port=$(port_of "$dir" "$user" 2>/dev/null || true)
    [[ -n "$port" ]] || port=$(free_port)
    "$HERE/systemd-bed.sh" add-user "$dir/systemd" "$user" "$port" "$dir/home" "$dir/bin/t3" >&2
  done
  busctl --address="$(bus_of "$dir")" call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Reload >/dev/null
  for user in "$@"; do
    manager "$dir" StartUnit "t3-serve@$user.service"
    node "$HERE/wait-http.js" "http://127.0.0.1:$(port_of "$dir" "$user")/" 30 || die "$user's server did not come up (see $dir/systemd/logs/$user.log)"
  done
  local spec="$dir/desired-state.yaml"
  if [[ ! -f "$spec" ]]; then
    local mport; mport=$(free_port)
    local list; list=$(printf '%s, ' "$@"); list=${list%, }
    cat > "$spec" <<YAML
# Written by testbed/bed.sh: the demo bed's desired state. Edit it: the controller follows.
package: t3
track: nightly
users: [$list]
database: "$dir/home/{user}/.t3/userdata/state.sqlite"
install:
  registry: $url
  versionsDir: $dir/versions
  link: $dir/bin/t3
  npm: $npm_bin
  timeout: 2m
backup: {dir: $dir/backups, keep: 14}
healthCheck: {scratchDir: $dir/scratch, startTimeout: $start_timeout, requestTimeout: 5s}
canary: {verifyAttempts: 5, verifyInterval: 1s, deferRecheck: 15s}
schedule: {resync: 10m, window: always}
breaker: {policy: freeze}
controller:
  stateDb: $dir/state/state.db
  freezeFile: $dir/state/freeze
  pidFile: $dir/state/t3-reconciler.pid
  metrics: "127.0.0.1:$mport"
  bus: "$(bus_of "$dir")"
YAML
  fi
  echo "$spec"
}

cmd_down() {
  local dir; dir=$(abs "${1:?down DIR}")
  "$HERE/registry.sh" down "$dir/registry" >&2 || true
  "$HERE/systemd-bed.sh" down "$dir/systemd" >&2 || true
}

cmd_publish() {
  local dir; dir=$(abs "${1:?publish DIR VERSION FLAVOR [TAG...]}")
  local version=${2:?VERSION} flavor=${3:?FLAVOR}; shift 3
  "$HERE/registry.sh" publish "$dir/registry" "$version" "$flavor" "" "$@" >&2
}

cmd_agent() {
  local dir; dir=$(abs "${1:?agent DIR USER on|off}")
  local user=${2:?USER} on=${3:?on|off}
  if [[ -f "$dir/systemd/units/t3-serve@.service.d/real.conf" ]]; then
    # The real server: the flag decides whether its next start leaves a `claude` behind (see cmd_up).
    [[ "$user" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || die "invalid user name: '$user'"
    if [[ "$on" == on ]]; then touch "$dir/agents/busy.$user"; else rm -f "$dir/agents/busy.$user"; fi
    return 0
  fi
  local running=false; [[ "$on" == on ]] && running=true
  node -e '
    const [port, running] = process.argv.slice(1);
    const req = require("http").request({host: "127.0.0.1", port, path: "/__standin/agent", method: "POST", headers: {"content-type": "application/json"}},
      r => { r.resume(); r.on("end", () => process.exit(r.statusCode < 300 ? 0 : 1)); });
    req.on("error", e => { console.error(e.message); process.exit(1); });
    req.end(JSON.stringify({running: running === "true"}));' "$(port_of "$dir" "$user")" "$running"
}

cmd_archive_thread() {
  local dir; dir=$(abs "${1:?archive-thread DIR USER}")
  local user=${2:?USER}
  [[ "$user" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || die "invalid user name: '$user'"
  # Written by the user, into the live database, as their own server would.
  setpriv --reuid="$user" --regid="$user" --init-groups sqlite3 -cmd '.timeout 5000' "$dir/home/$user/.t3/userdata/state.sqlite" \
    "INSERT INTO projection_threads (id, title, created_at, archived_at) VALUES ('archived-' || hex(randomblob(4)), 'an old project', datetime('now'), datetime('now'));"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  publish) shift; cmd_publish "$@" ;;
  agent) shift; cmd_agent "$@" ;;
  archive-thread) shift; cmd_archive_thread "$@" ;;
  *) die "usage: bed.sh up DIR USER... | down DIR | publish DIR VERSION FLAVOR [TAG...] | agent DIR USER on|off" ;;
esac
