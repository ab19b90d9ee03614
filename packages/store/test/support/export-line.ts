import { newRecordId } from '../../src/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * An export line (import()'s input) of a record written `daysAgo` days ago and recalled
 * `recallCount` times, with `extra` fields (pinned, expiresAt, layer, ...): how a test makes old
 * or much-recalled records that no remember() can. Returns its id and its text, `\n` included.
 */
export function exportLine(content: string, daysAgo: number, recallCount: number, extra: Record<string, unknown> = {}): { id: string; text: string } {
  const id = newRecordId();
  const record = {
    v: 1,
    id,
    content,
    tags: [],
    contextPath: '/',
    layer: 'application',
    createdAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
    recallCount,
    metadata: {},
    key: null,
    ...extra,
  };
  return { id, text: `${JSON.stringify(record)}\n` };
}
