import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockTimeoutError, lockStatus } from '@memhub/lock';
import { openStore } from '@memhub/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FixtureProcess } from '../../packages/lock/test/support/processes.js';

const VICTIM = fileURLToPath(new URL('./fixtures/fault-victim.ts', import.meta.url));

let dir: string;
const children: FixtureProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-frozen-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The process state letter from /proc (T: stopped). */
function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
}

/** A store writer that freezes itself (SIGSTOP) while it holds the store's write lock, its transaction not begun. */
async function startFrozenWriter(): Promise<FixtureProcess> {
  const writer = new FixtureProcess(VICTIM, [dir, 'write'], { MEMHUB_FAULT: 'before-begin', MEMHUB_FAULT_ACTION: 'stop' });
  children.push(writer);
  await writer.waitForLine('opened');
  const deadline = Date.now() + 20_000;
  while (processState(writer.pid) !== 'T') {
    if (Date.now() > deadline) throw new Error(`the writer never froze:\n${writer.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return writer;
}

describe('a writer frozen with SIGSTOP while it holds the write lock', () => {
  it('others open the store, get a LockTimeoutError that names it, and carry on once it is resumed', async () => {
    const seed = await openStore({ dir });
    await seed.remember({ content: 'before the freeze' });
    await seed.close();
    const frozen = await startFrozenWriter();
    expect(lockStatus(join(dir, 'memory.db.lock')).holders.map((holder) => holder.pid)).toEqual([frozen.pid]);

    // Opening needs no lock, and reads go on.
    const store = await openStore({ dir, lockTimeoutMs: 1_000 });
    expect(await store.recall({ query: 'freeze' })).toHaveLength(1);
    const failure = await store.remember({ content: 'waits for the frozen writer' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect((failure as Error).message).toContain(String(frozen.pid));
    expect((failure as Error).message).toContain('memhub write transaction');

    frozen.kill('SIGCONT');
    const written = await store.remember({ content: 'after the writer was resumed' });
    await frozen.waitForLine('ack', 20_000);
    expect(await store.get(written.id)).not.toBeNull();
    await store.close();
  });

  it('others carry on at once when it is killed instead', async () => {
    const frozen = await startFrozenWriter();
    const store = await openStore({ dir, lockTimeoutMs: 1_000 });
    await expect(store.remember({ content: 'blocked' })).rejects.toBeInstanceOf(LockTimeoutError);
    frozen.kill('SIGKILL');
    await frozen.exited();
    const written = await store.remember({ content: 'after the writer was killed' });
    expect(await store.get(written.id)).not.toBeNull();
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });
});
