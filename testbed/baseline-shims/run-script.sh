#!/usr/bin/env bash
# run-script.sh BED_DIR SCRIPT: runs the production script (unchanged) against a test bed, as root.
# Every shim is listed in README.md beside this file; this wrapper only sets the environment the script already reads
# and gives it the bed's homes at /home (it hard-codes /home/<user>/.t3/userdata/state.sqlite).
#   needs in the environment: T3_BENCH_REGISTRY (the bed's registry URL), T3_DISPATCH (host:port of the bench's
#   dispatch), T3_SMOKE_PORT (a free loopback port: other beds run in parallel)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
bed=${1:?run-script.sh BED_DIR SCRIPT}
script=${2:?SCRIPT}
# What the script calls besides bash coreutils, and the Debian package that has it.
for pair in curl:curl pgrep:procps runuser:util-linux unshare:util-linux logger:bsdutils sqlite3:sqlite3 npm:npm; do
  command -v "${pair%%:*}" >/dev/null || { echo "run-script.sh: the baseline script needs ${pair%%:*} (Debian package ${pair#*:})" >&2; exit 2; }
done
[[ -d $bed/home && -d $bed/npm-global && -d $bed/systemd ]] || { echo "run-script.sh: $bed is not a script bed" >&2; exit 2; }
# Shim 1: systemctl -> the bed's manager. Shim 2: npm's global prefix and registry (the script runs `npm i -g`, and
# `t3` from PATH: the bed's units run $bed/bin/t3, a link to $bed/npm-global/bin/t3, as they would run /usr/bin/t3).
export T3_BED_SYSTEMD=$bed/systemd
export PATH=$here:$bed/npm-global/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export NPM_CONFIG_PREFIX=$bed/npm-global
export NPM_CONFIG_REGISTRY=${T3_BENCH_REGISTRY:?T3_BENCH_REGISTRY unset}
export npm_config_cache=$bed/npm-cache   # per bed, as testbed/bed.sh does: loopback ports get reused
# Shim 3: the users map (/etc/ttyd-user-map format) at a path of the bed's. Shim 4 (the dispatch) is the bench's own
# loopback HTTP server at T3_DISPATCH. The rest are the script's own T3_* knobs, pointed into the bed.
export T3_USER_MAP=$bed/ttyd-user-map
export T3_DISPATCH=${T3_DISPATCH:?T3_DISPATCH unset}
export T3_SMOKE_PORT=${T3_SMOKE_PORT:?T3_SMOKE_PORT unset}
export T3_STATE_DIR=$bed/script-state
export T3_FREEZE_FILE=$bed/script-state/freeze
export T3_BACKUP_DEST=$bed/script-backups
export T3_TMPDIR=$bed/scratch
# /home: a bind mount of the bed's home root, in a mount namespace of the script's own (the host's /home is untouched).
exec unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$0/home" /home && exec /bin/bash "$1"' "$bed" "$script"
