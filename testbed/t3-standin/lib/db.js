'use strict';
// SQLite through the sqlite3 CLI: the stand-in ships no native modules (it is published to a registry with
// no uplinks and installed with zero dependencies).
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const BUSY_TIMEOUT_MS = 5000; // the server's writer and a concurrent `auth pairing create` share the file

class SqlError extends Error {}

function dbPath(baseDir) {
  return path.join(baseDir, 'userdata', 'state.sqlite');
}

/** Runs a script; returns rows when `json`, else raw stdout. Errors carry sqlite3's message. */
function run(db, script, { json = false } = {}) {
  // `.timeout` is sqlite3_busy_timeout, i.e. PRAGMA busy_timeout without the pragma's echoed row in the output.
  const args = ['-bail', '-batch', '-cmd', `.timeout ${BUSY_TIMEOUT_MS}`];
  if (json) args.push('-json');
  args.push(db);
  try {
    const out = execFileSync('sqlite3', args, { input: script, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    if (!json) return out;
    return out.trim() === '' ? [] : JSON.parse(out);
  } catch (e) {
    const msg = (e.stderr || e.message || '').toString().trim();
    throw new SqlError(msg);
  }
}

/** A string literal for SQL text; NUL can't be represented, so it is refused. */
function q(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  const s = String(v);
  if (s.includes('\0')) throw new SqlError('NUL in value');
  return `'${s.replace(/'/g, "''")}'`;
}

/** Creates the directories and the database in WAL mode. */
function open(baseDir) {
  const db = dbPath(baseDir);
  fs.mkdirSync(path.dirname(db), { recursive: true });
  run(db, 'PRAGMA journal_mode=WAL;');
  return db;
}

module.exports = { run, q, open, dbPath, SqlError };
