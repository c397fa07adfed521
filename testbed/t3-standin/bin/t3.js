#!/usr/bin/env node
'use strict';
// STAND-IN for the t3 CLI (test bed only). Subcommands: --version, serve, auth pairing create.
const path = require('path');
const build = require('../lib/build');
const { record } = require('../lib/record');

function usage(code) {
  process.stderr.write(`usage:
  t3 --version
  t3 serve --host HOST --port PORT --base-dir DIR
  t3 auth pairing create --base-dir DIR [--ttl 5m] [--label TEXT] [--json]
`);
  process.exit(code);
}

/** --flag value pairs and bare --flags; anything unknown is an error, as in the real CLI. */
function parseFlags(args, valued, bare = []) {
  const out = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!a.startsWith('--')) fail(`unexpected argument '${a}'`);
    if (bare.includes(name)) { out[name] = true; continue; }
    if (!valued.includes(name)) fail(`unknown option '--${name}'`);
    const v = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (v === undefined) fail(`--${name} needs a value`);
    out[name] = v;
  }
  return out;
}

function fail(msg) {
  process.stderr.write(`t3: ${msg}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);

if (argv[0] === '--version' || argv[0] === '-v') {
  record('version');
  process.stdout.write(`t3 v${build.version}\n`);
} else if (argv[0] === 'serve') {
  const f = parseFlags(argv.slice(1), ['host', 'port', 'base-dir']);
  if (!f['base-dir']) fail('serve needs --base-dir');
  record('serve');
  const port = Number(f.port ?? 3773);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port '${f.port}'`);
  require('../lib/server').serve({ host: f.host || '127.0.0.1', port, baseDir: path.resolve(f['base-dir']) });
} else if (argv[0] === 'auth' && argv[1] === 'pairing' && argv[2] === 'create') {
  record('mint');
  const f = parseFlags(argv.slice(3), ['base-dir', 'ttl', 'label'], ['json']);
  if (!f['base-dir']) fail('auth pairing create needs --base-dir');
  const auth = require('../lib/auth');
  const { migrate } = require('../lib/migrations');
  let ttlMs;
  try { ttlMs = auth.parseTtl(f.ttl || '15m'); } catch (e) { fail(e.message); }
  try {
    if (build.flavor.mintFails) throw new Error('stand-in mint-fails flavor: credential store unavailable');
    const file = migrate(path.resolve(f['base-dir'])); // like the real CLI: pending migrations first
    const cred = auth.createCredential(file, { ttlMs, label: f.label });
    if (f.json) process.stdout.write(JSON.stringify(cred) + '\n');
    else process.stdout.write(`Pairing credential: ${cred.credential}\nExpires: ${cred.expiresAt}\n`);
  } catch (e) {
    process.stderr.write(`t3: ${e.message}\n`);
    process.exit(1);
  }
} else if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
  usage(argv.length === 0 ? 2 : 0);
} else {
  fail(`unknown command '${argv.join(' ')}'`);
}
