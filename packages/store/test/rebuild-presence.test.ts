import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockTimeoutError } from '@memhub/lock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, rebuildFromMirror, StoreRebuildRefusedError } from '../src/index.js';
import { startStoreFixture, type FixtureProcess } from './support/processes.js';

/**
 * "The store is open" is a lock: every open store holds memory.db.presence.lock shared, and
 * rebuildFromMirror() takes it exclusively, so a rebuild never renames a database that a process
 * has open, and no process opens one that a rebuild is replacing.
 */
let dir: string;
const children: FixtureProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memhub-rebuild-presence-'));
  const store = await openStore({ dir });
  await store.rememberMany(Array.from({ length: 3000 }, (_, index) => ({ content: `kept ${index}`, layer: index % 2 === 0 ? 'application' : 'notes' })));
  await store.close();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited();
  }
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): FixtureProcess {
  const child = startStoreFixture(name, args, env);
  children.push(child);
  return child;
}

describe('a rebuild and the stores open on its folder', () => {
  it('refuses while another process has the store open, naming it, and leaves the database where it is', async () => {
    const open = start('scripted-writer.ts', [dir]);
    await open.waitForLine('opened');
    const before = readFileSync(join(dir, 'memory.db'));
    const failure = await rebuildFromMirror(dir, { force: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreRebuildRefusedError);
    expect((failure as Error).message).toContain(`open in process ${open.pid}`);
    expect(readFileSync(join(dir, 'memory.db')).equals(before)).toBe(true);
    open.send('close');
    await open.waitForLine('closed');
    expect((await rebuildFromMirror(dir, { force: true })).records).toBe(3000);
  });

  it('refuses while a store is open in this very process', async () => {
    const store = await openStore({ dir });
    await expect(rebuildFromMirror(dir, { force: true })).rejects.toThrow(/open in process \d+ \(this process\)/);
    await store.close();
  });

  it('an open that comes during a rebuild waits for it, and opens the rebuilt store', async () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `memory.db${suffix}`), { force: true });
    const rebuilder = start('rebuilder.ts', [dir], { MEMHUB_FAULT: 'rebuild-mid-replay', MEMHUB_FAULT_ACTION: 'stop' });
    const deadline = Date.now() + 20_000;
    while (readFileSync(`/proc/${rebuilder.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'T') {
      if (Date.now() > deadline) throw new Error(`the rebuild never stopped:\n${rebuilder.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Half a database is there now: an open must not see it.
    const early = await openStore({ dir, lockTimeoutMs: 300 }).catch((error: unknown) => error);
    expect(early).toBeInstanceOf(LockTimeoutError);
    expect((early as Error).message).toContain('memhub rebuild from mirror');
    const waiting = openStore({ dir, lockTimeoutMs: 20_000 });
    rebuilder.kill('SIGCONT');
    await rebuilder.waitForLine('rebuilt 3000');
    const store = await waiting;
    expect((await store.stats()).records).toBe(3000);
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });
});
