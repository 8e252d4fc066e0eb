#!/usr/bin/env node
// docker's credential helper for hub registries: `credHelpers: {"<registry>": "hub"}` in docker's config.json.
import {createRequire} from 'node:module';
import {serve} from '../dist/bundle/docker/credential-helper-main.js';

process.exitCode = await serve(() => createRequire(import.meta.url)('../package.json').version);
