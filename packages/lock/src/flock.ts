import { createRequire } from 'node:module';
import { constants } from 'node:os';

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

const koffi = createRequire(import.meta.url)('koffi') as Koffi;

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

function loadFlock(): (fd: number, operation: number) => number {
  const failures: string[] = [];
  for (const name of libcCandidates()) {
    try {
      return koffi.load(name).func('int flock(int fd, int operation)') as (fd: number, operation: number) => number;
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`flock(2) is not available on ${process.platform} (no C library with it: ${failures.join('; ')})`);
}

const flock = loadFlock();

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

/** One flock(2) call, retried when a signal interrupted it; throws the system error it failed with. */
function call(fd: number, operation: number): void {
  for (;;) {
    if (flock(fd, operation) === 0) return;
    const errno = koffi.errno();
    if (errno !== constants.errno.EINTR) throw systemError(errno, operation);
  }
}

/**
 * One non-blocking flock(2) attempt. Returns false when another open file description holds a
 * conflicting lock; any other failure (EBADF, ENOLCK, ...) is thrown to the caller.
 */
export function tryFlock(fd: number, operation: number): boolean {
  try {
    call(fd, operation);
    return true;
  } catch (error) {
    if (WOULD_BLOCK.has((error as NodeJS.ErrnoException).errno ?? -1)) return false;
    throw error;
  }
}

/** Drops this open file description's flock. */
export function unflock(fd: number): void {
  call(fd, LOCK_UN);
}
