import { StoreValidationError } from './errors.js';
import type { MemoryRecord } from './memory-record.js';

/**
 * How recall ranks what it finds: text relevance, recency and usage, each a part of the score with
 * a weight. Given to openStore({ ranking }); each field has a default.
 */
export interface RankingOptions {
  /** Weight of text relevance (the engine's bm25 or ts_rank, as a share of the best hit's). Default 1. */
  readonly textWeight?: number;
  /** Weight of recency: 1 for a record made now, halving every `recencyHalfLifeDays`. Default 0.25. */
  readonly recencyWeight?: number;
  /** Days after which a record's recency has halved. Default 30. */
  readonly recencyHalfLifeDays?: number;
  /** Weight of usage: recall counts, as a share of `usageCap`. Default 0.15. */
  readonly usageWeight?: number;
  /**
   * Recall counts above this count no more: a memory recalled a thousand times is as "used" as
   * one recalled this often, so popularity cannot bury a relevant new memory. Default 20.
   */
  readonly usageCap?: number;
  /**
   * Weight of being pinned: added to a pinned record's score. The default, 2, is more than the
   * other parts can add up to with their defaults, so pinned records come first; lower it to let
   * text relevance win over a pin.
   */
  readonly pinWeight?: number;
}

export type Ranking = Required<RankingOptions>;

export const DEFAULT_RANKING: Ranking = Object.freeze({
  textWeight: 1,
  recencyWeight: 0.25,
  recencyHalfLifeDays: 30,
  usageWeight: 0.15,
  usageCap: 20,
  pinWeight: 2,
});

/** The parts of a hit's score, each already weighted: score = text + recency + usage + pin. */
export interface ScoreParts {
  readonly text: number;
  readonly recency: number;
  readonly usage: number;
  readonly pin: number;
}

/** A record recall found, with its score (higher is better) and, with `explain: true`, the parts of it. */
export interface RecalledRecord extends MemoryRecord {
  readonly score: number;
  /** Found by words: the part of the content where they are, each between « and » (see recall-snippet.ts). */
  readonly snippet?: string;
  readonly explain?: ScoreParts;
}

/**
 * What ranking reads of a record the query found: an engine gives these for every candidate and
 * reads whole records only for those chosen (see StoreEngine.recall).
 */
export interface RecallCandidate {
  readonly seq: number;
  readonly pinned: boolean;
  /** When the current version was written (updatedAt, else createdAt), epoch milliseconds. */
  readonly writtenAt: number;
  readonly recallCount: number;
  /** Text relevance (higher is better) when the query has words. */
  readonly relevance: number | undefined;
}

/** A candidate with its score and the parts of it. */
export interface ScoredCandidate {
  readonly seq: number;
  readonly candidate: RecallCandidate;
  readonly parts: ScoreParts;
  readonly score: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function validateRanking(value: unknown): Ranking {
  if (value === undefined) return DEFAULT_RANKING;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreValidationError('ranking', 'expected an object of weights');
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!(name in DEFAULT_RANKING)) throw new StoreValidationError(`ranking.${name}`, 'is not a ranking option');
  }
  const number = (name: keyof Ranking, positive: boolean): number => {
    const field = given[name];
    if (field === undefined) return DEFAULT_RANKING[name];
    if (typeof field !== 'number' || !Number.isFinite(field) || field < 0 || (positive && field === 0)) {
      throw new StoreValidationError(`ranking.${name}`, `expected a finite number ${positive ? 'above' : 'of'} 0${positive ? '' : ' or more'}`);
    }
    return field;
  };
  return Object.freeze({
    textWeight: number('textWeight', false),
    recencyWeight: number('recencyWeight', false),
    recencyHalfLifeDays: number('recencyHalfLifeDays', true),
    usageWeight: number('usageWeight', false),
    usageCap: number('usageCap', true),
    pinWeight: number('pinWeight', false),
  });
}

/**
 * Scores the candidates and orders them: with words, by score, best first (ties: newest first);
 * without words, as the engine listed them: pinned first, then newest first (the score is still
 * given). Text relevance is each candidate's share of the best relevance among them, so the text
 * part is 0 to textWeight whatever the engine's scale. `pendingRecalls` gives the recalls of a
 * seq counted in this process and not yet written.
 */
export function rankCandidates(candidates: readonly RecallCandidate[], ranking: Ranking, now: number, pendingRecalls: (seq: number) => number): ScoredCandidate[] {
  const best = Math.max(0, ...candidates.map((candidate) => candidate.relevance ?? 0));
  const scored = candidates.map((candidate) => {
    // An updated record is as new as its current version.
    const ageDays = Math.max(0, now - candidate.writtenAt) / DAY_MS;
    const recallCount = candidate.recallCount + pendingRecalls(candidate.seq);
    const parts: ScoreParts = {
      text: candidate.relevance === undefined || best === 0 ? 0 : ranking.textWeight * (candidate.relevance / best),
      recency: ranking.recencyWeight * 0.5 ** (ageDays / ranking.recencyHalfLifeDays),
      usage: ranking.usageWeight * (Math.min(recallCount, ranking.usageCap) / ranking.usageCap),
      pin: candidate.pinned ? ranking.pinWeight : 0,
    };
    return { seq: candidate.seq, candidate, parts, score: parts.text + parts.recency + parts.usage + parts.pin };
  });
  if (candidates.some((candidate) => candidate.relevance !== undefined)) scored.sort((a, b) => b.score - a.score || b.seq - a.seq);
  return scored;
}
