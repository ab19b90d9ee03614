import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLOCK_EXCLUSIVE_NOWAIT, FLOCK_SHARED_NOWAIT, tryFlock, unflock } from '../src/flock.js';
import { useScratch } from './support/scratch.js';

const scratch = useScratch('memhub-lock-flock-');

/**
 * The flock(2) binding itself. A busy lock is an answer (false), told by errno without an Error
 * being built; every other failure is still thrown as the system error it is.
 */
describe('flock(2)', () => {
  it('an attempt on a lock another open file description holds answers false, and succeeds once that one is dropped', () => {
    const path = scratch.path('busy.lock');
    const holder = openSync(path, 'w');
    const other = openSync(path, 'r');
    try {
      expect(tryFlock(holder, FLOCK_EXCLUSIVE_NOWAIT)).toBe(true);
      expect(tryFlock(other, FLOCK_EXCLUSIVE_NOWAIT)).toBe(false);
      expect(tryFlock(other, FLOCK_SHARED_NOWAIT)).toBe(false);
      unflock(holder);
      expect(tryFlock(other, FLOCK_SHARED_NOWAIT)).toBe(true);
      expect(tryFlock(holder, FLOCK_SHARED_NOWAIT), 'shared beside shared').toBe(true);
    } finally {
      closeSync(holder);
      closeSync(other);
    }
  });

  it('any other failure is thrown with its errno, as a system error of flock', () => {
    const fd = openSync(scratch.path('closed.lock'), 'w');
    closeSync(fd);
    for (const call of [() => tryFlock(fd, FLOCK_EXCLUSIVE_NOWAIT), () => unflock(fd)]) {
      expect(call).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'flock' }));
    }
  });
});
