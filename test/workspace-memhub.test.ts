import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
let folder: string;

/** This process's environment without memhub's own variables (a store chosen by the caller's shell) and INIT_CWD. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MEMHUB_') && name !== 'INIT_CWD'));
  return { ...env, ...extra };
}

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'memhub-workspace-command-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

/**
 * `pnpm -s memhub` in this workspace (scripts/memhub.mjs): pnpm runs it at the workspace root and
 * names the user's folder in INIT_CWD; the command runs there.
 */
describe('pnpm -s memhub runs in the folder where it was typed', { timeout: 120_000 }, () => {
  it('the default store and relative paths are the user\'s folder, not the workspace root', async () => {
    const env = cleanEnv({ INIT_CWD: folder });
    const remembered = await run(process.execPath, ['scripts/memhub.mjs', 'remember', 'typed elsewhere', '--json'], { cwd: ROOT, env });
    expect((JSON.parse(remembered.stdout) as { content: string }).content).toBe('typed elsewhere');
    expect(existsSync(join(folder, '.memhub', 'memory.db'))).toBe(true);
    await run(process.execPath, ['scripts/memhub.mjs', 'remember', 'in a relative folder', '--dir', 'relative/store'], { cwd: ROOT, env });
    expect(existsSync(join(folder, 'relative', 'store', 'memory.db'))).toBe(true);
    // A failure keeps its exit code.
    const refused = await run(process.execPath, ['scripts/memhub.mjs', 'recall', '--limit', 'x'], { cwd: ROOT, env }).catch((error: { code: number }) => error);
    expect((refused as { code: number }).code).toBe(2);
  });

  it('through pnpm itself, -s leaves stdout to memhub: --json output parses whole', async (context) => {
    // pnpm is on the PATH of a run started through it (`pnpm test`, `npx --yes pnpm@10 test`).
    const found = await run('pnpm', ['--version'], { env: cleanEnv() }).catch(() => undefined);
    if (found === undefined) {
      context.skip('no pnpm on the PATH');
      return;
    }
    const { stdout } = await run('pnpm', ['-s', '-C', ROOT, 'memhub', 'remember', 'through pnpm', '--json'], { cwd: folder, env: cleanEnv() });
    expect((JSON.parse(stdout) as { content: string }).content).toBe('through pnpm');
    expect(existsSync(join(folder, '.memhub', 'memory.db'))).toBe(true);
  });
});
