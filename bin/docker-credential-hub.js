#!/usr/bin/env node
// docker's credential helper for hub registries: `credHelpers: {"<registry>": "hub"}` in docker's config.json.
import {createRequire} from 'node:module';
import {serve} from '../dist/docker/credential-helper-main.js';

const {version} = createRequire(import.meta.url)('../package.json');
process.exitCode = await serve(version);
