import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Runs an ES module snippet with plain Node, as a user's program would: no TypeScript, no source condition. */
function runPlainNode(source: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: here, encoding: 'utf8' });
}

describe('the packages as a user installs them', () => {
  it('@memhub/lock resolves through its exports map to the built JavaScript and works', () => {
    const built = fileURLToPath(new URL('../packages/lock/dist/index.js', import.meta.url));
    expect(existsSync(built), 'run the build (pnpm test does) before this test').toBe(true);
    const output = runPlainNode(`
      import { openLock, lockStatus, LockTimeoutError } from '@memhub/lock';
      import { mkdtempSync, rmSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const dir = mkdtempSync(join(tmpdir(), 'memhub-exports-'));
      const lock = openLock(join(dir, 'x.lock'), { purpose: 'exports check' });
      const held = await lock.acquire();
      const state = lockStatus(join(dir, 'x.lock')).state;
      held.release();
      lock.close();
      rmSync(dir, { recursive: true });
      console.log(JSON.stringify({ resolved: import.meta.resolve('@memhub/lock'), state, error: typeof LockTimeoutError }));
    `);
    const result = JSON.parse(output) as { resolved: string; state: string; error: string };
    expect(result.resolved).toMatch(/packages\/lock\/dist\/index\.js$/);
    expect(result.state).toBe('exclusive');
    expect(result.error).toBe('function');
  });

  it('@memhub/lock ships type declarations beside the JavaScript', () => {
    expect(existsSync(fileURLToPath(new URL('../packages/lock/dist/index.d.ts', import.meta.url)))).toBe(true);
  });
});
