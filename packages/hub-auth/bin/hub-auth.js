#!/usr/bin/env node
import {main} from '../dist/hub-auth.js';

process.exitCode = await main(process.argv.slice(2));
