'use strict';
// Stand-in only (the record-uid and linger-install flavors): leaves an empty file named "<what>.<uid>.<pid>" in
// /tmp/t3-standin-record/<version>/, a directory the test creates (root's, world-writable, not sticky, so every
// account may add a file of its own). Tests read who ran each part of the candidate instead of assuming it.
const fs = require('fs');
const path = require('path');
const build = require('./build');

const RECORD_ROOT = '/tmp/t3-standin-record';

/** The pid as the machine sees it: inside a PID namespace process.pid is the namespace's number, /proc/self is not. */
function hostPid() {
  try { return Number(fs.readlinkSync('/proc/self')) || process.pid; } catch { return process.pid; }
}

function record(what) {
  if (!build.flavor.recordUid) return;
  try {
    fs.writeFileSync(path.join(RECORD_ROOT, build.version, `${what}.${process.getuid()}.${hostPid()}`), '');
  } catch {
    // no directory made for this version: nothing to record into
  }
}

module.exports = { record };
if (require.main === module) record(process.argv[2]);
