import { pick, seededRandom } from '../shared/seeded-random.js';
import { Vocabulary } from './vocabulary.js';

/**
 * The notes both sides hold: what an agent remembers, 200 to 400 bytes of sentences in the
 * vocabulary's words, two or three tags from a small set, and a contextPath
 * `/agents/<agent>/<topic>`. Generated again, identically, for each side from the same seed,
 * so that memhub and the bare database hold the same rows in the same order without a million
 * notes ever being held in memory at once.
 */
export interface Note {
  readonly content: string;
  readonly tags: readonly string[];
  readonly contextPath: string;
}

/** 20 agents, so that one agent's scope holds about 5% of the notes. */
export const AGENTS = [
  'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy',
  'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yolanda',
] as const;

const TOPICS = ['planning', 'code', 'review', 'ops', 'research', 'support', 'incidents', 'notes'] as const;

/** Each note has two or three of these, so that one tag is on about a quarter of the notes and a given pair on about 4%. */
export const TAGS = ['build', 'deploy', 'api', 'tests', 'database', 'release', 'config', 'perf', 'security', 'docs'] as const;

export const CONTENT_BYTES = { min: 200, max: 400 } as const;

const CORPUS_SEED = 0xc0f1e5;

/** The scope of an agent: the contextPath its notes are under. */
export function agentScope(agent: string): string {
  return `/agents/${agent}`;
}

/** The first `count` notes of the corpus, one at a time. */
export function* notes(vocabulary: Vocabulary, count: number): Generator<Note> {
  const next = seededRandom(CORPUS_SEED);
  for (let index = 0; index < count; index += 1) {
    const length = CONTENT_BYTES.min + Math.floor(next() * (CONTENT_BYTES.max - CONTENT_BYTES.min + 1));
    let content = '';
    while (content.length < length) {
      // A sentence of 6 to 16 words, capitalised, ending in a full stop.
      const words = 6 + Math.floor(next() * 11);
      let sentence = '';
      for (let word = 0; word < words; word += 1) sentence += (word === 0 ? '' : ' ') + vocabulary.draw(next);
      content += `${content === '' ? '' : ' '}${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
    }
    // Cut at the last word that fits, so that no note is longer than the maximum.
    if (content.length > CONTENT_BYTES.max) content = `${content.slice(0, content.lastIndexOf(' ', CONTENT_BYTES.max - 1))}.`;
    const tags = new Set<string>();
    const tagCount = 2 + Math.floor(next() * 2);
    while (tags.size < tagCount) tags.add(pick(TAGS, next));
    yield { content, tags: [...tags], contextPath: `${agentScope(pick(AGENTS, next))}/${pick(TOPICS, next)}` };
  }
}
