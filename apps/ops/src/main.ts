#!/usr/bin/env node
/**
 * Entry point of `eventcast-ops` (see cli.ts). SIGINT/SIGTERM abort the running command: `replay --follow` ends
 * cleanly, a rebuild stops between two batches (rerun to resume); a second signal exits at once.
 */
import { createCli } from './cli.js';

const abort = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals): void => {
  signals++;
  if (signals > 1) process.exit(130);
  abort.abort(new Error(`received ${sig}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// `eventcast-ops replay | head` closes stdout early: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

const cli = createCli({ stdout: process.stdout, stderr: process.stderr, env: process.env, signal: abort.signal });
const code = await cli.run(process.argv.slice(2));
process.exitCode = code;
