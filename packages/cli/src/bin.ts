#!/usr/bin/env node
// The `memhub` command. Built to dist/bin.js for the package's bin; run from the sources with
// `node --conditions=@memhub/source --import tsx packages/cli/src/bin.ts` (the root's `pnpm memhub`).
import { runCli } from './run-cli.js';

// `memhub export | head` closes stdout early: that ends the command quietly, as with any Unix tool.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2));
