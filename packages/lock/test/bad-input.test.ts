import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockArgumentError, lockStatus, openLock } from '../src/index.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-input-');

function argumentError(action: () => unknown): LockArgumentError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(LockArgumentError);
    return error as LockArgumentError;
  }
  throw new Error('expected a LockArgumentError');
}

async function rejectedArgument(action: () => Promise<unknown>): Promise<LockArgumentError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(LockArgumentError);
    return error as LockArgumentError;
  }
  throw new Error('expected a LockArgumentError');
}

describe('bad input to openLock is refused before any file is created', () => {
  it.each([
    ['an empty path', '', /empty/],
    ['a relative path', 'memory.db.lock', /relative/],
    ['a non-string path', 42, /string/],
    ['a path with a NUL byte', '/tmp/a\0b.lock', /NUL/],
  ])('%s', (_, path, reason) => {
    const error = argumentError(() => openLock(path as string));
    expect(error.argument).toBe('path');
    expect(error.code).toBe('ERR_LOCK_ARGUMENT');
    expect(error.reason).toMatch(reason);
  });

  it('a folder instead of a file', () => {
    mkdirSync(scratch.path('a-folder'));
    const error = argumentError(() => openLock(scratch.path('a-folder')));
    expect(error.argument).toBe('path');
    expect(error.message).toMatch(/is a folder/);
  });

  it('a missing parent folder, which is not created', () => {
    const error = argumentError(() => openLock(join(scratch.dir, 'missing', 'x.lock')));
    expect(error.argument).toBe('path');
    expect(error.message).toMatch(/does not exist/);
    expect(readdirSync(scratch.dir)).toEqual([]);
  });

  it('a parent that is a file', () => {
    writeFileSync(scratch.path('file'), '');
    const error = argumentError(() => openLock(join(scratch.dir, 'file', 'x.lock')));
    expect(error.message).toMatch(/not a folder/);
  });

  it.each([
    ['a negative timeout', { timeoutMs: -1 }, 'options.timeoutMs', /negative/],
    ['a timeout that is not a number', { timeoutMs: '10' }, 'options.timeoutMs', /number/],
    ['NaN as the timeout', { timeoutMs: Number.NaN }, 'options.timeoutMs', /number/],
    ['a purpose that is not a string', { purpose: 3 }, 'options.purpose', /string/],
    ['a non-boolean override', { allowUnsafeFilesystem: 'yes' }, 'options.allowUnsafeFilesystem', /true or false/],
  ])('%s', (_, options, argument, reason) => {
    const error = argumentError(() => openLock(scratch.path('x.lock'), options as never));
    expect(error.argument).toBe(argument);
    expect(error.reason).toMatch(reason);
    expect(readdirSync(scratch.dir)).toEqual([]);
  });

  it('options that are not an object', () => {
    expect(argumentError(() => openLock(scratch.path('x.lock'), 'fast' as never)).argument).toBe('options');
  });
});

describe('bad input to acquire is refused before anything is locked', () => {
  it.each([
    ['an unknown mode', { mode: 'write' }, 'options.mode', /'exclusive' or 'shared'/],
    ['a negative timeout', { timeoutMs: -5 }, 'options.timeoutMs', /negative/],
    ['a signal that is not an AbortSignal', { signal: {} }, 'options.signal', /AbortSignal/],
  ])('%s', async (_, options, argument, reason) => {
    const lock = scratch.lock(scratch.path('x.lock'));
    const error = await rejectedArgument(() => lock.acquire(options as never));
    expect(error.argument).toBe(argument);
    expect(error.reason).toMatch(reason);
    expect(argumentError(() => lock.acquireSync(options as never)).argument).toBe(argument);
    expect(lock.status().state).toBe('free');
  });

  it('a relative path given to lockStatus', () => {
    expect(argumentError(() => lockStatus('x.lock')).argument).toBe('path');
  });
});
