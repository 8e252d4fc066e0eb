#!/usr/bin/env node
import {main} from '../dist/token-service/cli.js';

process.exitCode = await main(process.argv.slice(2));
