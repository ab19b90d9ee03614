#!/usr/bin/env node
// The `memhub` command. Built to dist/bin.js for the package's bin; run from the sources with
// `node --conditions=@memhub/source --import tsx packages/cli/src/bin.ts` (the root's `pnpm memhub`).
import { readFileSync } from 'node:fs';

// `memhub export | head` closes stdout early: that ends the command quietly, as with any Unix tool.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Asked by scripts and tools before anything else: answered without loading the command line's
  // modules, as commander would answer it (the version, one line).
  process.stdout.write(`${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
} else {
  const { runCli } = await import('./run-cli.js');
  process.exitCode = await runCli(args);
}
