#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly, for development: `bin/dev.js login …`. package.json
// points oclif at the built bundle; here it finds the commands and the hook in src/cli.ts
// instead, and always adds the help and completion plugins.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {execute} from '@oclif/core';
import {PLUGINS} from '../src/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = {...pjson.oclif.commands, target: './src/cli.ts'};
pjson.oclif.hooks.command_not_found = {...pjson.oclif.hooks.command_not_found, target: './src/cli.ts'};
await execute({development: true, dir: import.meta.url, loadOptions: {root, pjson, pluginAdditions: {core: PLUGINS}}});
