#!/usr/bin/env node
// CommonJS, like the bundles it loads: an ES module entry costs node a few ms more to start.
const {join} = require('node:path');
const {start} = require('../dist/bundle/start.cjs');

start(process.argv.slice(2), {
  version: () => require('../package.json').version,
  cliBundle: join(__dirname, '../dist/bundle/cli.cjs'),
});
