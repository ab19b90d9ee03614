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
