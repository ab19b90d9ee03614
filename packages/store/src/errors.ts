/** Base class of every error `@memhub/store` throws on purpose; callers branch on `code`. */
export class StoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An input field was wrong. `field` names it (`content`, `tags[2]`, `items[3].layer`, ...); nothing was written. */
export class StoreValidationError extends StoreError {
  readonly field: string;
  readonly reason: string;

  constructor(field: string, reason: string) {
    super('ERR_MEMHUB_VALIDATION', `Invalid ${field}: ${reason}`);
    this.field = field;
    this.reason = reason;
  }
}

/**
 * update() with `ifSeq` found the record at another seq: someone updated it first (a
 * compare-and-set that lost). Nothing was written; read the record again and retry if the change
 * still applies. `currentSeq` is the seq the record has now.
 */
export class StoreConflictError extends StoreError {
  readonly id: string;
  readonly expectedSeq: number;
  readonly currentSeq: number;

  constructor(id: string, expectedSeq: number, currentSeq: number) {
    super('ERR_MEMHUB_CONFLICT', `Record ${id} is at seq ${currentSeq}, not ${expectedSeq} (ifSeq): it was updated meanwhile, and nothing was written`);
    this.id = id;
    this.expectedSeq = expectedSeq;
    this.currentSeq = currentSeq;
  }
}

/** No record has this id or key (in the store's scope): update() had nothing to change. */
export class StoreNotFoundError extends StoreError {
  readonly idOrKey: string;

  constructor(idOrKey: string) {
    super('ERR_MEMHUB_NOT_FOUND', `No record has the id or key ${JSON.stringify(idOrKey.slice(0, 200))}: nothing was written`);
    this.idOrKey = idOrKey;
  }
}

/** The store was used after close(). */
export class StoreClosedError extends StoreError {
  constructor(dir: string) {
    super('ERR_MEMHUB_CLOSED', `The store at ${dir} is closed`);
  }
}

/** The store on disk cannot be used by this code: a newer schema, or an SQLite that is too old. */
export class StoreCompatibilityError extends StoreError {
  constructor(message: string) {
    super('ERR_MEMHUB_COMPATIBILITY', message);
  }
}

/** The disk holding the store is full: the change was not made. Free space and retry. */
export class StoreDiskFullError extends StoreError {
  constructor(location: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_DISK_FULL', `The disk holding ${location} is full: the change was not made (free some space and retry)`, options);
  }
}

/** The store's files cannot be written or read by this process (permissions, a read-only filesystem). */
export class StoreAccessError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_ACCESS', message, options);
  }
}

/** memory.db is not a database or is damaged. `memhub verify` tells more; `rebuildFromMirror` recreates it from the layer mirrors. */
export class StoreCorruptError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_CORRUPT', message, options);
  }
}

/** Any other failure of the filesystem or of SQLite's I/O under the store. */
export class StoreIOError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_IO', message, options);
  }
}

/**
 * The PostgreSQL server could not be used: unreachable (refused, unknown host, no answer within
 * the connect timeout), the credentials or the database were refused, or the connection was lost.
 * `host` is where memhub tried to connect (`host:port`), `reason` says what went wrong in a few
 * words; `cause` keeps the driver's own error. The message never holds the password.
 */
export class StoreConnectionError extends StoreError {
  readonly host: string;
  readonly reason: string;

  constructor(host: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_CONNECTION', `Cannot use the PostgreSQL server at ${host}: ${reason}`, options);
    this.host = host;
    this.reason = reason;
  }
}

/**
 * A package that only one engine needs is not installed: `pg` for a store on PostgreSQL. It is an
 * optional peer dependency of @memhub/store, so that a store on SQLite never installs or loads
 * it. `packageName` names the package to add beside @memhub/store.
 */
export class StoreDependencyError extends StoreError {
  readonly packageName: string;

  constructor(packageName: string, neededFor: string, options?: { cause?: unknown }) {
    super('ERR_MEMHUB_MISSING_DEPENDENCY', `${neededFor} needs the package "${packageName}", which is not installed: add it beside @memhub/store (npm install ${packageName})`, options);
    this.packageName = packageName;
  }
}

/**
 * A file under the store's `layers/` folder (a layer's `.jsonl`, `.idx`, `.jsonl.lock` or
 * `.jsonl.quarantine`) is a symbolic link. memhub appends to, truncates and rewrites these files
 * in place: through a link it would write to whatever the link points to, somewhere else. Nothing
 * was written through it. `path` is the link. (The `layers/` folder itself may be a link.)
 */
export class StoreSymlinkError extends StoreError {
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      'ERR_MEMHUB_SYMLINK',
      `${path} is a symbolic link: memhub refuses symlinks in layers/, because appending to or rewriting a layer's file through one writes to the file it points to. ` +
        'Nothing was written through it. Replace it with a plain file, or remove it (a layer file and its index are rebuilt from the database).',
      options,
    );
    this.path = path;
  }
}

/** Who holds a lock that memhub waited for, as far as the kernel and the holder's own record tell. */
export interface BusyHolder {
  readonly pid: number;
  /** The holder's command name (`/proc/<pid>/comm`), when it can be read. */
  readonly command?: string;
  /** What the holder said it was doing (memhub holders write it into the lock file). */
  readonly purpose?: string;
}

/**
 * SQLite's own write lock on memory.db stayed taken for longer than `busyTimeoutMs`: another
 * program writes to the database outside memhub's write lock (a `sqlite3` shell in a transaction,
 * a backup tool, an application of its own), or, for a moment, a memhub process whose lock file
 * was deleted under it. memhub waited without blocking the event loop; nothing of this call was
 * written. `holder` names the process when the kernel's lock table tells.
 */
export class StoreBusyError extends StoreError {
  readonly holder: BusyHolder | undefined;
  readonly waitedMs: number;

  constructor(location: string, action: string, waitedMs: number, holder: BusyHolder | undefined, options?: { cause?: unknown }) {
    const who =
      holder === undefined
        ? 'another program (the kernel did not say which)'
        : `${holder.pid === process.pid ? 'another connection of this process' : `process ${holder.pid}`}${holder.command === undefined ? '' : ` (${holder.command})`}${holder.purpose === undefined ? '' : `, "${holder.purpose}"`}`;
    super(
      'ERR_MEMHUB_BUSY',
      `Cannot ${action}: ${location}/memory.db stayed locked by ${who} for ${Math.round(waitedMs)} ms (busyTimeoutMs); ` +
        'nothing was written. Retry later, or end the transaction that program holds open.',
      options,
    );
    this.holder = holder;
    this.waitedMs = waitedMs;
  }
}

/**
 * The `memory.db` at the store's path is no longer the file this store opened: the folder or the
 * database was deleted, moved or replaced by another program while the store was open. Writing on
 * would go to a file that nobody can reach any more, so this write and every later one fail; close
 * this store and open it again to use what is at the path now.
 */
export class StoreReplacedError extends StoreError {
  constructor(databasePath: string) {
    super(
      'ERR_MEMHUB_REPLACED',
      `${databasePath} was deleted or replaced by another program while this store had it open: nothing more is written ` +
        'through this store object (it would be lost with the old file). Close the store and open it again.',
    );
  }
}
