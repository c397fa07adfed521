'use strict';
// Pairing credentials and browser sessions. Only hashes are stored, as a real server would.
const crypto = require('crypto');
const db = require('./db');
const build = require('./build');

const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const nowIso = () => new Date().toISOString();

function parseTtl(s) {
  const m = /^(\d+)(s|m|h|d)$/.exec(s || '');
  if (!m) throw new Error(`invalid --ttl '${s}' (expected e.g. 30s, 5m, 1h, 2d)`);
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2]];
}

/** Inserts a fresh one-time credential; returns what `t3 auth pairing create --json` prints. */
function createCredential(file, { ttlMs, label }) {
  const id = crypto.randomUUID();
  const credential = crypto.randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlMs).toISOString();
  db.run(file, `INSERT INTO auth_pairing_credentials (id, credential_hash, label, role, created_at, expires_at)
    VALUES (${db.q(id)}, ${db.q(sha256(credential))}, ${db.q(label)}, 'owner', ${db.q(nowIso())}, ${db.q(expiresAt)});`);
  const out = { id, credential };
  if (label) out.label = label;
  if (build.flavor.legacy) out.role = 'owner';
  else out.scopes = ['session:create', 'threads:read', 'threads:write'];
  out.expiresAt = expiresAt;
  return out;
}

/** Consumes a credential and opens a session; returns the session token, or null if the credential is no good. */
function exchange(file, credential) {
  if (typeof credential !== 'string' || credential.length === 0 || credential.length > 512) return null;
  const token = crypto.randomBytes(32).toString('base64url');
  const now = nowIso();
  // One transaction: the credential is single-use even under concurrent exchanges.
  const rows = db.run(file, `BEGIN IMMEDIATE;
    UPDATE auth_pairing_credentials SET consumed_at = ${db.q(now)}
      WHERE credential_hash = ${db.q(sha256(credential))} AND consumed_at IS NULL AND expires_at > ${db.q(now)};
    SELECT changes() AS n;
    INSERT INTO auth_sessions (id, token_hash, credential_id, created_at, expires_at)
      SELECT ${db.q(crypto.randomUUID())}, ${db.q(sha256(token))},
             (SELECT id FROM auth_pairing_credentials WHERE credential_hash = ${db.q(sha256(credential))}),
             ${db.q(now)}, ${db.q(new Date(Date.now() + SESSION_TTL_MS).toISOString())}
      WHERE changes() = 1;
    COMMIT;`, { json: true });
  return rows.length && rows[0].n === 1 ? token : null;
}

function sessionValid(file, token) {
  if (!token) return false;
  const rows = db.run(file, `SELECT count(*) AS n FROM auth_sessions
    WHERE token_hash = ${db.q(sha256(token))} AND expires_at > ${db.q(nowIso())};`, { json: true });
  return rows[0].n > 0;
}

module.exports = { parseTtl, createCredential, exchange, sessionValid };
