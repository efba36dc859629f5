#!/usr/bin/env node
import { runDemo } from './demo.js';

/** `npm run demo` (after the build): runs the federation demo, exit 0 when every step worked. */
runDemo({ out: (line) => process.stdout.write(`${line}\n`) }).catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
