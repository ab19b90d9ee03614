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
