#!/usr/bin/env node
import {createRequire} from 'node:module';
import {answerWithoutOclif} from '../dist/bundle/fast-path.js';

const version = () => createRequire(import.meta.url)('../package.json').version;
if (!(await answerWithoutOclif(process.argv.slice(2), version))) {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
