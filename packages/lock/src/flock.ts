import { createRequire } from 'node:module';

interface FsExtBinding {
  flockSync(fd: number, flags: number): void;
  constants: { LOCK_SH: number; LOCK_EX: number; LOCK_NB: number; LOCK_UN: number };
}

// fs-ext is a CommonJS native addon. Only its synchronous flock is used, and only with LOCK_NB
// when waiting is involved: its async flock parks a libuv pool thread for as long as the lock
// is held elsewhere, and four such waiters freeze every fs, dns and crypto call of the process.
const fsExt = createRequire(import.meta.url)('fs-ext') as FsExtBinding;
const { LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN } = fsExt.constants;

export const FLOCK_EXCLUSIVE_NOWAIT = LOCK_EX | LOCK_NB;
export const FLOCK_SHARED_NOWAIT = LOCK_SH | LOCK_NB;

/**
 * One non-blocking flock(2) attempt. Returns false when another open file description holds a
 * conflicting lock; any other failure (EBADF, ENOLCK, ...) is thrown to the caller.
 */
export function tryFlock(fd: number, operation: number): boolean {
  try {
    fsExt.flockSync(fd, operation);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
    throw error;
  }
}

/** Drops this open file description's flock. */
export function unflock(fd: number): void {
  fsExt.flockSync(fd, LOCK_UN);
}
