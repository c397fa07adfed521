'use strict';
// Stand-in only (the probe-sandbox flavor's preinstall script): what candidate code, running as install.user inside
// the controller's service, can reach. Writes {uid, foreignPids, setuidEuid, userNamespace} as JSON to
// /tmp/t3-standin-record/<version>/probe.<uid>.json (a directory the test made in the service's /tmp); a file
// "setuid" there names a setuid-root copy of `id` to run. Never fails the install: it only reports.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const build = require('./build');

const dir = path.join('/tmp/t3-standin-record', build.version);
const uid = process.getuid();

// Processes of other accounts it can see in /proc (root's, the users' servers, ...).
const foreignPids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
  try { return fs.statSync(`/proc/${n}`).uid !== uid; } catch { return false; }
}).length;

// The effective uid a setuid-root binary runs with: 0 would be root.
let setuidEuid = null;
try {
  const bin = fs.readFileSync(path.join(dir, 'setuid'), 'utf8').trim();
  const r = spawnSync(bin, ['-u'], { encoding: 'utf8' });
  if (r.status === 0) setuidEuid = Number(r.stdout.trim());
} catch {
  // no binary named: nothing to try
}

// A user namespace in which it is "root": the door to kernel code unprivileged accounts otherwise cannot reach.
const userNamespace = spawnSync('/usr/bin/unshare', ['--user', '--map-root-user', 'true']).status === 0;

try {
  fs.writeFileSync(path.join(dir, `probe.${uid}.json`), JSON.stringify({ uid, foreignPids, setuidEuid, userNamespace }) + '\n');
} catch {
  // no directory made for this version: nothing to report into
}
