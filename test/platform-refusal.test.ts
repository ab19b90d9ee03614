import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const pretendWindows = fileURLToPath(new URL('./fixtures/pretend-windows.mjs', import.meta.url));
const memhubBin = fileURLToPath(new URL('../packages/cli/bin/memhub.js', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'memhub-platform-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Runs an ES module snippet with plain Node as if on Windows, the built packages resolved as a user's program resolves them. */
async function onWindows(source: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', pretendWindows, '--input-type=module', '-e', source], { cwd: here });
  return stdout;
}

describe('on Windows (no flock(2)) memhub refuses with a typed error that says what to do', { timeout: 60_000 }, () => {
  it('importing works; opening a lock or a store throws UnsupportedPlatformError, and no lock file is created', async () => {
    const dir = join(folder, 'store');
    const output = await onWindows(`
      import { openLock, UnsupportedPlatformError } from '@memhub/lock';
      import { openStore } from '@memhub/store';
      const results = { platform: process.platform };
      try { openLock(${JSON.stringify(join(folder, 'x.lock'))}); } catch (error) {
        results.lock = { code: error.code, typed: error instanceof UnsupportedPlatformError, message: error.message };
      }
      try { await openStore({ dir: ${JSON.stringify(dir)} }); } catch (error) { results.store = { code: error.code, message: error.message }; }
      console.log(JSON.stringify(results));
    `);
    const results = JSON.parse(output) as { platform: string; lock?: { code: string; typed: boolean; message: string }; store?: { code: string; message: string } };
    expect(results.platform).toBe('win32');
    expect(results.lock).toMatchObject({ code: 'ERR_LOCK_UNSUPPORTED_PLATFORM', typed: true });
    expect(results.lock!.message).toMatch(/need flock\(2\), which Windows does not have.*on Windows, run it in WSL/);
    expect(results.store?.code).toBe('ERR_LOCK_UNSUPPORTED_PLATFORM');
    expect(existsSync(join(folder, 'x.lock'))).toBe(false);
  });

  it('memhub says so in one line, exit code 1, no stack trace hint', async () => {
    const failed = await run(process.execPath, ['--import', pretendWindows, memhubBin, 'remember', 'hello', '--dir', join(folder, 'cli-store')]).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^memhub: memhub's file locks need flock\(2\), which Windows does not have\. .*WSL\.\n$/);
    // The control: the same command on this platform works.
    const { stdout } = await run(process.execPath, [memhubBin, 'remember', 'hello', '--dir', join(folder, 'cli-store')]);
    expect(stdout).toMatch(/^remembered /);
  });
});
