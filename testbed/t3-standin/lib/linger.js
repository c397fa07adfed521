'use strict';
// Stand-in only (the linger-install flavor's preinstall script): what a hostile install script does to outlive npm.
// It records itself, then leaves a detached child (its own session, no stdio) that keeps trying, for two minutes,
// to change the installed package: first where npm is installing it, then where the release will be once moved.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const build = require('./build');
const { record } = require('./record');

if (process.argv[2] !== 'child') {
  record('preinstall');
  // Exits only once the child has recorded itself, so the child surely outlives this script.
  const child = spawn(process.execPath, [__filename, 'child', process.cwd()], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout.once('data', () => { child.unref(); process.exit(0); });
  return;
}

record('linger');
process.stdout.write('ready\n');
process.stdout.destroy();
const pkgDir = process.argv[3];
const targets = [pkgDir, pkgDir.replace(/\/\.staging-[^/]+\/prefix\//, `/${build.version}/`)];
const end = Date.now() + 120000;
setInterval(() => {
  if (Date.now() > end) process.exit(0);
  for (const d of targets) {
    try { fs.appendFileSync(path.join(d, 'bin', 't3.js'), '\n// changed after the install\n'); } catch {}
    try { fs.writeFileSync(path.join(d, 'LINGERED'), `${process.pid}\n`); } catch {}
  }
}, 20);
