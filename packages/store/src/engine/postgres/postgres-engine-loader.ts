import { StoreDependencyError } from '../../errors.js';
import type { PostgresEngine } from './postgres-engine.js';

/**
 * The PostgreSQL engine, loaded when a store on PostgreSQL is opened, not before: `pg` is an
 * optional peer dependency, so a program whose stores are all on SQLite never loads it (nor
 * needs it installed), and one that asks for PostgreSQL without it is told which package to add.
 */
export async function loadPostgresEngine(): Promise<typeof PostgresEngine> {
  try {
    return (await import('./postgres-engine.js')).PostgresEngine;
  } catch (error) {
    if (isMissingPackage(error, 'pg')) throw new StoreDependencyError('pg', 'A store on PostgreSQL (the url option)', { cause: error });
    throw error;
  }
}

/** Whether `error` is Node's "cannot find package" for `name` (from an import, or a require inside it). */
function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}
