#!/usr/bin/env node
// Polls URL until it answers 2xx, for at most TIMEOUT_S seconds; gives up at once if PID (optional) exits.
// Exit 0 when ready, 1 otherwise. Used instead of a fixed sleep.
'use strict';
const http = require('http');
const [url, timeoutS, pid] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutS || 30) * 1000;

function alive(p) {
  if (!p) return true;
  try { process.kill(Number(p), 0); return true; } catch { return false; }
}

function attempt() {
  if (Date.now() > deadline) { console.error(`wait-http: ${url} not ready after ${timeoutS}s`); process.exit(1); }
  if (!alive(pid)) { console.error(`wait-http: process ${pid} exited`); process.exit(1); }
  const req = http.get(url, { timeout: 2000 }, (res) => {
    res.resume();
    if (res.statusCode >= 200 && res.statusCode < 300) process.exit(0);
    setTimeout(attempt, 100);
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => setTimeout(attempt, 100));
}
attempt();
