// `pnpm -s memhub <command> ...` in this workspace: the memhub command from the TypeScript sources,
// run in the folder where the command was typed. pnpm runs a script at the workspace root and
// says in INIT_CWD where the user was: relative paths (an ingest file, --dir) and the default
// ./.memhub are the user's, not the root's. (-s keeps pnpm's banner off stdout, so that --json
// output can be piped to jq.) Installed users run the `memhub` bin instead.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const bin = fileURLToPath(new URL('../packages/cli/src/bin.ts', import.meta.url));
const child = spawn(process.execPath, ['--conditions=@memhub/source', '--import', tsx, bin, ...process.argv.slice(2)], {
  cwd: process.env['INIT_CWD'] ?? process.cwd(),
  stdio: 'inherit',
});
// Ctrl-C reaches memhub itself (one process group): this process waits for it to finish (an
// interrupted ingest prints its summary). A SIGTERM sent to this process alone is passed on.
const waitForMemhub = () => {};
const passOn = () => child.kill('SIGTERM');
process.on('SIGINT', waitForMemhub);
process.on('SIGTERM', passOn);
child.on('exit', (code, signal) => {
  process.off('SIGINT', waitForMemhub);
  process.off('SIGTERM', passOn);
  if (signal !== null) process.kill(process.pid, signal);
  else process.exitCode = code ?? 1;
});
