#!/usr/bin/env bash
# packaging/install.sh: the one install path for t3-reconciler (run as root from a clone).
#
#   packaging/install.sh [--prefix DIR] [--destdir DIR] [--jar FILE] [--uninstall]
#
# Installs the shaded jar, the launcher, README and docs under the prefix (default /opt/t3-reconciler), bash and zsh
# completion (generated from the jar's commands), the unit
# as shipped to /etc/systemd/system (plus a drop-in for ExecStart when the prefix is not the default), a sysusers.d
# entry for the candidate account, a default desired-state file, and root's directories with the modes the
# controller insists on. Run again to upgrade: the jar and launcher are replaced, the desired-state file never is.
#
# --destdir DIR stages the whole tree under DIR (an image or a package build): nothing outside DIR is touched, so
# no account is created (systemd-sysusers creates t3-candidate from the sysusers.d entry when the image boots),
# no runtime dependency is checked or installed (they belong to the target, not this machine), no AppCDS archive
# is written and no native library extracted (the archive records the jar's path, and the staged path is not the
# one it will run from; the library is the target's architecture's) and systemd is not told. Without it, all of those happen here.
#
# --uninstall removes the jar, its archive and native library, the launcher, README/docs, the unit, its drop-in and the sysusers.d
# entry. It keeps every piece of data: /etc/t3-reconciler (the desired-state file), /var/lib/t3-reconciler (the
# state store, installed versions) and /var/backups/t3-state (every user's backups), and the t3-candidate account
# (files it owned would otherwise fall to whoever gets its uid next).
set -euo pipefail

usage() { sed -n '4,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
die() { echo "install.sh: $*" >&2; exit 1; }

src=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
prefix=/opt/t3-reconciler
destdir=
jar=
uninstall=false
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --destdir) [ $# -ge 2 ] || usage; destdir=$2; shift 2 ;;
    --jar) [ $# -ge 2 ] || usage; jar=$2; shift 2 ;;
    --uninstall) uninstall=true; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage ;;
  esac
done
case $prefix in /*) ;; *) die "--prefix must be absolute: $prefix" ;; esac
if [ -n "$destdir" ]; then
  mkdir -p "$destdir"
  destdir=$(cd "$destdir" && pwd)
  [ "$destdir" != / ] || destdir=
fi
[ "$(id -u)" = 0 ] || die "run as root: the files it installs are root's, and the controller refuses a desired-state file anyone else can write"

etc=/etc/t3-reconciler
unit=/etc/systemd/system/t3-reconciler.service
dropin=/etc/systemd/system/t3-reconciler.service.d/prefix.conf
sysusers=/usr/lib/sysusers.d/t3-reconciler.conf
tmpfiles=/usr/lib/tmpfiles.d/t3-reconciler.conf
bashcomp=/usr/share/bash-completion/completions/t3-reconciler
zshcomp=/usr/share/zsh/vendor-completions/_t3-reconciler
candidate=t3-candidate
live=false   # acting on this machine's systemd
[ -z "$destdir" ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && live=true

d() { printf '%s%s' "$destdir" "$1"; }

if $uninstall; then
  if $live && systemctl cat t3-reconciler.service >/dev/null 2>&1; then
    systemctl disable --now t3-reconciler.service || true
  fi
  rm -rf "$(d "$prefix/t3-reconciler.jar.native")"
  rm -f "$(d "$prefix/t3-reconciler.jar")" "$(d "$prefix/t3-reconciler.jar.jsa")" "$(d "$prefix/bin/t3-reconciler")" \
        "$(d "$prefix/README.md")" "$(d "$unit")" "$(d "$dropin")" "$(d "$sysusers")" "$(d "$tmpfiles")" "$(d "$bashcomp")" "$(d "$zshcomp")"
  rm -rf "$(d "$prefix/docs")"
  rmdir "$(d "$prefix/bin")" "$(d "$prefix")" "$(dirname "$(d "$dropin")")" 2>/dev/null || true
  $live && systemctl daemon-reload
  echo "uninstalled t3-reconciler from $(d "$prefix"); kept $(d "$etc"), $(d /var/lib/t3-reconciler), $(d /var/backups/t3-state) and the $candidate account"
  exit 0
fi

# Runtime dependencies: command, Debian package. Only for this machine: a staged tree's target has its own.
if [ -z "$destdir" ]; then
  missing=()
  for pair in java:default-jre-headless node:nodejs npm:npm sqlite3:sqlite3 setpriv:util-linux unshare:util-linux \
              install:coreutils stat:coreutils useradd:passwd; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing packages: ${missing[*]} (install them, then run this again)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
  fi
  spec=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [ "${spec%%.*}" -ge 17 ] 2>/dev/null || die "java 17 or newer is needed, found '${spec:-none}' ($(command -v java))"
fi

if [ -z "$jar" ]; then
  jar=$src/controller/target/t3-reconciler.jar
  if [ ! -f "$jar" ]; then
    command -v mvn >/dev/null 2>&1 || die "no $jar and no mvn to build it (apt-get install maven, or pass --jar FILE)"
    (cd "$src" && mvn -q -B -ntp package -DskipTests)
  fi
fi
[ -f "$jar" ] || die "no jar at $jar"

# The launcher finds the jar beside its bin/ directory (bin/t3-reconciler: $here/t3-reconciler.jar).
install -d -m 0755 "$(d "$prefix")" "$(d "$prefix/bin")" "$(d "$prefix/docs")" "$(d "$prefix/docs/alerts")" "$(d "$prefix/docs/grafana")"
# A new jar under a temporary name, then a rename: a daemon starting meanwhile sees the old jar or the new one.
install -m 0644 "$jar" "$(d "$prefix/.t3-reconciler.jar.new")"
rm -rf "$(d "$prefix/t3-reconciler.jar.jsa")" "$(d "$prefix/t3-reconciler.jar.native")"   # they belong to the old jar
mv -f "$(d "$prefix/.t3-reconciler.jar.new")" "$(d "$prefix/t3-reconciler.jar")"
install -m 0755 "$src/bin/t3-reconciler" "$(d "$prefix/bin/t3-reconciler")"
install -m 0644 "$src/README.md" "$(d "$prefix/README.md")"
install -m 0644 "$src"/docs/*.md "$src"/docs/*.json "$(d "$prefix/docs")/"
install -m 0644 "$src"/docs/alerts/* "$(d "$prefix/docs/alerts")/"
install -m 0644 "$src"/docs/grafana/* "$(d "$prefix/docs/grafana")/"

# Shell completion, generated from the jar's own command annotations (picocli's AutoComplete), so it always matches
# the commands of the jar being installed: bash's, and zsh's, which runs the same script through bashcompinit.
java=$(command -v java || true)
if [ -n "$java" ]; then
  script=$("$java" -cp "$jar" t3.reconciler.controller.cli.Main generate-completion) || die "cannot generate the shell completion from $jar"
  install -d -m 0755 "$(dirname "$(d "$bashcomp")")" "$(dirname "$(d "$zshcomp")")"
  printf '%s\n' "$script" >"$(d "$bashcomp")"
  {
    echo '#compdef t3-reconciler'
    echo '# zsh: picocli'"'"'s completion script for t3-reconciler; under zsh it loads bashcompinit itself.'
    # The script aliases compopt for zsh, but an alias defined inside an autoloaded function is too late for that
    # same function's body: a no-op keeps zsh from printing "command not found: compopt" under the command line.
    echo '(( $+functions[compopt] )) || compopt() { return 0 }'
    printf '%s\n' "$script"
    # zsh autoloads this file as the body of _t3-reconciler on the first TAB: the script registers its function for
    # the next ones, and this hands the first one to it (what bashcompinit's compdef would call).
    echo '_bash_complete -F _complete_t3-reconciler -o default'
  } >"$(d "$zshcomp")"
  chmod 0644 "$(d "$bashcomp")" "$(d "$zshcomp")"
else
  echo "install.sh: no java here to generate the shell completion from the jar; run 't3-reconciler generate-completion' on the target" >&2
fi

install -D -m 0644 "$src/packaging/t3-reconciler.service" "$(d "$unit")"
if [ "$prefix" != /opt/t3-reconciler ]; then
  install -d -m 0755 "$(dirname "$(d "$dropin")")"
  printf '[Service]\nExecStart=\nExecStart=%s/bin/t3-reconciler run\n' "$prefix" >"$(d "$dropin")"
  chmod 0644 "$(d "$dropin")"
else
  rm -f "$(d "$dropin")"
fi

install -d -m 0755 "$(dirname "$(d "$sysusers")")"
printf 'u %s - "t3-reconciler: runs candidate t3 builds" / /usr/sbin/nologin\n' "$candidate" >"$(d "$sysusers")"
chmod 0644 "$(d "$sysusers")"

# The backup tree is created by systemd-tmpfiles at boot too (the unit only lists it in ReadWritePaths=).
install -D -m 0644 "$src/packaging/t3-reconciler.tmpfiles" "$(d "$tmpfiles")"

# Root's alone: the controller refuses a desired-state file, or a directory above it, that anyone else can write;
# the backups hold every user's data. /var/lib/t3-reconciler is the unit's StateDirectory= (0755, as systemd makes
# it): every user's server runs its t3 from versions/ below it; the state store inside is 0600.
install -d -m 0755 -o root -g root "$(d "$etc")" "$(d /var/lib/t3-reconciler)"
install -d -m 0700 -o root -g root "$(d /var/backups/t3-state)"
chmod 0755 "$(d "$etc")" "$(d /var/lib/t3-reconciler)"   # install -d leaves an existing one's mode
chmod 0700 "$(d /var/backups/t3-state)"

# The default desired-state file is the example with freeze on: a fresh install bumps nothing until the operator has
# named the users and set freeze: false. Once the file exists it is the operator's, edited or not: the new default
# goes beside it as .dist, to diff against.
conf=$(d "$etc/desired-state.yaml")
target=$conf
[ -e "$conf" ] || [ -L "$conf" ] && target=$conf.dist
{
  echo "# Installed by packaging/install.sh with freeze: true. Name your users, check with"
  echo "#   t3-reconciler validate $etc/desired-state.yaml"
  echo "# then set freeze: false. Every key: $prefix/docs/configuration.md"
  sed 's/^freeze: false$/freeze: true/' "$src/desired-state.example.yaml"
} >"$target.tmp"
grep -q '^freeze: true$' "$target.tmp" || die "desired-state.example.yaml has no top-level 'freeze: false' line to turn on"
chown root:root "$target.tmp"
chmod 0644 "$target.tmp"
mv -f "$target.tmp" "$target"

if [ -z "$destdir" ]; then
  id -u "$candidate" >/dev/null 2>&1 || useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$candidate"
  # Start-up aids beside the jar: SQLite's native library, extracted once, and an AppCDS archive (docs/performance.md).
  # The launcher uses each while it is newer than the jar; without them the controller only starts slower.
  "$src/packaging/startup-aids.sh" "$prefix/t3-reconciler.jar" || true
fi

$live && systemctl daemon-reload
echo "installed t3-reconciler in $(d "$prefix")"
[ "$target" = "$conf" ] || echo "kept your $etc/desired-state.yaml; the new default is beside it as desired-state.yaml.dist"
cat <<EOF
next: edit $etc/desired-state.yaml (users, then freeze: false), check it with
  $prefix/bin/t3-reconciler validate $etc/desired-state.yaml
and start it:
  systemctl daemon-reload && systemctl enable --now t3-reconciler
EOF
