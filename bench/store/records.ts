import { seededRandom } from '../shared/seeded-random.js';

/**
 * The records the writers write: what an agent typically remembers. About 200 bytes of English
 * content (a few dozen distinct words, so that FTS5 has real tokens to index), two tags and a
 * contextPath, no metadata and no key. Deterministic per writer, so every row writes the same.
 */
export interface BenchRecord {
  readonly content: string;
  readonly tags: readonly [string, string];
  readonly contextPath: string;
}

const WORDS = (
  'the build needs node twenty before deploy and the api gateway times out after thirty seconds when ' +
  'cache keys expire so retry with backoff agent noted that tests fail on windows because paths use ' +
  'backslashes config lives in yaml under the project root users asked for dark mode in settings ' +
  'database migration ran twice last night index on created column speeds the report query memory ' +
  'leak found in worker pool after long runs token refresh happens every hour release branch frozen ' +
  'until friday review comments mention naming consistency logs rotate daily at midnight'
).split(' ');

const TOPICS = ['build', 'deploy', 'api', 'tests', 'database', 'release', 'config', 'perf'] as const;

/** Target content length in UTF-8 bytes (ASCII here, so characters). */
export const CONTENT_BYTES = 200;

/** `count` records for writer number `writer` (0-based) of a row. */
export function makeRecords(writer: number, count: number): BenchRecord[] {
  const next = seededRandom(0x5eed + writer);
  const records: BenchRecord[] = [];
  for (let index = 0; index < count; index += 1) {
    let content = `Note ${writer}-${index}:`;
    while (content.length < CONTENT_BYTES - 12) content += ` ${WORDS[Math.floor(next() * WORDS.length)] ?? ''}`;
    content = `${content.slice(0, CONTENT_BYTES - 1)}.`;
    const topic = TOPICS[Math.floor(next() * TOPICS.length)] ?? 'misc';
    records.push({
      content,
      tags: [topic, `agent-${writer}`],
      contextPath: `/projects/memhub/agent-${writer}/task-${index % 16}`,
    });
  }
  return records;
}
