import { lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { StoreAccessError, StoreIOError, StoreValidationError } from '../../errors.js';

/**
 * Makes sure the store's folder exists, creating it and its missing parents one level at a time,
 * and turns every way that can fail into a typed error that says why, at once.
 *
 * Not `mkdirSync(dir, { recursive: true })`: on a read-only filesystem it reports ENOENT instead
 * of EROFS, and under /proc it looped for ever, each mkdir failing with ENOENT and each retry of
 * the parent with EEXIST.
 */
export function ensureStoreFolder(dir: string): void {
  const existing = statOrUndefined(dir, dir);
  if (existing !== undefined) {
    if (!existing.isDirectory()) throw new StoreValidationError('dir', `${dir} exists and is not a folder`);
    return;
  }
  const missing: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    const parent = dirname(current);
    missing.unshift(current);
    if (parent === current) break;
    const found = statOrUndefined(parent, dir);
    if (found === undefined) continue;
    if (!found.isDirectory()) throw new StoreValidationError('dir', `${dir} cannot be created: ${parent} is a file, not a folder`);
    break;
  }
  for (const folder of missing) makeFolder(folder, dir);
}

function statOrUndefined(path: string, dir: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw folderError(error, path, dir, 'use');
  }
}

function makeFolder(folder: string, dir: string): void {
  try {
    mkdirSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      // Made by another process meanwhile (fine), or a name that is not a folder.
      if (statSync(folder, { throwIfNoEntry: false })?.isDirectory() === true) return;
      if (lstatSync(folder, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
        throw new StoreValidationError('dir', `${dir} cannot be created: ${folder} is a symbolic link to something that does not exist`);
      }
      throw new StoreValidationError('dir', `${dir} cannot be created: ${folder} exists and is not a folder`);
    }
    throw folderError(error, folder, dir, 'create');
  }
}

function folderError(error: unknown, path: string, dir: string, doing: 'use' | 'create'): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const detail = `${code ?? 'error'} on ${path}`;
  switch (code) {
    case 'EROFS':
      return new StoreAccessError(`Cannot create the store folder ${dir}: the filesystem is read-only (${detail})`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new StoreAccessError(
        doing === 'create'
          ? `Cannot create the store folder ${dir}: this process may not create folders there (${detail})`
          : `Cannot use the store folder ${dir}: this process may not reach it (${detail})`,
        { cause: error },
      );
    case 'ENOENT':
      // mkdir of a child of a folder that exists: a filesystem that takes no new folders (/proc, /sys).
      return new StoreAccessError(`Cannot create the store folder ${dir}: ${dirname(path)} does not accept new folders (${detail})`, { cause: error });
    case 'ENOTDIR':
      return new StoreValidationError('dir', `${dir} cannot be used: a part of the path is a file, not a folder (${detail})`);
    case 'ELOOP':
      return new StoreValidationError('dir', `${dir} cannot be used: its path has a loop of symbolic links (${detail})`);
    case 'ENAMETOOLONG':
      return new StoreValidationError('dir', `${dir} cannot be used: the path is too long (${detail})`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new StoreIOError(`Cannot create the store folder ${dir}: the disk is full (${detail})`, { cause: error });
    default:
      return new StoreIOError(`Cannot ${doing} the store folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
}
