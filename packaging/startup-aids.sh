#!/usr/bin/env bash
# packaging/startup-aids.sh JAR: writes beside JAR what bin/t3-reconciler uses to start faster (docs/performance.md):
#   JAR.native/  sqlite-jdbc's native library for this machine, so no process extracts its own copy to a temp file;
#   JAR.jsa      an AppCDS archive of the classes a daemon start and its first pass load (CdsTraining loads them
#                without running anything), written with the launcher's JVM flags so the runs that use it match.
# Both are optional: the launcher uses each only while it is newer than JAR, and a missing, stale or broken one means a
# slower start, never a failure. Run again after replacing JAR or upgrading the JDK. Called by packaging/install.sh.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: startup-aids.sh JAR" >&2; exit 2; }
jar=$(readlink -f "$1")
[ -f "$jar" ] || { echo "startup-aids.sh: no jar at $1" >&2; exit 2; }
ok=true
rm -rf "$jar.native" "$jar.jsa"
java -cp "$jar" t3.reconciler.controller.cli.SqliteNativeLibrary "$jar.native" \
  || { echo "startup-aids.sh: could not extract SQLite's native library; each process extracts its own (slower start)" >&2; ok=false; }
# The same flags as the launcher's defaults: an archive is only used by a JVM whose flags it was written under.
java -Xms8m -Xmx128m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -Xss512k -XX:ArchiveClassesAtExit="$jar.jsa" \
  -Xlog:cds=off -Xlog:cds+dynamic=off -cp "$jar" t3.reconciler.controller.cli.CdsTraining >/dev/null 2>&1 || true
[ -f "$jar.jsa" ] || { echo "startup-aids.sh: no AppCDS archive was written; the controller starts without it (slower)" >&2; ok=false; }
$ok
