#!/usr/bin/env node
// CommonJS, like the bundles it loads: an ES module entry costs node a few ms more to start.
const {answerWithoutOclif} = require('../dist/bundle/fast-path.cjs');

answerWithoutOclif(process.argv.slice(2), () => require('../package.json').version).then(async (answered) => {
  if (!answered) await require('../dist/bundle/cli.cjs').run();
});
