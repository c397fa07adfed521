'use strict';
// Stand-in only (the slow-install flavor's preinstall script): records itself (lib/record.js), then keeps npm
// running while /tmp/t3-standin-record/<version>/hold exists, so a test can kill the controller inside npm. Bounded:
// a test that forgets the file costs three minutes, not a hung install.
const fs = require('fs');
const path = require('path');
const build = require('./build');
const { record } = require('./record');

const hold = path.join('/tmp/t3-standin-record', build.version, 'hold');
record('preinstall');
const end = Date.now() + 180000;
const timer = setInterval(() => {
  if (!fs.existsSync(hold) || Date.now() > end) clearInterval(timer);
}, 50);
