import type { MemoryRecord, RememberedRecord } from '@memhub/store';

/**
 * A remembered record as get(), recall(), export() and the layer mirror give it back: what
 * remember() resolved with, without `created` (which says what that call did, not what is stored).
 */
export function asStored(remembered: RememberedRecord): MemoryRecord {
  const { created: _created, ...record } = remembered;
  return record;
}
