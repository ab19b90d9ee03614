import { AGENTS, TAGS } from './corpus.js';
import { pick, seededRandom } from '../shared/seeded-random.js';
import type { Vocabulary } from './vocabulary.js';

/**
 * One query of the list every case runs: its words, and the filters the tags and scope cases add.
 * Each case uses what it needs (the text case only the words), so the cases differ by their
 * filter, never by their words.
 */
export interface PlannedQuery {
  /** One word for even positions, two for odd ones: what an agent types is short. */
  readonly words: readonly string[];
  /** Two distinct tags, for the all-of tags case. */
  readonly tags: readonly [string, string];
  /** The agent whose scope the scope case searches, one of SCOPE_AGENTS. */
  readonly agent: string;
}

/**
 * The agents whose scoped stores the scope case recalls through: a few, not all twenty, since each
 * is a store object of its own (its own connections); together they still spread the queries
 * over different rows.
 */
export const SCOPE_AGENTS: readonly string[] = [AGENTS[0], AGENTS[5], AGENTS[10], AGENTS[15]];

/** Seeds of the two lists: the measured queries, and the warm-up's, which are other words. */
export const MEASURED_SEED = 0x9e7a11;
export const WARMUP_SEED = 0x3a7e0f;

export function planQueries(vocabulary: Vocabulary, count: number, seed: number): PlannedQuery[] {
  const next = seededRandom(seed);
  const queries: PlannedQuery[] = [];
  for (let index = 0; index < count; index += 1) {
    const words = [vocabulary.queryWord(next)];
    if (index % 2 === 1) {
      let second = vocabulary.queryWord(next);
      while (second === words[0]) second = vocabulary.queryWord(next);
      words.push(second);
    }
    const first = pick(TAGS, next);
    let second: string = pick(TAGS, next);
    while (second === first) second = pick(TAGS, next);
    queries.push({ words, tags: [first, second], agent: pick(SCOPE_AGENTS, next) });
  }
  return queries;
}
