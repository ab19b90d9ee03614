import { createRequire } from 'node:module';

/** The part of fs-ext that the bare rows call: its synchronous flock(2) and the flag bits. */
interface FsExtFlock {
  flockSync(fd: number, flags: number): void;
  readonly constants: { readonly LOCK_EX: number; readonly LOCK_NB: number; readonly LOCK_UN: number };
}

// fs-ext is a CommonJS native addon without type declarations. @memhub/lock loads it the same
// way, so the floor rows of bench:lock and the flock peer of bench:store (row 3d) time the very
// binding the lock calls, minus everything the lock adds.
const fsExt = createRequire(import.meta.url)('fs-ext') as FsExtFlock;

/** flock(2) on an open descriptor; throws (EAGAIN/EWOULDBLOCK with LOCK_NB) when it cannot lock. */
export const flockSync: FsExtFlock['flockSync'] = (fd, flags) => fsExt.flockSync(fd, flags);
export const { LOCK_EX, LOCK_NB, LOCK_UN } = fsExt.constants;
