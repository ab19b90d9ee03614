export { openStore, Store, type StoreOptions, type StoreStats } from './store.js';
export type { MemoryRecord } from './memory-record.js';
export type { RememberInput } from './validate-record.js';
export type { RecallQuery } from './validate-recall.js';
export type { ArchiveSelector } from './validate-archive.js';
export type { StoreLogger } from './store-logger.js';
export type { CheckpointStats } from './engine/sqlite/sqlite-writer.js';
export { MINIMUM_SQLITE_VERSION, type Durability } from './engine/sqlite/sqlite-database.js';
export { StoreError, StoreValidationError, StoreClosedError, StoreCompatibilityError } from './errors.js';
