import { describe, expect, it } from 'vitest';
import { decodeHandedBatch, encodeHandedBatch, type HandedBatch } from '../src/engine/sqlite/handed-batch.js';

/** What crosses the leader's socket: the batch as JSON text, parsed on the other side. */
function overTheWire(batch: HandedBatch): HandedBatch | Error {
  return decodeHandedBatch(JSON.parse(JSON.stringify(encodeHandedBatch(batch))));
}

describe('a batch handed to the write leader', () => {
  it('comes out as it went in, for every kind of operation', () => {
    const batch: HandedBatch = {
      id: 'batch-1',
      pid: 42,
      operations: [
        { kind: 'remember', input: { content: 'c', tags: ['t'], contextPath: '/', layer: 'application', metadataJson: '{}', key: null, pinned: true, expiresAt: 99 } },
        { kind: 'forget', id: 'r1' },
        { kind: 'forget', id: 'r1', within: '/agents/a' },
        { kind: 'update', target: 'r4', key: 'r4', changes: { content: 'new', tags: [], metadataJson: '{"a":1}' }, ifSeq: 9, at: 12, within: '/agents/a' },
        { kind: 'update', target: 'k', key: 'k', changes: { layer: 'archive', pinned: false, expiresAt: null }, at: 13 },
        { kind: 'maintain', now: 14, expired: 'forget', policy: { olderThanMs: 5, recallCountBelow: 2 }, limit: 500, within: '/a' },
        { kind: 'archive', selector: { ids: ['r2'] } },
        { kind: 'restore', ids: ['r2', 'r3'] },
        { kind: 'add-recall-counts', increments: new Map([[7, 2]]) },
      ],
      prepared: [{ id: 'new-id', createdAt: 5, createdAtIso: '1970-01-01T00:00:00.005Z', tagsJson: '["t"]', recordTail: undefined }, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined],
    };
    expect(overTheWire(batch)).toEqual(batch);
  });

  it('an update without its target or time is refused, not applied', () => {
    const encoded = encodeHandedBatch({
      id: 'b',
      pid: 1,
      operations: [{ kind: 'update', target: 'x', key: 'x', changes: { content: 'c' }, at: 1 }],
      prepared: [undefined],
    }) as { operations: { at?: unknown }[] };
    encoded.operations[0]!.at = '1';
    expect(decodeHandedBatch(encoded)).toBeInstanceOf(Error);
  });

  it('a restore without its ids is refused, not applied', () => {
    const encoded = encodeHandedBatch({ id: 'b', pid: 1, operations: [{ kind: 'restore', ids: ['x'] }], prepared: [undefined] }) as { operations: { ids?: unknown }[] };
    encoded.operations[0]!.ids = 'x';
    expect(decodeHandedBatch(encoded)).toBeInstanceOf(Error);
  });
});
