import { statSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { LockArgumentError, type LockModeName } from './errors.js';

export const MAX_PURPOSE_LENGTH = 200;

/** Checks a lock file path: a non-empty absolute path, not a folder, in a folder that exists. */
export function validateLockPath(path: unknown, argument = 'path'): string {
  if (typeof path !== 'string') throw new LockArgumentError(argument, `expected a string, got ${describe(path)}`);
  if (path === '') throw new LockArgumentError(argument, 'the path is empty');
  if (path.includes('\0')) throw new LockArgumentError(argument, 'the path contains a NUL byte');
  if (!isAbsolute(path)) {
    throw new LockArgumentError(argument, `"${path}" is relative; pass an absolute path (path.resolve() makes one)`);
  }
  const parent = dirname(path);
  const parentStat = statSync(parent, { throwIfNoEntry: false });
  if (parentStat === undefined) {
    throw new LockArgumentError(argument, `the folder ${parent} does not exist; create it first`);
  }
  if (!parentStat.isDirectory()) throw new LockArgumentError(argument, `${parent} is not a folder`);
  const own = statSync(path, { throwIfNoEntry: false });
  if (own?.isDirectory()) throw new LockArgumentError(argument, `${path} is a folder; a lock file must be a regular file`);
  if (own !== undefined && !own.isFile()) {
    throw new LockArgumentError(argument, `${path} exists but is not a regular file`);
  }
  return path;
}

/** 'exclusive' (the default) or 'shared'. */
export function validateMode(mode: unknown, argument = 'mode'): LockModeName {
  if (mode === undefined) return 'exclusive';
  if (mode === 'exclusive' || mode === 'shared') return mode;
  throw new LockArgumentError(argument, `expected 'exclusive' or 'shared', got ${describe(mode)}`);
}

/** A timeout in milliseconds: zero (try once), a positive number, or Infinity (wait for ever). */
export function validateTimeout(timeoutMs: unknown, fallback: number, argument = 'timeoutMs'): number {
  if (timeoutMs === undefined) return fallback;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    throw new LockArgumentError(argument, `expected a number of milliseconds, got ${describe(timeoutMs)}`);
  }
  if (timeoutMs < 0) throw new LockArgumentError(argument, `must not be negative, got ${timeoutMs}`);
  return timeoutMs;
}

/** A short free-text note of why the lock is taken; it is written into the lock file for others to read. */
export function validatePurpose(purpose: unknown, fallback: string, argument = 'purpose'): string {
  if (purpose === undefined) return fallback;
  if (typeof purpose !== 'string') throw new LockArgumentError(argument, `expected a string, got ${describe(purpose)}`);
  if (purpose.length > MAX_PURPOSE_LENGTH) {
    throw new LockArgumentError(argument, `longer than ${MAX_PURPOSE_LENGTH} characters`);
  }
  return purpose;
}

export function validateSignal(signal: unknown, argument = 'signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (signal instanceof AbortSignal) return signal;
  throw new LockArgumentError(argument, `expected an AbortSignal, got ${describe(signal)}`);
}

export function validateOptionsObject(options: unknown, argument = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LockArgumentError(argument, `expected an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

export function validateBoolean(value: unknown, fallback: boolean, argument: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new LockArgumentError(argument, `expected true or false, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
