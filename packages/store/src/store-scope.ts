import { StoreValidationError } from './errors.js';
import type { MemoryRecord } from './memory-record.js';
import { validateContextPath } from './validate-record.js';

/**
 * Separates a scope from an idempotency key in the key a scoped store writes: a key is the
 * caller's own within its scope, so two agents may use the same key without meeting. A scope
 * cannot contain it, so the first one ends the scope.
 */
const KEY_SEPARATOR = '\u001f';

/**
 * A store's scope (`openStore({ scope })`): a contextPath that everything written through the
 * store is put under, and that everything read through it is limited to, so that several agents
 * or users share one store without seeing each other's memories. Paths inside a scope are the
 * caller's own: a record remembered with contextPath `/projects/x` in the scope `/agents/alice`
 * is stored at `/agents/alice/projects/x`, and comes back (from remember, recall, get) as
 * `/projects/x`, as if the scope were the root. Idempotency keys are the scope's own too. The
 * root scope, `/`, is no scope: paths and keys are as stored.
 */
export class StoreScope {
  /** The scope as a normalised contextPath; `/` for none. */
  readonly path: string;

  constructor(scope: unknown) {
    const path = validateContextPath(scope, 'scope');
    if (path.includes(KEY_SEPARATOR)) throw new StoreValidationError('scope', 'contains the character U+001F');
    this.path = path;
  }

  get isRoot(): boolean {
    return this.path === '/';
  }

  /** A contextPath given inside the scope, as stored. */
  stored(contextPath: string): string {
    if (this.isRoot) return contextPath;
    return contextPath === '/' ? this.path : `${this.path}${contextPath}`;
  }

  /** An idempotency key given inside the scope, as stored. */
  storedKey(key: string | null): string | null {
    return key === null || this.isRoot ? key : `${this.path}${KEY_SEPARATOR}${key}`;
  }

  /** Whether a stored contextPath is the scope or below it. */
  contains(storedPath: string): boolean {
    return this.isRoot || storedPath === this.path || storedPath.startsWith(`${this.path}/`);
  }

  /** A stored contextPath (in the scope) as the scope sees it. */
  viewPath(storedPath: string): string {
    if (this.isRoot) return storedPath;
    return storedPath === this.path ? '/' : storedPath.slice(this.path.length);
  }

  /** A stored record as the scope sees it: its contextPath and key relative to the scope. */
  view<R extends MemoryRecord>(record: R): R {
    if (this.isRoot) return record;
    const contextPath = this.viewPath(record.contextPath);
    const prefix = `${this.path}${KEY_SEPARATOR}`;
    const key = record.key !== null && record.key.startsWith(prefix) ? record.key.slice(prefix.length) : record.key;
    return { ...record, contextPath, key };
  }
}
