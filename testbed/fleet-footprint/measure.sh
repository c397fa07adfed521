#!/usr/bin/env bash
# The etcd-client decision's numbers (docs/fleet.md): jar size and idle RSS of the controller with our JSON-gateway
# client (GatewayIdle) and with jetcd (JetcdIdle: the same lease, keepalive, put and watch), both under the launcher's
# JVM flags, against one etcd on loopback; then the requests one idle host sends etcd per minute. Needs network for
# Maven Central (jetcd) once. Run from the repository root after `mvn -q -B -ntp -DskipTests package`.
set -euo pipefail
root=$(pwd); here=$root/testbed/fleet-footprint
etcd=${ETCD:-$(command -v etcd || echo "$root/.ci/cache/etcd/usr/bin/etcd")}
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/jetcd/src/main/java" "$work/gateway"
cp "$here/jetcd-pom.xml" "$work/jetcd/pom.xml"; cp "$here/JetcdIdle.java" "$work/jetcd/src/main/java/"
(cd "$work/jetcd" && mvn -q -B -ntp package)
cp "$root/controller/target/t3-reconciler.jar" "$work/controller.jar"
javac -cp "$work/controller.jar" -d "$work/gateway" "$here/GatewayIdle.java"
mkdir "$work/merged"
(cd "$work/merged" && unzip -qo ../jetcd/target/jetcd-idle-1.jar && unzip -qo ../controller.jar && rm -f META-INF/MANIFEST.MF && jar --create --file ../controller+jetcd.jar -C . .)
echo "jar bytes: controller $(stat -c %s "$work/controller.jar"), controller+jetcd $(stat -c %s "$work/controller+jetcd.jar")"

"$etcd" --name m0 --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 --initial-cluster m0=http://127.0.0.1:23800 >"$work/etcd.log" 2>&1 &
until grep -q "ready to serve client requests" "$work/etcd.log"; do sleep 0.2; done
opts=(-Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k)
idle() { # name classpath main
  java "${opts[@]}" -cp "$2" "$3" http://127.0.0.1:23790 30 >"$work/$1.out" 2>"$work/$1.err" & local pid=$!
  until grep -q ready "$work/$1.out" 2>/dev/null; do sleep 0.2; done
  sleep 30
  echo "$1: idle RSS $(ps -o rss= -p $pid) KiB, $(ls /proc/$pid/task | wc -l) threads"
  kill $pid; wait $pid 2>/dev/null || true
}
for round in 1 2; do
  idle gateway "$work/controller.jar:$work/gateway" GatewayIdle
  idle jetcd "$work/controller+jetcd.jar" JetcdIdle
done
m() { curl -s http://127.0.0.1:23790/metrics | awk '/^grpc_server_handled_total/ {s+=$2} END {print s}'; }
java "${opts[@]}" -cp "$work/controller.jar:$work/gateway" GatewayIdle http://127.0.0.1:23790 30 >"$work/req.out" 2>&1 & pid=$!
until grep -q ready "$work/req.out" 2>/dev/null; do sleep 0.2; done
a=$(m); sleep 120; b=$(m); kill $pid
echo "one idle host, leaseTtl 30s: $(( (b-a)/2 )) etcd requests per minute"
