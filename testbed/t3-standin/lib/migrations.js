'use strict';
// The schema, forward only, recorded the way Effect's SQL migrator records it (effect_sql_migrations).
const db = require('./db');
const build = require('./build');

const MIGRATIONS = [
  { id: 1, name: 'create_projection_threads', sql: `
    CREATE TABLE projection_threads (id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL);` },
  { id: 2, name: 'create_projection_messages', sql: `
    CREATE TABLE projection_messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL REFERENCES projection_threads(id),
      role TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL);` },
  { id: 3, name: 'create_auth', sql: `
    CREATE TABLE auth_pairing_credentials (
      id TEXT PRIMARY KEY, credential_hash TEXT NOT NULL UNIQUE, label TEXT, role TEXT NOT NULL DEFAULT 'owner',
      created_at TEXT NOT NULL, expires_at TEXT NOT NULL, consumed_at TEXT);
    CREATE TABLE auth_sessions (
      id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, credential_id TEXT,
      created_at TEXT NOT NULL, expires_at TEXT NOT NULL);` },
  { id: 4, name: 'projection_threads_archived_at', sql: `
    ALTER TABLE projection_threads ADD COLUMN archived_at TEXT;` },
  { id: 5, name: 'auth_credential_scopes', sql: `
    ALTER TABLE auth_pairing_credentials ADD COLUMN scopes TEXT;` },
  { id: 6, name: 'projection_messages_thread_index', sql: `
    CREATE INDEX projection_messages_by_thread ON projection_messages(thread_id, id);` },
];
if (MIGRATIONS.length !== build.MAX_SCHEMA) throw new Error('stand-in: MAX_SCHEMA out of sync');

// Rebuilds projection_messages with a NOT NULL column and no backfill: fine on an empty table, a constraint
// failure as soon as there is one message. The kind of bug only real data finds.
function failingMigration(id) {
  return { id, name: 'projection_messages_kind', sql: `
    CREATE TABLE projection_messages_new (
      id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
      created_at TEXT NOT NULL, kind TEXT NOT NULL);
    INSERT INTO projection_messages_new SELECT id, thread_id, role, content, created_at, NULL FROM projection_messages;
    DROP TABLE projection_messages;
    ALTER TABLE projection_messages_new RENAME TO projection_messages;` };
}

// Copies thread ids into a NOT NULL column, except archived ones: a constraint failure only for users who archived a thread.
function failingArchivedMigration(id) {
  return { id, name: 'projection_threads_live_ids', sql: `
    CREATE TABLE projection_live_threads (id TEXT NOT NULL);
    INSERT INTO projection_live_threads SELECT CASE WHEN archived_at IS NULL THEN id ELSE NULL END FROM projection_threads;` };
}

/** The migrations this build knows, in order. */
function known() {
  const list = MIGRATIONS.slice(0, build.schema);
  if (build.flavor.failingMigration) list.push(failingMigration(build.schema + 1));
  if (build.flavor.failingArchivedMigration) list.push(failingArchivedMigration(build.schema + 1));
  return list;
}

class MigrationError extends Error {}

/** Applies pending migrations, each in its own transaction; refuses a database newer than this build. */
function migrate(baseDir, log = () => {}) {
  const file = db.open(baseDir);
  db.run(file, `CREATE TABLE IF NOT EXISTS effect_sql_migrations (
      migration_id INTEGER PRIMARY KEY NOT NULL, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, name VARCHAR(255) NOT NULL);`);
  const [{ latest }] = db.run(file, 'SELECT coalesce(max(migration_id), 0) AS latest FROM effect_sql_migrations;', { json: true });
  const list = known();
  const newest = list.length ? list[list.length - 1].id : 0;
  if (latest > newest) {
    throw new MigrationError(`database ${file} is at migration ${latest}, newer than this t3 knows (${newest}); refusing to touch it`);
  }
  for (const m of list.filter((m) => m.id > latest)) {
    try {
      db.run(file, `BEGIN;\n${m.sql}\nINSERT INTO effect_sql_migrations (migration_id, name) VALUES (${m.id}, ${db.q(m.name)});\nCOMMIT;`);
    } catch (e) {
      throw new MigrationError(`Migration ${m.id}_${m.name} failed: ${e.message}`);
    }
    log(`applied migration ${m.id}_${m.name}`);
  }
  return file;
}

module.exports = { migrate, known, MigrationError };
