#!/usr/bin/env node
// Reads the controller's JSON log on stdin and prints one short line per decision: the demo's narration.
'use strict';
const rl = require('readline').createInterface({ input: process.stdin });
const time = (ts) => (ts || '').slice(11, 19);
rl.on('line', (line) => {
  if (!line.startsWith('{')) return;
  let e;
  try { e = JSON.parse(line); } catch { return; }
  const who = e.target && e.target !== '-' ? ` ${e.target}` : '';
  if (e.event === 'step') {
    const mark = e.outcome === 'ok' ? '✓' : e.outcome === 'unchanged' ? '·' : '✗';
    console.log(`  ${time(e.ts)} ${mark} ${e.action}${who}: ${e.reason}${e.outcome === 'ok' ? '' : ' => ' + e.detail}`);
  } else if (e.event === 'decision') {
    console.log(`  ${time(e.ts)} · ${e.action}${e.gate ? ' (' + e.gate + ')' : ''}: ${e.reason}`);
  } else if (e.event === 'alert') {
    console.log(`  ${time(e.ts)} ! ALERT ${e.alert} [${e.severity}]: ${e.reason}`);
  } else if (e.event === 'recovered' || e.level === 'error') {
    console.log(`  ${time(e.ts)} ${e.level.toUpperCase()} ${e.event}: ${e.reason || ''}`);
  }
});
