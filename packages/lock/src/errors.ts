import type { HolderInfo } from './holder-metadata.js';

/**
 * Base class of every error `@memhub/lock` throws on purpose. Callers branch on `code`,
 * which is stable across versions; messages are for people and may change.
 */
export class LockError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An argument was missing or wrong. `argument` names it; nothing was opened or locked. */
export class LockArgumentError extends LockError {
  readonly argument: string;
  readonly reason: string;

  constructor(argument: string, reason: string) {
    super('ERR_LOCK_ARGUMENT', `Invalid ${argument}: ${reason}`);
    this.argument = argument;
    this.reason = reason;
  }
}

/**
 * This platform has no flock(2): Windows, or a system whose C library could not be loaded. memhub
 * relies on flock's semantics (released by the kernel with its process, one lock per open file
 * description) and does not emulate them.
 */
export class UnsupportedPlatformError extends LockError {
  readonly platform: string;

  constructor(platform: string, detail: string) {
    super(
      'ERR_LOCK_UNSUPPORTED_PLATFORM',
      `memhub's file locks need flock(2), which ${platform} does not have${detail === '' ? '' : ` (${detail})`}. ` +
        'Linux is supported (and tested), macOS should work (untested); on Windows, run it in WSL.',
    );
    this.platform = platform;
  }
}

/** The lock file lives on a network or FUSE filesystem where flock(2) cannot be trusted. */
export class UnsafeFilesystemError extends LockError {
  readonly path: string;
  readonly filesystem: string;
  readonly magic: number;

  constructor(path: string, filesystem: string, magic: number) {
    super(
      'ERR_LOCK_UNSAFE_FILESYSTEM',
      `Refusing to lock ${path}: it is on a ${filesystem} filesystem (statfs type 0x${magic.toString(16)}), ` +
        `where flock(2) is not reliably shared between hosts or clients and SQLite's WAL mode is unsafe. ` +
        `Keep the store on a local disk, or use memhub's PostgreSQL engine when several hosts share one store. ` +
        `If you know this mount is safe (one host only, and a FUSE filesystem that forwards flock), ` +
        `pass { allowUnsafeFilesystem: true }.`,
    );
    this.path = path;
    this.filesystem = filesystem;
    this.magic = magic;
  }
}

/** Waiting for the lock took longer than the timeout. `holders` says who had it, as far as can be known. */
export class LockTimeoutError extends LockError {
  readonly path: string;
  readonly mode: LockModeName;
  readonly waitedMs: number;
  readonly holders: readonly HolderInfo[];

  constructor(path: string, mode: LockModeName, waitedMs: number, holders: readonly HolderInfo[], holderText: string) {
    super(
      'ERR_LOCK_TIMEOUT',
      `Timed out after ${Math.round(waitedMs)} ms waiting for the ${mode} lock on ${path}: ${holderText}`,
    );
    this.path = path;
    this.mode = mode;
    this.waitedMs = waitedMs;
    this.holders = holders;
  }
}

/** The caller's AbortSignal fired while it waited. `cause` is the signal's reason. */
export class LockAbortedError extends LockError {
  readonly path: string;

  constructor(path: string, reason: unknown) {
    super('ERR_LOCK_ABORTED', `Gave up waiting for the lock on ${path}: the operation was aborted`, {
      cause: reason,
    });
    this.path = path;
  }
}

/** A call chain that holds a shared lock asked for the exclusive one: waiting would deadlock. */
export class LockUpgradeError extends LockError {
  readonly path: string;

  constructor(path: string) {
    super(
      'ERR_LOCK_UPGRADE',
      `Cannot take an exclusive lock on ${path} while this call chain holds it shared: ` +
        `the wait would never end. Release the shared lock first, or take it exclusive from the start.`,
    );
    this.path = path;
  }
}

/**
 * A synchronous acquire found the lock held by another call chain of this same thread. A
 * synchronous wait could never see it released (the holder needs this thread to run), so it fails at once.
 */
export class LockDeadlockError extends LockError {
  readonly path: string;

  constructor(path: string, holderText: string) {
    super(
      'ERR_LOCK_DEADLOCK',
      `acquireSync on ${path} would wait forever: ${holderText}. ` +
        `Use the async acquire(), or take the lock from a worker thread.`,
    );
    this.path = path;
  }
}

/** The lock (or its handle) was used after close(). */
export class LockClosedError extends LockError {
  readonly path: string;

  constructor(path: string, what = 'lock') {
    super('ERR_LOCK_CLOSED', `The ${what} on ${path} is closed`);
    this.path = path;
  }
}

/** An operating-system call on the lock file failed for a reason the library cannot handle. */
export class LockSystemError extends LockError {
  readonly path: string;
  readonly syscall: string;

  constructor(path: string, syscall: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('ERR_LOCK_SYSTEM', `${syscall} failed on lock file ${path}: ${detail}`, { cause });
    this.path = path;
    this.syscall = syscall;
  }
}

export type LockModeName = 'exclusive' | 'shared';
