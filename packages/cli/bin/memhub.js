#!/usr/bin/env node
// The installed `memhub` command. It is a file of its own, not dist/bin.js itself, so that it
// exists before the build: installing the workspace links it without a warning, and running it
// unbuilt says what to do instead of failing on a missing module.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('memhub: the command line is not built yet; run `pnpm build` in the memhub workspace first\n');
  process.exitCode = 1;
}
