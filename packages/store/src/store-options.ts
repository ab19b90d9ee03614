import { DEFAULT_STARVATION_MS, MAX_STARVATION_MS } from '@memhub/lock';
import type { Durability } from './engine/sqlite/sqlite-database.js';
import { StoreValidationError } from './errors.js';
import { silentLogger, type StoreLogger } from './store-logger.js';
import { validateLayer, type RecordLimits } from './validate-record.js';
import { resolveStoreTarget, type StoreTarget } from './store-target.js';
import { INPUT_LIMITS } from './input-limits.js';
import { StoreScope } from './store-scope.js';
import { validateRanking, type Ranking, type RankingOptions } from './recall-ranking.js';
import { validateArchivePolicy, validateExpiredAction, type ArchivePolicy, type ExpiredAction, type ValidArchivePolicy } from './lifecycle-policy.js';

/** Options of openStore(); each has a default that suits most users. */
export interface StoreOptions {
  /** The store's folder, created if missing (the embedded SQLite engine). Give `dir` or `url`, not both. */
  readonly dir?: string;
  /**
   * A PostgreSQL server for the store, instead of a folder: `postgres://user:password@host:port/database`.
   * Several hosts can then share one store. The database must exist; the schema is created.
   */
  readonly url?: string;
  /** PostgreSQL: the schema that holds the store's tables (an identifier: a-z, 0-9, _). Default `memhub`. */
  readonly schema?: string;
  /** `'normal'` (default): WAL + synchronous=NORMAL. `'full'`: the WAL is synced on every commit. */
  readonly durability?: Durability;
  /**
   * How long a call waits, without blocking the event loop, while SQLite's own write lock is taken
   * by someone outside memhub's write lock (a `sqlite3` shell in a transaction, another program),
   * before StoreBusyError. Default 5000; at most 2^31-1.
   */
  readonly busyTimeoutMs?: number;
  /** How long a write waits for the store's write lock before failing with LockTimeoutError. Default 30000; at most 2^31-1. */
  readonly lockTimeoutMs?: number;
  /**
   * Bounded unfairness of the store's write lock (SQLite): a write that finds the lock free takes
   * it, even while other processes wait, unless one of them has waited this much longer (ms);
   * then it steps aside and the longest waiter gets the lock. Higher: fewer idle hand-offs, longer
   * slowest waits; 0: the longest waiter always goes first. From 0 to 60000; default 20.
   */
  readonly lockStarvationMs?: number;
  /** Largest `content`, in UTF-8 bytes: a whole number, at most 64 MiB. Default 1 MiB. */
  readonly maxContentBytes?: number;
  /** Open on a network or FUSE filesystem anyway (see @memhub/lock). Default false. */
  readonly allowUnsafeFilesystem?: boolean;
  /** Recall counts are written at least this often (ms). Default 1000. */
  readonly recallFlushIntervalMs?: number;
  /** ...and as soon as this many increments wait. Default 1000. */
  readonly recallFlushPending?: number;
  /** Past this WAL size, the writer runs a TRUNCATE checkpoint under the write lock. Default 64 MiB. */
  readonly walCheckpointBytes?: number;
  /** Receives warnings (checkpoint starvation, recall counts not written yet). pino-compatible. */
  readonly logger?: StoreLogger;
  /**
   * The JSONL mirror of each layer in `<dir>/layers/`: `true` (every layer), `false` (none), or
   * `{ layers: [...] }` (only those). A store-wide setting: given here it changes the store for
   * every process (a layer that starts being mirrored gets its file built from its records).
   * Default: the store's current setting; a new store mirrors every layer.
   */
  readonly mirror?: boolean | { readonly layers: readonly string[] };
  /**
   * A contextPath this store object works inside (`'/agents/alice'`): every record it remembers is
   * stored under it, and recall, get, forget, archive and restore see only the records there.
   * Paths and idempotency keys given and returned are relative to it, as if it were the root.
   * export, import, verify, repair and stats are about the whole store. Default `/`: no scope.
   */
  readonly scope?: string;
  /**
   * How recall ranks hits found by words: text relevance, recency (a half-life) and usage (recall
   * counts, capped), each with a weight (see RankingOptions for the defaults).
   */
  readonly ranking?: RankingOptions;
  /**
   * What maintain() archives besides expired records: `application` records, not pinned, that meet
   * every criterion given (`{ olderThan: '90d', recallCountBelow: 3 }`). Default: none.
   */
  readonly archivePolicy?: ArchivePolicy;
  /** What maintain() does with expired records: `'archive'` (default) or `'forget'`. */
  readonly expired?: ExpiredAction;
  /**
   * Run maintain() in the background this often (ms), in batches of at most 500 records a write
   * transaction, so that it never holds the write lock long. Default: never (call maintain()).
   */
  readonly maintainEveryMs?: number;
  /** PostgreSQL: how long connecting may take before StoreConnectionError. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** PostgreSQL: the longest any one statement may run (the server's statement_timeout); the wait for the write lock is bounded by lockTimeoutMs instead. Default 60000. */
  readonly statementTimeoutMs?: number;
  /** PostgreSQL: connections this store object keeps at most (one writes at a time; the others serve reads). Default 10. */
  readonly maxConnections?: number;
}

/** The options with their defaults applied, checked, and frozen: a folder (`dir`) or a PostgreSQL server (`postgres`). */
export type ResolvedStoreOptions = CommonStoreOptions & StoreTarget;

/** The resolved options that every engine has. */
interface CommonStoreOptions {
  readonly durability: Durability;
  readonly busyTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly lockStarvationMs: number;
  readonly limits: RecordLimits;
  readonly allowUnsafeFilesystem: boolean;
  readonly recallFlushIntervalMs: number;
  readonly recallFlushPending: number;
  readonly walCheckpointBytes: number;
  readonly logger: StoreLogger;
  /** The mirror setting as stored: '*', 'off' or a JSON array of layer names; undefined to keep the store's. */
  readonly mirror: string | undefined;
  readonly scope: StoreScope;
  readonly ranking: Ranking;
  readonly archivePolicy: ValidArchivePolicy | undefined;
  readonly expired: ExpiredAction;
  readonly maintainEveryMs: number | undefined;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONTENT_BYTES = INPUT_LIMITS.defaultMaxContentBytes;
const DEFAULT_RECALL_FLUSH_INTERVAL_MS = 1_000;
const DEFAULT_RECALL_FLUSH_PENDING = 1_000;
const DEFAULT_WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** The longest wait Node's timers take (2^31-1 ms); see milliseconds(). */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * The largest maxContentBytes: a record's content goes into one JSON mirror line, where a control
 * character takes 6 bytes (\u0000), and V8 cannot build a string of more than 2^29-24 characters.
 */
export const MAX_CONTENT_BYTES_LIMIT = 64 * 1024 * 1024;

const KNOWN_OPTIONS = new Set<string>([
  'dir',
  'durability',
  'busyTimeoutMs',
  'lockTimeoutMs',
  'lockStarvationMs',
  'maxContentBytes',
  'allowUnsafeFilesystem',
  'recallFlushIntervalMs',
  'recallFlushPending',
  'walCheckpointBytes',
  'logger',
  'mirror',
  'scope',
  'ranking',
  'archivePolicy',
  'expired',
  'maintainEveryMs',
  'url',
  'schema',
  'connectTimeoutMs',
  'statementTimeoutMs',
  'maxConnections',
] satisfies (keyof StoreOptions)[]);

/** Checks every option (StoreValidationError naming it) before anything is opened or created. */
export function resolveStoreOptions(options: unknown): ResolvedStoreOptions {
  if (typeof options !== 'object' || options === null) throw new StoreValidationError('options', 'expected an object');
  const given = options as Partial<Record<keyof StoreOptions, unknown>>;
  for (const name of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(name)) throw new StoreValidationError(name, 'is not an option of openStore');
  }
  const target = resolveStoreTarget(given);
  const durability = given.durability ?? 'normal';
  if (durability !== 'normal' && durability !== 'full') {
    throw new StoreValidationError('durability', `expected 'normal' or 'full', got ${String(durability)}`);
  }
  const logger = (given.logger ?? silentLogger) as StoreLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new StoreValidationError('logger', 'expected an object with a warn(details, message) method');
  }
  const allowUnsafeFilesystem = given.allowUnsafeFilesystem ?? false;
  if (typeof allowUnsafeFilesystem !== 'boolean') throw new StoreValidationError('allowUnsafeFilesystem', 'expected a boolean');
  return Object.freeze({
    ...target,
    durability,
    busyTimeoutMs: milliseconds(given.busyTimeoutMs, DEFAULT_BUSY_TIMEOUT_MS, 'busyTimeoutMs'),
    lockTimeoutMs: milliseconds(given.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS, 'lockTimeoutMs'),
    lockStarvationMs: starvationThreshold(given.lockStarvationMs),
    limits: Object.freeze({ maxContentBytes: wholeNumber(given.maxContentBytes, DEFAULT_MAX_CONTENT_BYTES, 'maxContentBytes', MAX_CONTENT_BYTES_LIMIT) }),
    allowUnsafeFilesystem,
    recallFlushIntervalMs: milliseconds(given.recallFlushIntervalMs, DEFAULT_RECALL_FLUSH_INTERVAL_MS, 'recallFlushIntervalMs'),
    recallFlushPending: wholeNumber(given.recallFlushPending, DEFAULT_RECALL_FLUSH_PENDING, 'recallFlushPending', MAX_TIMER_MS),
    walCheckpointBytes: wholeNumber(given.walCheckpointBytes, DEFAULT_WAL_CHECKPOINT_BYTES, 'walCheckpointBytes', Number.MAX_SAFE_INTEGER),
    logger,
    mirror: mirrorSetting(given.mirror),
    scope: new StoreScope(given.scope),
    ranking: validateRanking(given.ranking),
    archivePolicy: validateArchivePolicy(given.archivePolicy, 'archivePolicy'),
    expired: validateExpiredAction(given.expired, 'expired'),
    maintainEveryMs: given.maintainEveryMs === undefined ? undefined : milliseconds(given.maintainEveryMs, 0, 'maintainEveryMs'),
  });
}

function mirrorSetting(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === true) return '*';
  if (value === false) return 'off';
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray((value as { layers?: unknown }).layers)) {
    throw new StoreValidationError('mirror', 'expected true, false or { layers: [layer names] }');
  }
  const layers = (value as { layers: unknown[] }).layers.map((layer, index) => validateLayer(layer, `mirror.layers[${index}]`));
  return JSON.stringify([...new Set(layers)].sort());
}

/**
 * A duration that Node's timers can wait: setTimeout takes at most 2^31-1 ms, and a longer one
 * fires after 1 ms instead (with only a warning); SQLite's busy_timeout read a larger value as 0.
 */
function milliseconds(value: unknown, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new StoreValidationError(field, `expected a number of milliseconds above 0 and at most ${MAX_TIMER_MS} (about 24.8 days), got ${String(value)}`);
  }
  return value;
}

function starvationThreshold(value: unknown): number {
  if (value === undefined) return DEFAULT_STARVATION_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_STARVATION_MS) {
    throw new StoreValidationError('lockStarvationMs', `expected a number of milliseconds from 0 to ${MAX_STARVATION_MS}, got ${String(value)}`);
  }
  return value;
}

function wholeNumber(value: unknown, fallback: number, field: string, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new StoreValidationError(field, `expected a whole number from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}
