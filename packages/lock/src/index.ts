export { FileLock, openLock, DEFAULT_TIMEOUT_MS, type AcquireOptions, type OpenLockOptions } from './file-lock.js';
export { DEFAULT_STARVATION_MS, MAX_STARVATION_MS } from './lock-file.js';
export { LockHandle } from './lock-handle.js';
export { lockStatus, lockMetrics } from './inspect.js';
export { kernelLockHolders, type KernelLock } from './kernel-locks.js';
export type { LockStatus } from './lock-status.js';
export type { HolderInfo, HolderMetadata } from './holder-metadata.js';
export type { LockMetricsSnapshot, DurationSummary } from './lock-metrics.js';
export { classifyFilesystemType, assertSafeFilesystemType, type FilesystemKind } from './filesystem-kind.js';
export {
  LockError,
  LockArgumentError,
  LockTimeoutError,
  LockAbortedError,
  LockUpgradeError,
  LockDeadlockError,
  LockClosedError,
  LockSystemError,
  UnsafeFilesystemError,
  UnsupportedPlatformError,
  type LockModeName,
} from './errors.js';
