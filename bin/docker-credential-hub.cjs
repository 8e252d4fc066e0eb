#!/usr/bin/env node
// docker's credential helper for hub registries: `credHelpers: {"<registry>": "hub"}` in docker's config.json.
// CommonJS, like the bundle it loads: docker starts it for every operation on a hub registry.
const {serve} = require('../dist/bundle/credential-helper-main.cjs');

serve(() => require('../package.json').version).then((exitCode) => {
  process.exitCode = exitCode;
});
