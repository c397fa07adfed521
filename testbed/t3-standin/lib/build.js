'use strict';
// What this published build is: its version, and the flavor and schema level baked into package.json by
// testbed/stamp-standin.js at publish time. One source yields many builds that differ only in these.
const path = require('path');
const pkg = require(path.join(__dirname, '..', 'package.json'));

/** Behaviors by flavor. Each broken flavor breaks exactly one thing the health check gates on. */
const FLAVORS = {
  good: {},
  // Older t3: only /api/auth/bootstrap, credentials carry `role`, fewer migrations by default.
  legacy: { legacy: true, defaultSchema: 3 },
  // Newer t3 bound to loopback: per-instance cookie name, announced in sessionCookieName. Must pass.
  'renamed-cookie': { perInstanceCookie: true },
  // A data migration that fails when projection tables hold rows and passes on an empty database.
  'migration-fails-populated': { failingMigration: true },
  // A migration that fails only on databases holding an archived thread: passes the health check on a seed user
  // without one, fails on the canary of a user who has one.
  'migration-fails-archived': { failingArchivedMigration: true },
  // Pairing only at a path no one knows: every known endpoint answers 404.
  'endpoint-renamed': { pairPath: '/api/auth/pair-with-credential' },
  'pairing-401': { pairing401: true },
  'crash-on-start': { crashOnStart: true },
  // Sets the cookie, but the session never says authenticated.
  'cookie-not-authenticating': { sessionNeverAuthenticates: true },
  // Accepts connections and never answers.
  hang: { hang: true },
  // `auth pairing create` fails.
  'mint-fails': { mintFails: true },
  // Starts fine when run by hand (the health check) and crashes when systemd runs it (INVOCATION_ID is set for
  // every unit process): the canary is the first to see it.
  'crash-under-systemd': { crashUnderSystemd: true },
  // Never installs: testbed/stamp-standin.js gives it a preinstall script that fails.
  'install-fails': { preinstallFails: true },
  // Good, and records the uid of its preinstall script, --version, serve and auth pairing create (lib/record.js).
  'record-uid': { recordUid: true },
  // record-uid whose preinstall script leaves a detached process that keeps trying to change the install (lib/linger.js).
  'linger-install': { recordUid: true, lingers: true },
  // Good, and its preinstall script records itself, then waits while the test's "hold" file exists (at most three
  // minutes, lib/hold.js): npm is surely running when a test that saw the record kills the controller.
  'slow-install': { recordUid: true, holdsInstall: true },
  // Good, and its preinstall script tries what candidate code could do inside the controller's service (lib/probe.js).
  'probe-sandbox': { probesSandbox: true },
  // Passes the health check (run by hand), and under systemd migrates the user's database one schema up, then exits:
  // a unit (re)started onto it by anyone ends down on a migrated database (issue 15's restore of users who are down).
  'migrate-then-crash-under-systemd': { crashUnderSystemdAfterMigrate: true, defaultSchema: 5 },
};

const MAX_SCHEMA = 6; // keep in sync with lib/migrations.js

const meta = pkg.t3standin || {};
const flavorName = meta.flavor || 'good';
if (!FLAVORS[flavorName]) throw new Error(`stand-in: unknown flavor '${flavorName}'`);
const flavor = FLAVORS[flavorName];
const schema = Number(meta.schema || flavor.defaultSchema || 4);

module.exports = { version: pkg.version, flavorName, flavor, schema, FLAVORS, MAX_SCHEMA };
