'use strict';
// `t3 serve`: the HTTP contract the reconciler's health check and canary rely on.
const http = require('http');
const crypto = require('crypto');
const { spawn } = require('child_process');
const build = require('./build');
const db = require('./db');
const auth = require('./auth');
const { migrate } = require('./migrations');

const KNOWN_PAIR_PATHS = { modern: '/api/auth/browser-session', legacy: '/api/auth/bootstrap' };

function log(level, msg) {
  process.stdout.write(`${new Date().toISOString()} ${level} t3: ${msg}\n`);
}

function isLoopback(host) {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

function cookieNameFor(host, port, baseDir) {
  if (build.flavor.perInstanceCookie && isLoopback(host)) {
    // Several loopback servers on one host must not clobber each other's cookie.
    const hash = crypto.createHash('sha256').update(baseDir).digest('hex').slice(0, 8);
    return `t3_session_${port}_${hash}`;
  }
  return 't3_session';
}

function readCookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

function send(res, status, body, headers = {}) {
  const isJson = typeof body !== 'string';
  const text = isJson ? JSON.stringify(body) : body;
  res.writeHead(status, { 'content-type': isJson ? 'application/json' : 'text/html; charset=utf-8', ...headers });
  res.end(text);
}

function readJson(req, limit = 64 * 1024) {
  return new Promise((resolve) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => { size += c.length; if (size <= limit) chunks.push(c); });
    req.on('end', () => {
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')); } catch { resolve(null); }
    });
    req.on('error', () => resolve(null));
  });
}

function pairPaths() {
  if (build.flavor.pairPath) return [build.flavor.pairPath];
  return [build.flavor.legacy ? KNOWN_PAIR_PATHS.legacy : KNOWN_PAIR_PATHS.modern];
}

// ---- stand-in only test hooks ------------------------------------------------------------------------------

let agent = null;

function setAgent(running) {
  if (running && !agent) {
    // argv0 `claude`: the reconciler's busy probe looks for agent processes under the unit by name.
    agent = spawn('sleep', ['100000'], { argv0: 'claude', stdio: 'ignore' });
    agent.on('exit', () => { agent = null; });
  } else if (!running && agent) {
    agent.kill('SIGTERM');
  }
  return { running: !!agent && agent.exitCode === null && !agent.killed, pid: agent ? agent.pid : null };
}

function startWriter(file, intervalMs) {
  // A user at work: a new message every intervalMs, so backups and restores race with real writes.
  const thread = `standin-${process.pid}`;
  db.run(file, `INSERT OR IGNORE INTO projection_threads (id, title, created_at)
    VALUES (${db.q(thread)}, 'stand-in writer', ${db.q(new Date().toISOString())});`);
  let n = 0;
  const write = () => {
    n += 1;
    try {
      db.run(file, `INSERT INTO projection_messages (thread_id, role, content, created_at)
        VALUES (${db.q(thread)}, 'user', ${db.q(`message ${n}`)}, ${db.q(new Date().toISOString())});`);
    } catch (e) {
      log('WARN', `stand-in writer: ${e.message}`);
    }
  };
  // The first message is written before the server answers, so a database is populated (the data that trips
  // migration-fails-populated) from the moment anyone can see the server, not from whenever the timer first fires.
  write();
  const timer = setInterval(write, intervalMs);
  timer.unref();
}

// -------------------------------------------------------------------------------------------------------------

function serve({ host, port, baseDir }) {
  // The flavor is named by its index, not its name: "migration-fails-populated" would match the very log scan under test.
  log('INFO', `t3 v${build.version} starting (STAND-IN build #${Object.keys(build.FLAVORS).indexOf(build.flavorName)}, schema ${build.schema})`);
  if (build.flavor.crashOnStart) {
    log('ERROR', 'fatal: stand-in crash-on-start flavor: configuration layer failed to build');
    process.exit(1);
  }
  if (build.flavor.crashUnderSystemd && process.env.INVOCATION_ID) {
    log('ERROR', 'fatal: stand-in crash-under-systemd flavor: cannot start as a service');
    process.exit(1);
  }
  let file;
  try {
    file = migrate(baseDir, (m) => log('INFO', m));
  } catch (e) {
    log('ERROR', `MigrationError: ${e.message}`);
    process.exit(1);
  }

  if (build.flavor.crashUnderSystemdAfterMigrate && process.env.INVOCATION_ID) {
    log('ERROR', 'fatal: stand-in build cannot serve as a service after its migration');
    process.exit(1);
  }

  const writeMs = Number(process.env.T3_STANDIN_WRITE_INTERVAL_MS || 0);
  if (writeMs > 0) startWriter(file, writeMs);

  let cookieName = 't3_session';
  const paths = pairPaths();

  const server = http.createServer(async (req, res) => {
    if (build.flavor.hang) return; // never answers; the socket stays open
    const url = new URL(req.url, 'http://x');
    try {
      if (req.method === 'GET' && url.pathname === '/') {
        return send(res, 200, `<!doctype html><html><head><title>T3 Code</title></head><body><div id="root"></div><!-- t3 stand-in v${build.version} --></body></html>`);
      }
      if (req.method === 'GET' && url.pathname === '/api/auth/session') {
        const authenticated = !build.flavor.sessionNeverAuthenticates && auth.sessionValid(file, readCookie(req, cookieName));
        return send(res, 200, {
          authenticated,
          auth: {
            policy: 'loopback-pairing',
            bootstrapMethods: ['pairing-credential'],
            sessionMethods: ['browser-session-cookie'],
            sessionCookieName: cookieName,
          },
        });
      }
      if (req.method === 'POST' && paths.includes(url.pathname)) {
        const body = await readJson(req);
        if (build.flavor.pairing401) return send(res, 401, { error: 'unauthorized' });
        const token = body && auth.exchange(file, body.credential);
        if (!token) return send(res, 401, { error: 'invalid or expired pairing credential' });
        log('INFO', 'paired a browser session');
        return send(res, 200, { authenticated: true }, {
          'set-cookie': `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Lax`,
        });
      }
      if (req.method === 'POST' && url.pathname === '/__standin/agent') {
        const body = await readJson(req);
        return send(res, 200, setAgent(!!(body && body.running)));
      }
      return send(res, 404, { error: 'not found' });
    } catch (e) {
      log('ERROR', `request ${req.method} ${url.pathname} failed: ${e.message}`);
      return send(res, 500, { error: 'internal error' });
    }
  });

  server.on('error', (e) => {
    log('ERROR', `cannot listen on ${host}:${port}: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const actual = server.address().port;
    cookieName = cookieNameFor(host, actual, baseDir);
    log('INFO', `Listening on http://${host.includes(':') ? `[${host}]` : host}:${actual}`);
  });

  const stop = (sig) => {
    log('INFO', `received ${sig}, shutting down`);
    setAgent(false);
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

module.exports = { serve };
