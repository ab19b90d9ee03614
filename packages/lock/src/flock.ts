import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { UnsupportedPlatformError } from './errors.js';

/**
 * flock(2), called in the C library through koffi, a Node-API foreign function interface that
 * ships prebuilt binaries: no compiler is needed to install it, and a Node-API addon is safe to
 * load in every worker thread (fs-ext, used before, keeps V8 handles in static variables shared
 * by all threads: without a patch that only this workspace applied, processes using it from
 * several worker threads crashed). Only non-blocking calls are made: a blocking flock would park
 * the thread, and waiting is done with timers (lock-file.ts).
 */
interface Koffi {
  load(path: string): { func(signature: string): (...args: number[]) => number };
  errno(): number;
}


/** flock(2)'s operation bits: the same values on Linux and macOS. */
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

export const FLOCK_EXCLUSIVE_NOWAIT = LOCK_EX | LOCK_NB;
export const FLOCK_SHARED_NOWAIT = LOCK_SH | LOCK_NB;

/** The C library's names, most likely first: glibc, musl (Alpine), macOS. */
function libcCandidates(): string[] {
  if (process.platform === 'darwin') return ['libSystem.B.dylib', '/usr/lib/libSystem.B.dylib'];
  const arch = { x64: 'x86_64', arm64: 'aarch64', arm: 'armhf', ia32: 'i386', riscv64: 'riscv64' }[process.arch as string] ?? process.arch;
  return ['libc.so.6', `libc.musl-${arch}.so.1`, 'libc.so'];
}

interface Binding {
  readonly koffi: Koffi;
  readonly flock: (fd: number, operation: number) => number;
}

let binding: Binding | undefined;

/**
 * Loads koffi and flock(2) the first time a lock is opened or probed, not when the module is
 * imported: on a platform without flock, importing memhub still works, and the first lock says why
 * it cannot be had (UnsupportedPlatformError) instead of the import failing with koffi's message.
 */
function flockBinding(): Binding {
  if (binding !== undefined) return binding;
  if (process.platform === 'win32') throw new UnsupportedPlatformError('Windows', '');
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const failures: string[] = [];
  for (const name of libcCandidates()) {
    try {
      const flock = koffi.load(name).func('int flock(int fd, int operation)') as (fd: number, operation: number) => number;
      binding = { koffi, flock };
      return binding;
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new UnsupportedPlatformError(process.platform, `no C library with flock could be loaded: ${failures.join('; ')}`);
}

/** Throws UnsupportedPlatformError where flock(2) cannot be called; a lock checks it when it is opened. */
export function assertFlockAvailable(): void {
  flockBinding();
}

/** errno's name (EAGAIN, EBADF, ...) for an Error's `code`, as Node's own system errors carry it. */
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));
const WOULD_BLOCK = new Set([constants.errno.EAGAIN, constants.errno.EWOULDBLOCK]);

function systemError(errno: number, operation: number): NodeJS.ErrnoException {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const error: NodeJS.ErrnoException = new Error(`${code}: flock(operation ${operation}) failed`);
  error.code = code;
  error.errno = errno;
  error.syscall = 'flock';
  return error;
}

/** One flock(2) call, retried when a signal interrupted it: 0 when it succeeded, else its errno. */
function attempt(fd: number, operation: number): number {
  const { flock, koffi } = flockBinding();
  for (;;) {
    if (flock(fd, operation) === 0) return 0;
    const errno = koffi.errno();
    if (errno !== constants.errno.EINTR) return errno;
  }
}

/**
 * One non-blocking flock(2) attempt. Returns false when another open file description holds a
 * conflicting lock; any other failure (EBADF, ENOLCK, ...) is thrown to the caller. A busy lock is
 * the usual answer to a waiter's poll, so it is told by errno alone: building an Error (and its
 * stack) only to drop it made a busy attempt cost 7.5 us instead of 1.5 us.
 */
export function tryFlock(fd: number, operation: number): boolean {
  const errno = attempt(fd, operation);
  if (errno === 0) return true;
  if (WOULD_BLOCK.has(errno)) return false;
  throw systemError(errno, operation);
}

/** Drops this open file description's flock. */
export function unflock(fd: number): void {
  const errno = attempt(fd, LOCK_UN);
  if (errno !== 0) throw systemError(errno, LOCK_UN);
}
