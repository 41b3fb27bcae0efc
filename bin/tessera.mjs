#!/usr/bin/env node
// The CLI is bundled to dist/ by scripts/build.mjs (run by `npm ci` through `prepare`).
import { main } from '../dist/cli.mjs';

process.exitCode = await main(process.argv.slice(2));
