import { renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError, openLock } from '../src/index.js';
import type { FixtureProcess } from './support/processes.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-identity-');

function holdInChild(lockPath: string): FixtureProcess {
  return scratch.spawn('hold-until-told.ts', [lockPath]);
}

describe('what one lock is', () => {
  it('treats two paths that reach one file through a symlink as one lock', async () => {
    const real = scratch.path('real.lock');
    const link = scratch.path('link.lock');
    writeFileSync(real, '');
    symlinkSync(real, link);
    const viaReal = openLock(real);
    const viaLink = openLock(link);
    expect(viaLink.realPath).toBe(viaReal.realPath);
    const held = await viaReal.acquire();
    await expect(viaLink.acquire({ timeoutMs: 30 })).rejects.toBeInstanceOf(LockTimeoutError);
    held.release();
    (await viaLink.acquire({ timeoutMs: 0 })).release();
    viaReal.close();
    viaLink.close();
  });

  it('excludes a process that locks through a symlink while this one holds the real path', async () => {
    const real = scratch.path('real.lock');
    const link = scratch.path('link.lock');
    writeFileSync(real, '');
    symlinkSync(real, link);
    const child = holdInChild(link);
    await child.waitForLine('held');
    const lock = openLock(real);
    await expect(lock.acquire({ timeoutMs: 50 })).rejects.toThrow(new RegExp(`pid ${child.pid}`));
    child.send('release');
    await child.waitForLine('released');
    (await lock.acquire({ timeoutMs: 2_000 })).release();
    lock.close();
  });

  it('follows the file at the path when the lock file was deleted and recreated under it', async () => {
    const path = scratch.path('replaced.lock');
    const lock = openLock(path);
    (await lock.acquire()).release(); // this thread's descriptor is now open on the first inode
    const firstInode = statSync(path).ino;
    unlinkSync(path); // another program removes the lock file...
    const child = holdInChild(path); // ...and a process locks the new file at the path
    await child.waitForLine('held');
    expect(statSync(path).ino).not.toBe(firstInode);
    // A lock on the old inode would be granted at once and exclude nobody: it must wait.
    await expect(lock.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    child.send('release');
    await child.waitForLine('released');
    (await lock.acquire({ timeoutMs: 2_000 })).release();
    lock.close();
  });

  it('follows the file at the path when another program renamed a new file over it', async () => {
    const path = scratch.path('renamed.lock');
    const lock = openLock(path);
    (await lock.acquire()).release();
    writeFileSync(scratch.path('new.lock'), '');
    renameSync(scratch.path('new.lock'), path);
    const child = holdInChild(path);
    await child.waitForLine('held');
    expect(() => lock.acquireSync({ timeoutMs: 100 })).toThrow(LockTimeoutError);
    child.send('release');
    await child.waitForLine('released');
    lock.acquireSync({ timeoutMs: 2_000 }).release();
    lock.close();
  });
});

describe('a lock file deleted while it is held', () => {
  it('confirm() takes the new file at the path, so that a process that opens the path later waits', async () => {
    const path = scratch.path('deleted-while-held.lock');
    const lock = openLock(path);
    const held = await lock.acquire();
    expect(held.confirm()).toBe(true);
    unlinkSync(path); // someone removes the "stale" lock file while it is held
    expect(held.confirm()).toBe(true); // ...and the holder takes the file now at the path
    expect(statSync(path).isFile()).toBe(true);
    expect(lock.metrics().replacedWhileHeld).toBe(1);
    // A process that opens the path now must wait for this hold: it times out.
    const blocked = scratch.spawn('repeated-acquirer.ts', [path, '1', '200']);
    await blocked.waitForLine('timeout', 20_000);
    held.release();
    expect(held.confirm()).toBe(false); // released: nothing to confirm
    const after = scratch.spawn('repeated-acquirer.ts', [path, '1', '5000']);
    await after.waitForLine('done 1', 20_000);
    lock.close();
  });

  it('confirm() is false when another process already holds the file now at the path: two holders, and the holder knows it', async () => {
    const path = scratch.path('split.lock');
    const lock = openLock(path);
    const held = await lock.acquire();
    unlinkSync(path);
    const child = holdInChild(path); // locks a new file at the path while this thread holds the old one
    await child.waitForLine('held');
    expect(held.confirm()).toBe(false);
    expect(held.confirm()).toBe(false);
    held.release();
    // The next acquire moves to the file at the path and waits for the child like anyone else.
    await expect(lock.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    child.send('release');
    await child.waitForLine('released');
    const again = await lock.acquire({ timeoutMs: 2_000 });
    expect(again.confirm()).toBe(true);
    again.release();
    lock.close();
  });

  it('a reentrant handle confirms through the outer hold', async () => {
    const path = scratch.path('reentrant-confirm.lock');
    const lock = openLock(path);
    await lock.withLock(async () => {
      const inner = await lock.acquire();
      expect(inner.reentrant).toBe(true);
      unlinkSync(path);
      expect(inner.confirm()).toBe(true);
      inner.release();
    });
    expect(statSync(path).isFile()).toBe(true);
    lock.close();
  });
});
