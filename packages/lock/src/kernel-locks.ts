import { readFileSync, statSync } from 'node:fs';
import type { LockModeName } from './errors.js';

/** A flock(2) lock as the Linux kernel lists it in /proc/locks. */
export interface KernelFlock {
  readonly pid: number;
  readonly mode: LockModeName;
}

/**
 * The processes that hold a flock on the file with this device and inode, read from /proc/locks:
 * the kernel's own account, true even when the holder never wrote (or overwrote) its metadata.
 * Returns undefined where /proc/locks cannot be read (not Linux, or hidden by a sandbox).
 *
 * /proc/locks writes the device as hex `major:minor`. On overlay filesystems the kernel lists the
 * inode of the underlying file with the underlying device, so when no entry matches both, entries
 * that match the inode alone are taken.
 */
export function kernelFlockHolders(dev: number, ino: number): KernelFlock[] | undefined {
  return kernelLocksOn(dev, ino)
    ?.filter((lock) => lock.kind === 'flock')
    .map(({ pid, mode }) => ({ pid, mode }));
}

/** A lock of any kind (flock, POSIX record lock, open-file-description lock) on one file. */
export interface KernelLock extends KernelFlock {
  readonly kind: 'flock' | 'posix' | 'ofd';
  /** The first byte locked (0 for a flock, which covers the whole file). */
  readonly start: number;
  /** The last byte locked, inclusive; Infinity for "to the end of the file" (and for a flock). */
  readonly end: number;
}

/**
 * Every lock the kernel lists on the file at `path`: flocks, and the POSIX record locks that
 * SQLite takes (a process with an open SQLite connection to a WAL database holds one on its
 * `-shm` file). Undefined where /proc/locks cannot be read; an empty list for a missing file.
 */
export function kernelLockHolders(path: string): KernelLock[] | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return [];
  return kernelLocksOn(stat.dev, stat.ino);
}

const KINDS: Readonly<Record<string, KernelLock['kind']>> = { FLOCK: 'flock', POSIX: 'posix', OFDLCK: 'ofd' };

function kernelLocksOn(dev: number, ino: number): KernelLock[] | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'latin1');
  } catch {
    return undefined;
  }
  const wantedDevice = formatDevice(dev);
  const wantedInode = String(ino);
  const exact: KernelLock[] = [];
  const inodeOnly: KernelLock[] = [];
  for (const line of text.split('\n')) {
    // "3: FLOCK  ADVISORY  WRITE 1234 fe:00:1474572 0 EOF"; waiters carry "->" and are skipped.
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [, type, , access, pidText, location, startText, endText] = fields as [string, string, string, string, string, string, string?, string?];
    const kind = KINDS[type];
    if (kind === undefined) continue;
    const lastColon = location.lastIndexOf(':');
    if (location.slice(lastColon + 1) !== wantedInode) continue;
    const start = Number(startText ?? 0);
    const end = endText === undefined || endText === 'EOF' ? Number.POSITIVE_INFINITY : Number(endText);
    const entry: KernelLock = { pid: Number(pidText), mode: access === 'WRITE' ? 'exclusive' : 'shared', kind, start, end };
    if (location.slice(0, lastColon) === wantedDevice) exact.push(entry);
    else inodeOnly.push(entry);
  }
  return exact.length > 0 ? exact : inodeOnly;
}

/** Linux's dev_t encoding (see <linux/kdev_t.h>, new_decode_dev) printed as /proc/locks does. */
function formatDevice(dev: number): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}
