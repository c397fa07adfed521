#!/usr/bin/env node
'use strict';
// Bakes VERSION, FLAVOR and SCHEMA into a copy of the stand-in's package.json before `npm publish`.
//   [T3_STANDIN_NAME=@corp/t3] stamp-standin.js PACKAGE_JSON VERSION FLAVOR [SCHEMA]
const fs = require('fs');
const path = require('path');
const [file, version, flavor, schema] = process.argv.slice(2);
const { FLAVORS, MAX_SCHEMA } = require(path.join(path.dirname(file), 'lib', 'build.js'));
const die = (m) => { process.stderr.write(`stamp-standin: ${m}\n`); process.exit(2); };
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version || '')) die(`'${version}' is not a semver version`);
if (!FLAVORS[flavor]) die(`unknown flavor '${flavor}' (known: ${Object.keys(FLAVORS).join(', ')})`);
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
pkg.version = version;
// T3_STANDIN_NAME publishes the same stand-in under another name, e.g. @corp/t3; the binary stays t3.
if (process.env.T3_STANDIN_NAME) {
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(process.env.T3_STANDIN_NAME)) die(`'${process.env.T3_STANDIN_NAME}' is not an npm package name`);
  pkg.name = process.env.T3_STANDIN_NAME;
}
pkg.t3standin = { flavor };
if (FLAVORS[flavor].preinstallFails) {
  pkg.scripts = { preinstall: "node -e \"console.error('stand-in install-fails flavor: preinstall refuses'); process.exit(1)\"" };
}
if (FLAVORS[flavor].holdsInstall) {
  pkg.scripts = { preinstall: 'node lib/hold.js' };
} else if (FLAVORS[flavor].probesSandbox) {
  pkg.scripts = { preinstall: 'node lib/probe.js' };
} else if (FLAVORS[flavor].lingers) {
  pkg.scripts = { preinstall: 'node lib/linger.js' };
} else if (FLAVORS[flavor].recordUid) {
  pkg.scripts = { preinstall: 'node lib/record.js preinstall' };
}
if (schema) {
  const n = Number(schema);
  if (!Number.isInteger(n) || n < 3 || n > MAX_SCHEMA) die(`schema must be an integer 3..${MAX_SCHEMA}`);
  pkg.t3standin.schema = n;
}
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
