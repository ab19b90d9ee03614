import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Store, StoreLogger } from '@memhub/store';
import { CommandFailedError, UsageError } from './errors.js';

/** The folder a store lives in when neither `--dir` nor `MEMHUB_DIR` says otherwise. */
export const DEFAULT_STORE_DIR = './.memhub';

/** Where a command's store is: the options it hands to openStore. */
export interface StoreTarget {
  /** The store's folder (SQLite), absolute; set unless only a URL was given. */
  readonly dir?: string;
  /** A PostgreSQL URL (`--url` / `MEMHUB_URL`), passed through to openStore as it is. */
  readonly url?: string;
  /** The PostgreSQL schema (`--schema` / `MEMHUB_SCHEMA`). */
  readonly schema?: string;
  /** The contextPath the command works inside (`--scope` / `MEMHUB_SCOPE`), for the commands on records. */
  readonly scope?: string;
}

/** The options every command has: `--dir`, `--url`, `--schema`, `--debug`. */
export function addStoreOptions(command: Command): Command {
  return command
    .addOption(new Option('-d, --dir <path>', 'the store folder').env('MEMHUB_DIR').default(DEFAULT_STORE_DIR))
    .addOption(new Option('--url <url>', 'a PostgreSQL store instead of a folder (postgres://...)').env('MEMHUB_URL'))
    .addOption(new Option('--schema <name>', 'the PostgreSQL schema of the store (with --url)').env('MEMHUB_SCHEMA'))
    .option('--debug', 'print the stack trace of an unexpected error (or set MEMHUB_DEBUG=1)');
}

/**
 * `--scope`, for the commands on records (remember, recall, list, get, forget, archive, restore,
 * ingest, mcp): openStore's scope, so that several agents share a store without seeing each
 * other's memories.
 */
export function addScopeOption(command: Command): Command {
  return command.addOption(
    new Option('--scope <path>', 'work inside this contextPath: records are written under it, and only its records are seen (paths and keys relative to it)').env('MEMHUB_SCOPE'),
  );
}

/** `--json`, for commands that print data. */
export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as JSON on stdout');
}

/**
 * The store the command line points at. A URL (flag or environment) selects PostgreSQL; the
 * folder then goes along only when `--dir` was typed, so that openStore can refuse the pair
 * rather than the default folder silently winning or losing.
 */
export function storeTarget(command: Command): StoreTarget {
  const options = command.opts<{ dir: string; url?: string; schema?: string; scope?: string }>();
  const dirTyped = command.getOptionValueSource('dir') === 'cli';
  const scope = options.scope === undefined ? {} : { scope: options.scope };
  if (options.url !== undefined) {
    return {
      url: options.url,
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      ...(dirTyped ? { dir: resolve(options.dir) } : {}),
      ...scope,
    };
  }
  if (options.schema !== undefined && command.getOptionValueSource('schema') === 'cli') {
    throw new UsageError('--schema goes with --url (a PostgreSQL store); a store folder has no schema');
  }
  return { dir: resolve(options.dir), ...scope };
}

/** The folder of a folder store, for commands that work on its files (locks, rebuild). */
export function storeFolder(command: Command, commandName: string): string {
  const target = storeTarget(command);
  if (target.url !== undefined || target.dir === undefined) {
    throw new UsageError(`${commandName} works on the files of a store folder (--dir); a PostgreSQL store (--url) has none`);
  }
  return target.dir;
}

/**
 * Fails when the folder holds no store yet, for commands that only read or change what is
 * there: a mistyped `--dir` gets an error, not a new empty store. Uses stat only (DESIGN rule 1).
 */
export function assertStoreExists(target: StoreTarget): void {
  if (target.url !== undefined || target.dir === undefined) return;
  const database = statSync(join(target.dir, 'memory.db'), { throwIfNoEntry: false });
  if (database === undefined) {
    throw new CommandFailedError(`no memhub store in ${target.dir} (no memory.db there); check --dir or MEMHUB_DIR`);
  }
}

/** Store warnings (a checkpoint starved by readers, ...) go to stderr, never to stdout. */
export function stderrLogger(debug: boolean): StoreLogger {
  return {
    warn: (details, message) => {
      process.stderr.write(`memhub: warning: ${message}${debug ? ` ${JSON.stringify(details)}` : ''}\n`);
    },
  };
}

/**
 * Opens the command's store. `mustExist` refuses a folder without a store (read and maintenance
 * commands); writing commands create it, as openStore does. The options go to openStore as they
 * are, `url` and `schema` included: openStore checks them, and a `StoreValidationError` from it
 * is a usage error (exit 2).
 */
export async function openTargetStore(target: StoreTarget, options: { readonly mustExist: boolean; readonly debug?: boolean }): Promise<Store> {
  if (options.mustExist) assertStoreExists(target);
  // Loaded here, not at start-up: --help and --version never load the store (SQLite, its native module).
  const { openStore } = await import('@memhub/store');
  return openStore({ ...target, logger: stderrLogger(options.debug ?? false) });
}
