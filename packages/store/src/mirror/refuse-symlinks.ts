import { constants, lstatSync, openSync } from 'node:fs';
import { StoreSymlinkError } from '../errors.js';

/**
 * Every file memhub keeps in `layers/` is appended to, truncated or rewritten in place. A symlink
 * there would send those writes to whatever it points to (another store's layer, a user's file),
 * so each one is opened with O_NOFOLLOW: a symlink as the last component fails the open itself
 * (ELOOP), with no window between a check and the open. The `layers/` folder and the folders above
 * it may be symlinks: O_NOFOLLOW only concerns the last component, and the whole store may well be
 * reached through a link.
 */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** openSync with O_NOFOLLOW: a symlink at `path` throws StoreSymlinkError instead of being followed. */
export function openRefusingSymlink(path: string, flags: number, mode?: number): number {
  try {
    return openSync(path, flags | NO_FOLLOW, mode);
  } catch (error) {
    // Linux and macOS say ELOOP; FreeBSD says EMLINK. Either way, look before calling it a link.
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ELOOP' || code === 'EMLINK') && isSymlink(path)) throw new StoreSymlinkError(path, { cause: error });
    throw error;
  }
}

/**
 * Throws StoreSymlinkError if `path` is a symlink. For the files memhub does not open itself: the
 * lock library resolves a lock path's symlinks on purpose (every path to one file is one lock), so
 * a layer's `.jsonl.lock` is checked before the lock is opened and before each acquisition.
 */
export function refuseSymlink(path: string): void {
  if (isSymlink(path)) throw new StoreSymlinkError(path);
}

function isSymlink(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}
