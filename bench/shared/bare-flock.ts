import { createRequire } from 'node:module';
import { constants } from 'node:os';

// flock(2) through koffi, the binding @memhub/lock calls (packages/lock/src/flock.ts), so the floor
// rows of bench:lock and the flock peer of bench:store (row 3d) time the very call the lock makes,
// minus everything the lock adds. Linux (glibc) only, like the rest of the bench.
const koffi = createRequire(import.meta.url)('koffi') as {
  load(path: string): { func(signature: string): (fd: number, operation: number) => number };
  errno(): number;
};
const flock = koffi.load('libc.so.6').func('int flock(int fd, int operation)');
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2) on an open descriptor; throws (code EAGAIN/EWOULDBLOCK with LOCK_NB) when it cannot lock. */
export function flockSync(fd: number, flags: number): void {
  for (;;) {
    if (flock(fd, flags) === 0) return;
    const errno = koffi.errno();
    if (errno === constants.errno.EINTR) continue;
    const error: NodeJS.ErrnoException = new Error(`flock failed: ${ERRNO_NAMES.get(errno) ?? errno}`);
    error.code = ERRNO_NAMES.get(errno) ?? String(errno);
    error.errno = errno;
    throw error;
  }
}
