#!/bin/bash
# A throwaway systemd --user manager on its own D-Bus bus, for tests that need real units.
#
#   systemd-bed.sh up DIR        start (idempotent; also brings a killed bus daemon back)
#   systemd-bed.sh down DIR      stop what `up` started, remove its cgroups (idempotent)
#   systemd-bed.sh status DIR    prints "up" (exit 0) or "down" (exit 3)
#   systemd-bed.sh env DIR       prints DBUS_ADDRESS=unix:path=DIR/bus, UNITS_DIR=, LOGS_DIR=
#   systemd-bed.sh kill-bus DIR  SIGKILLs the bus daemon and closes the bus socket: the bus stays down
#                                (connections refused) until the next `up`
#   systemd-bed.sh add-user DIR USER PORT HOME_ROOT LINK
#                                creates USER if missing, its 0700 home, DIR/ports/USER.env and the
#                                template DIR/units/t3-serve@.service running `LINK serve ...` as USER
#
# Layout of DIR: units/ (test units), base/ (the bed's own units), logs/, ports/, run/ (XDG_RUNTIME_DIR),
# bus (the socket), state/ (pid and cgroups of this bed). Needs root, dbus-daemon, systemd, util-linux.
#
# Why it looks like this (systemd 252 on a host whose PID 1 is not systemd):
# - systemd --user refuses to run unless /run/systemd/system exists; we create it only on a tmpfs in a
#   private mount namespace, never on the host.
# - sandboxed units (ProtectKernelLogs=, InaccessiblePaths=, ...) mount nodes from /run/systemd/inaccessible over what
#   they hide; PID 1 creates them at boot, a user manager only in its own runtime dir, so we create them as PID 1 does
#   (no socket node: nothing the tests use hides a socket).
# - the manager moves every process of the cgroup it starts in into its init.scope, so it is started in a
#   fresh, empty cgroup of its own (name=systemd v1 hierarchy and the unified one), never the root cgroup.
# - a user manager only attaches to its API bus while units named dbus.socket and dbus.service are running
#   (manager_dbus_is_running), so the bus daemon (own config, socket DIR/bus) is run as those two units,
#   socket-activated as in a real login session. `kill-bus` and `up` reach the manager through its private
#   socket (DIR/run/systemd/private), which works without the bus.
set -euo pipefail
umask 022

die() { echo "systemd-bed: $*" >&2; exit 2; }

# Everything below ends up in unit files and command lines: allow only plain path characters.
safe_path() {
    [[ "$1" =~ ^/[A-Za-z0-9._/-]*$ && "$1" != *..* ]] || die "unsafe or relative path: '$1'"
}
safe_user() { [[ "$1" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || die "invalid user name: '$1'"; }
safe_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && (( $1 > 0 && $1 < 65536 )) || die "invalid port: '$1'"; }

# Bounded polling: wait_for TRIES CMD... (20 ms apart) succeeds as soon as CMD does.
wait_for() {
    local tries=$1; shift
    for ((i = 0; i < tries; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}

find_systemd() {
    local c
    for c in /lib/systemd/systemd /usr/lib/systemd/systemd; do [[ -x $c ]] && { echo "$c"; return; }; done
    die "systemd binary not found"
}

# Hierarchies the bed makes a cgroup in: hybrid (name=systemd v1 + unified) or pure v2.
hierarchies() {
    if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then echo /sys/fs/cgroup; return; fi
    [[ -d /sys/fs/cgroup/systemd ]] || die "no name=systemd cgroup hierarchy at /sys/fs/cgroup/systemd"
    echo /sys/fs/cgroup/systemd
    [[ -f /sys/fs/cgroup/unified/cgroup.procs ]] && echo /sys/fs/cgroup/unified
    return 0
}

bus_address() { echo "unix:path=$DIR/bus"; }
private_systemctl() { XDG_RUNTIME_DIR=$DIR/run systemctl --user --quiet "$@"; }
has_manager() {
    busctl --address="$(bus_address)" --timeout=2 status org.freedesktop.systemd1
}

# The recorded manager pid, only if that process still is our manager (guards against pid reuse).
manager_pid() {
    local pid cg
    [[ -f $DIR/state/manager.pid && -f $DIR/state/cgroup ]] || return 1
    pid=$(<"$DIR/state/manager.pid"); cg=$(<"$DIR/state/cgroup")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cgroup ]] || return 1
    grep -qF ":/$cg/" "/proc/$pid/cgroup" || return 1
    echo "$pid"
}

# True once PID has exited (a zombie counts: nobody may reap the orphaned manager promptly).
gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]]
}

write_if_changed() { # write_if_changed FILE CONTENT -> 0 if it changed
    local f=$1 content=$2
    [[ -f $f && "$(<"$f")" == "$content" ]] && return 1
    printf '%s\n' "$content" >"$f.tmp.$$" && mv -f "$f.tmp.$$" "$f"
}

write_base() {
    mkdir -p "$DIR"/{units,base,logs,ports,run,config,state}
    chmod 0700 "$DIR/run"
    write_if_changed "$DIR/dbus.conf" "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"
 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">
<busconfig>
  <type>session</type>
  <listen>unix:path=$DIR/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context=\"default\">
    <allow send_destination=\"*\" eavesdrop=\"true\"/>
    <allow eavesdrop=\"true\"/>
    <allow own=\"*\"/>
  </policy>
</busconfig>" || true
    write_if_changed "$DIR/base/default.target" "[Unit]
Description=t3 systemd test bed
Wants=dbus.socket dbus.service" || true
    write_if_changed "$DIR/base/dbus.socket" "[Unit]
Description=test bed bus socket
DefaultDependencies=no
[Socket]
ListenStream=$DIR/bus
SocketMode=0600" || true
    write_if_changed "$DIR/base/dbus.service" "[Unit]
Description=test bed bus daemon
DefaultDependencies=no
Requires=dbus.socket
After=dbus.socket
[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/bin/dbus-daemon --config-file=$DIR/dbus.conf --address=systemd: --nofork --nopidfile
StandardOutput=append:$DIR/logs/dbus.log
StandardError=append:$DIR/logs/dbus.log" || true
    # No journald here: output of units that set no StandardOutput= goes to the manager's log.
    mkdir -p "$DIR/config/systemd"
    write_if_changed "$DIR/config/systemd/user.conf" "[Manager]
DefaultStandardOutput=inherit
DefaultStandardError=inherit" || true
    # Same shape as systemd's own exit path, so that SIGTERM stops every unit before the manager exits.
    write_if_changed "$DIR/base/exit.target" "[Unit]
DefaultDependencies=no
Requires=systemd-exit.service
After=systemd-exit.service" || true
    write_if_changed "$DIR/base/systemd-exit.service" "[Unit]
DefaultDependencies=no
Requires=shutdown.target
After=shutdown.target
SuccessAction=exit-force
[Service]
# In the root slice: app.slice conflicts with shutdown.target and would make the transaction unmergeable.
Slice=-.slice
Type=oneshot
ExecStart=/bin/true" || true
    # Targets that default dependencies of services, sockets, timers and paths refer to.
    local t
    for t in basic sockets timers paths; do
        write_if_changed "$DIR/base/$t.target" "[Unit]
Description=$t (test bed)" || true
    done
    write_if_changed "$DIR/base/shutdown.target" "[Unit]
DefaultDependencies=no
RefuseManualStart=yes" || true
}

cmd_up() {
    write_base
    touch "$DIR/logs/manager.log"
    if pid=$(manager_pid); then
        # Already up; reopen the bus socket in case kill-bus closed it (a no-op otherwise), and the next
        # connection activates the bus daemon again.
        private_systemctl start dbus.socket || die "cannot start dbus.socket of manager $pid"
        wait_for 500 has_manager || die "manager $pid is running but never appeared on $(bus_address)"
        return 0
    fi
    cmd_down >/dev/null 2>&1 || true   # leftovers of a crashed bed
    local cg h pid
    cg="t3bed-${DIR//\//_}-$$"
    cg=${cg:0:200}
    for h in $(hierarchies); do mkdir "$h/$cg"; done
    echo "$cg" >"$DIR/state/cgroup"
    rm -f "$DIR/bus"
    (
        for h in $(hierarchies); do echo "$BASHPID" >"$h/$cg/cgroup.procs"; done
        export XDG_RUNTIME_DIR=$DIR/run XDG_CONFIG_HOME=$DIR/config \
               SYSTEMD_UNIT_PATH=$DIR/units:$DIR/base \
               DBUS_SESSION_BUS_ADDRESS=$(bus_address) \
               SYSTEMD_LOG_LEVEL=${SYSTEMD_BED_LOG_LEVEL:-info} \
               T3BED_SELF=$SELF T3BED_DIR=$DIR SHELL=/bin/sh
        # A user manager logs to /dev/console, which must be a terminal: `script` provides one (a pty)
        # and copies it into the log. The command is a fixed string; paths travel in the environment.
        exec setsid script --quiet --flush --return --command 'exec "$T3BED_SELF" _namespace "$T3BED_DIR"' \
            "$DIR/logs/manager.log" </dev/null >/dev/null 2>&1
    ) &
    if ! wait_for 500 has_manager; then
        tail -n 20 "$DIR/logs/manager.log" >&2 || true
        cmd_down >/dev/null 2>&1 || true
        die "systemd --user did not appear on $(bus_address)"
    fi
    pid=$(busctl --address="$(bus_address)" call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus GetConnectionUnixProcessID s org.freedesktop.systemd1)
    echo "${pid#u }" >"$DIR/state/manager.pid"
}

# Runs inside `script`'s pty: a private mount namespace in which /run/systemd/system exists (on a tmpfs,
# never on the host) and /dev/console is that pty, then becomes the manager.
cmd_namespace() {
    local systemd
    systemd=$(find_systemd)
    # Without a /run/systemd to mount over (never created on the host), /run itself gets a private tmpfs.
    exec unshare --mount --propagation private -- /bin/sh -c \
        '{ [ -d /run/systemd ] || { mount -t tmpfs -o mode=0755 t3bed /run && mkdir /run/systemd; }; } &&
         mount -t tmpfs -o mode=0755 t3bed /run/systemd && mkdir /run/systemd/system &&
         { cd /run/systemd && mkdir -m 0755 inaccessible && cd inaccessible && mkdir -m 0 dir && install -m 0 /dev/null reg &&
           mkfifo -m 0 fifo && mknod -m 0 chr c 0 0 && mknod -m 0 blk b 0 0 && cd /; } &&
         mount --bind "$(tty)" /dev/console && exec "$0" --user' "$systemd"
}

# Every pid left in our cgroup trees: only processes the bed started (and their children) live there.
bed_pids() {
    local cg=$1 h
    for h in $(hierarchies); do
        [[ -d $h/$cg ]] && find "$h/$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u
}

cmd_down() {
    [[ -d $DIR/state ]] || return 0
    local pid cg h
    if pid=$(manager_pid); then
        kill -TERM "$pid" 2>/dev/null || true   # starts exit.target: units are stopped first
        wait_for 500 gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
    if [[ -f $DIR/state/cgroup ]]; then
        cg=$(<"$DIR/state/cgroup")
        [[ $cg =~ ^t3bed-[A-Za-z0-9._-]+$ ]] || die "bad cgroup name recorded: '$cg'"
        for ((i = 0; i < 250; i++)); do
            pids=$(bed_pids "$cg")
            [[ -z $pids ]] && break
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
            sleep 0.02
        done
        for h in $(hierarchies); do
            [[ -d $h/$cg ]] && find "$h/$cg" -depth -type d -exec rmdir {} + 2>/dev/null
            [[ -d $h/$cg ]] && echo "systemd-bed: could not remove $h/$cg" >&2
        done
    fi
    rm -f "$DIR/state/manager.pid" "$DIR/state/cgroup" "$DIR/bus"
}

cmd_status() {
    if manager_pid >/dev/null && has_manager >/dev/null 2>&1; then echo up; else echo down; exit 3; fi
}

cmd_env() {
    echo "DBUS_ADDRESS=$(bus_address)"
    echo "UNITS_DIR=$DIR/units"
    echo "LOGS_DIR=$DIR/logs"
}

cmd_kill_bus() {
    local cg pid
    manager_pid >/dev/null || die "bed is not up"
    cg=$(<"$DIR/state/cgroup")
    pid=$(for h in $(hierarchies); do
        find "$h/$cg" -path '*/dbus.service/cgroup.procs' -exec cat {} + 2>/dev/null; done | sort -u)
    [[ -n $pid ]] || die "no bus daemon running"
    # shellcheck disable=SC2086
    kill -KILL $pid
    for p in $pid; do wait_for 500 gone "$p" || die "bus daemon $p did not die"; done
    # Without this, the next connection would socket-activate a new daemon at once.
    private_systemctl stop dbus.socket dbus.service
}

cmd_add_user() {
    local user=$1 port=$2 home_root=$3 link=$4 home unit changed=0
    safe_user "$user"; safe_port "$port"; safe_path "$home_root"; safe_path "$link"
    home=$home_root/$user
    mkdir -p "$home_root"
    if ! id -u "$user" >/dev/null 2>&1; then
        # Another bed may add the same user concurrently: a failure is fine if the user now exists.
        useradd --system --no-create-home --user-group --home-dir "$home" --shell /usr/sbin/nologin "$user" \
            || id -u "$user" >/dev/null 2>&1 || die "useradd $user failed"
    fi
    mkdir -p "$home"
    chown "$user:$(id -gn "$user")" "$home"
    chmod 0700 "$home"
    mkdir -p "$DIR/ports" "$DIR/units" "$DIR/logs"
    write_if_changed "$DIR/ports/$user.env" "PORT=$port" || true
    # A user manager cannot use User=, so setpriv drops to the instance's user.
    # No start rate limit: the crash matrix starts one user's unit 6+ times in 10 s across its rows (a failed canary,
    # then its restore, row after row), which systemd's default StartLimitBurst=5 refuses; production never does that.
    unit="[Unit]
Description=t3 web server for %i (test bed)
StartLimitIntervalSec=0

[Service]
Type=simple
EnvironmentFile=$DIR/ports/%i.env
Environment=HOME=$home_root/%i USER=%i
WorkingDirectory=$home_root/%i
ExecStart=/usr/bin/setpriv --reuid=%i --regid=%i --init-groups -- $link serve --host 127.0.0.1 --port \${PORT} --base-dir $home_root/%i/.t3
Restart=no
StandardOutput=append:$DIR/logs/%i.log
StandardError=append:$DIR/logs/%i.log"
    write_if_changed "$DIR/units/t3-serve@.service" "$unit" && changed=1
    if (( changed )) && manager_pid >/dev/null; then
        busctl --address="$(bus_address)" call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
            org.freedesktop.systemd1.Manager Reload >/dev/null
    fi
}

[[ $# -ge 2 ]] || die "usage: $0 up|down|status|env|kill-bus DIR | add-user DIR USER PORT HOME_ROOT LINK"
cmd=$1
safe_path "$2"
DIR=${2%/}
[[ -n $DIR ]] || die "DIR must not be /"
(( ${#DIR} <= 90 )) || die "DIR too long for a unix socket path: $DIR"
SELF=$(readlink -f "$0")
case $cmd in
    up) mkdir -p "$DIR"; cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    kill-bus) cmd_kill_bus ;;
    _namespace) cmd_namespace ;;
    add-user) [[ $# -eq 6 ]] || die "usage: $0 add-user DIR USER PORT HOME_ROOT LINK"; cmd_add_user "$3" "$4" "$5" "$6" ;;
    *) die "unknown command '$cmd'" ;;
esac
