#!/usr/bin/env bash
# A throwaway npm registry (verdaccio) on loopback, and the stand-in t3 published into it.
#
#   registry.sh up DIR                                  start (or reuse) the registry whose state lives in DIR; prints its URL
#   registry.sh down DIR                                stop the registry started for DIR (only that pid)
#   registry.sh url DIR                                 print the URL of the running registry for DIR
#   registry.sh publish DIR VERSION FLAVOR [SCHEMA] [TAG...]
#                                                       publish the stand-in t3 as VERSION with FLAVOR baked in;
#                                                       each TAG is pointed at VERSION (no TAG: no dist-tag moves,
#                                                       except that the registry's first publish also gets `latest`);
#                                                       T3_STANDIN_NAME=@corp/t3 publishes it under that name
#   registry.sh publish-tarball DIR TGZ [TAG...]        publish a ready tarball as is (the real t3: testbed/real-t3.sh)
#   registry.sh tag DIR VERSION TAG                     point TAG at VERSION (backward too)
#
# The registry has no uplinks: nothing but what was published here resolves. Verdaccio is installed once into
# ${T3_RECONCILER_CACHE:-~/.cache/t3-reconciler}/verdaccio-<version> from the public npm registry.
set -euo pipefail

VERDACCIO_VERSION=6.8.0 # 6.9+ needs node 22
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STANDIN="$HERE/t3-standin"
CACHE_ROOT=${T3_RECONCILER_CACHE:-$HOME/.cache/t3-reconciler}
VERDACCIO_HOME="$CACHE_ROOT/verdaccio-$VERDACCIO_VERSION"
READY_TIMEOUT_S=${T3_REGISTRY_READY_TIMEOUT_S:-60}

die() { echo "registry.sh: $*" >&2; exit 1; }

abs() { mkdir -p "$1" && (cd "$1" && pwd); }

install_verdaccio() {
  [[ -f "$VERDACCIO_HOME/.complete" ]] && return 0
  mkdir -p "$CACHE_ROOT"
  # Several beds may start at once on a fresh machine: one installs, the others wait for it.
  exec 9>"$CACHE_ROOT/verdaccio.lock"
  flock 9
  if [[ ! -f "$VERDACCIO_HOME/.complete" ]]; then
    local tmp
    tmp=$(mktemp -d "$CACHE_ROOT/verdaccio-install.XXXXXX")
    echo "registry.sh: installing verdaccio@$VERDACCIO_VERSION into $VERDACCIO_HOME (first use)" >&2
    # verdaccio-audit asks for node-fetch@cjs, a dist-tag that mirrors serving only `latest` lack: pin what it means.
    (cd "$tmp" && echo '{"private":true,"overrides":{"node-fetch":"2.7.0"}}' > package.json &&
      npm install --no-audit --no-fund --loglevel=error "verdaccio@$VERDACCIO_VERSION" >&2) || { rm -rf "$tmp"; die "npm install verdaccio failed"; }
    touch "$tmp/.complete"
    rm -rf "$VERDACCIO_HOME"
    mv "$tmp" "$VERDACCIO_HOME"
  fi
  flock -u 9
  exec 9>&-
}

running_pid() { # the pid recorded for DIR, if that process is still our verdaccio
  local dir=$1 pid
  [[ -f "$dir/verdaccio.pid" ]] || return 1
  pid=$(cat "$dir/verdaccio.pid")
  # Verdaccio overwrites its command line with "verdaccio", so it is recognized by the cwd it was started in.
  [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$dir" ]] || return 1
  echo "$pid"
}

url_of() { cat "$1/url"; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

write_config() {
  local dir=$1
  cat > "$dir/config.yaml" <<YAML
storage: $dir/storage
auth:
  htpasswd:
    file: $dir/htpasswd
    max_users: -1
uplinks: {}
packages:
  '**':
    access: \$all
    publish: \$all
    unpublish: \$all
log: { type: stdout, format: pretty, level: warn }
web:
  enable: false
# The real t3 tarball (testbed/real-t3.sh) is 28.5 MB; verdaccio's default 10mb answers E413 Payload Too Large.
max_body_size: 100mb
YAML
}

cmd_up() {
  local dir; dir=$(abs "${1:?up DIR}")
  if running_pid "$dir" >/dev/null; then url_of "$dir"; return 0; fi
  install_verdaccio
  mkdir -p "$dir/storage"
  write_config "$dir"
  local attempt port pid
  # The port is picked free and then bound by verdaccio: another process may take it in between, so retry.
  for attempt in 1 2 3; do
    port=$(free_port)
    (cd "$dir" && exec node "$VERDACCIO_HOME/node_modules/verdaccio/bin/verdaccio" --config "$dir/config.yaml" --listen "127.0.0.1:$port" \
      >"$dir/verdaccio.log" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" > "$dir/verdaccio.pid"
    echo "http://127.0.0.1:$port/" > "$dir/url"
    if node "$HERE/wait-http.js" "http://127.0.0.1:$port/-/ping" "$READY_TIMEOUT_S" "$pid"; then
      # npm refuses to publish without credentials; verdaccio treats this unknown token as anonymous.
      printf '//127.0.0.1:%s/:_authToken=standin-anonymous\nregistry=http://127.0.0.1:%s/\n' "$port" "$port" > "$dir/npmrc"
      url_of "$dir"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "registry.sh: verdaccio did not come up on port $port (attempt $attempt); log:" >&2
    tail -n 20 "$dir/verdaccio.log" >&2 || true
  done
  rm -f "$dir/verdaccio.pid" "$dir/url"
  die "verdaccio did not start"
}

cmd_down() {
  local dir; dir=$(abs "${1:?down DIR}")
  local pid
  if pid=$(running_pid "$dir"); then
    kill "$pid"
    # Bounded wait for it to go, then insist.
    for _ in $(seq 1 50); do [[ -d "/proc/$pid" ]] || break; sleep 0.1; done
    [[ -d "/proc/$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/verdaccio.pid"
}

npm_here() { # npm against DIR's registry only, with its anonymous token
  local dir=$1; shift
  NPM_CONFIG_USERCONFIG="$dir/npmrc" npm --registry "$(url_of "$dir")" --loglevel=error --no-audit --no-fund "$@"
}

cmd_publish() {
  local dir; dir=$(abs "${1:?publish DIR VERSION FLAVOR [SCHEMA] [TAG...]}")
  local version=${2:?VERSION} flavor=${3:?FLAVOR} schema=""
  shift 3
  # SCHEMA is optional: a 4th argument that is a number (or empty) is the schema, anything else is already a tag.
  if [[ $# -gt 0 && "$1" =~ ^[0-9]*$ ]]; then schema=$1; shift; fi
  running_pid "$dir" >/dev/null || die "no registry running for $dir (run: registry.sh up $dir)"
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/t3-standin-publish.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  cp -r "$STANDIN/." "$work/"
  node "$HERE/stamp-standin.js" "$work/package.json" "$version" "$flavor" "$schema"
  # npm insists on a tag; a private one is used and removed so that only the asked tags move.
  local tmptag="standin-publish-$$"
  (cd "$work" && npm_here "$dir" publish --tag "$tmptag" >&2) || die "npm publish ${T3_STANDIN_NAME:-t3}@$version failed"
  local name; name=$(node -p 'require(process.argv[1]).name' "$work/package.json")
  for tag in "$@"; do npm_here "$dir" dist-tag add "$name@$version" "$tag" >&2; done
  npm_here "$dir" dist-tag rm "$name" "$tmptag" >/dev/null 2>&1 || true
}

cmd_publish_tarball() {
  local dir; dir=$(abs "${1:?publish-tarball DIR TGZ [TAG...]}")
  local tgz=${2:?TGZ}; shift 2
  running_pid "$dir" >/dev/null || die "no registry running for $dir (run: registry.sh up $dir)"
  local meta; meta=$(tar -xzOf "$tgz" package/package.json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);console.log(p.name+"@"+p.version)})')
  local tmptag="tarball-publish-$$"
  npm_here "$dir" publish --tag "$tmptag" "$tgz" >&2 || die "npm publish $tgz failed"
  for tag in "$@"; do npm_here "$dir" dist-tag add "$meta" "$tag" >&2; done
  npm_here "$dir" dist-tag rm "${meta%@*}" "$tmptag" >/dev/null 2>&1 || true
}

cmd_tag() {
  local dir; dir=$(abs "${1:?tag DIR VERSION TAG}")
  local version=${2:?VERSION} tag=${3:?TAG}
  running_pid "$dir" >/dev/null || die "no registry running for $dir"
  local name=${T3_STANDIN_NAME:-}; [[ -n "$name" ]] || name=$(node -p 'require(process.argv[1]).name' "$STANDIN/package.json")
  npm_here "$dir" dist-tag add "$name@$version" "$tag" >&2
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  url) shift; url_of "$(abs "${1:?url DIR}")" ;;
  publish) shift; cmd_publish "$@" ;;
  publish-tarball) shift; cmd_publish_tarball "$@" ;;
  tag) shift; cmd_tag "$@" ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
