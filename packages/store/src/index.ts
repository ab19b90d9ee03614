export { openStore } from './open-store.js';
export { Store, type StoreStats, type ImportReport, type ImportRejection, type ImportOptions } from './store.js';
export type { VerifyReport, VerifyProblem, LayerVerifyReport, RepairReport } from './verify-report.js';
export type { StoreOptions } from './store-options.js';
export type { MemoryRecord, RememberedRecord, RecordVersion } from './memory-record.js';
export type { UpdateInput } from './validate-update.js';
export type { LifecycleInput } from './validate-lifecycle.js';
export type { ArchivePolicy, ExpiredAction, MaintainChange, MaintainOptions, MaintainReport } from './lifecycle-policy.js';
export { INPUT_LIMITS } from './input-limits.js';
export type { RememberInput } from './validate-record.js';
export type { RecallQuery } from './validate-recall.js';
export { DEFAULT_RANKING, type RankingOptions, type RecalledRecord, type ScoreParts } from './recall-ranking.js';
export type { ArchiveSelector } from './validate-archive.js';
export type { StoreLogger } from './store-logger.js';
export type { CheckpointStats } from './engine/sqlite/sqlite-checkpointer.js';
export type { HandoverStats } from './engine/sqlite/sqlite-shared-commit.js';
export { MINIMUM_SQLITE_VERSION, type Durability } from './engine/sqlite/sqlite-database.js';
export {
  StoreError,
  StoreValidationError,
  StoreClosedError,
  StoreCompatibilityError,
  StoreDiskFullError,
  StoreAccessError,
  StoreCorruptError,
  StoreIOError,
  StoreConnectionError,
  StoreDependencyError,
  StoreSymlinkError,
  StoreBusyError,
  StoreReplacedError,
  StoreConflictError,
  StoreNotFoundError,
  type BusyHolder,
} from './errors.js';
export {
  rebuildFromMirror,
  StoreRebuildRefusedError,
  type RebuildOptions,
  type RebuildReport,
  type RebuildLayerReport,
  type RebuildSkippedLine,
  type SkippedLineCounts,
  type SkippedLineKind,
} from './engine/sqlite/sqlite-rebuild.js';
export type { MirrorLine } from './mirror/mirror-line.js';
export type { LayerMirrorStats } from './mirror/jsonl-mirror.js';
export type { IndexLookup } from './mirror/layer-index.js';
export { newRecordId } from './record-id.js';
export { checkRememberInput, checkRecallQuery, checkArchiveSelector, checkUpdateInput } from './check-input.js';
