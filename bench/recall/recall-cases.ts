/**
 * The query cases, each measured on memhub and on the bare database with the same queries.
 * `explain` changes only memhub's call (the bare query has no such option), so the bare side of
 * an explain case is the same query measured again: how far its figures move from the case
 * without explain is the noise of the run.
 */
export type CaseKind = 'text' | 'tags' | 'scope';

export interface RecallCase {
  readonly kind: CaseKind;
  readonly explain: boolean;
}

export const CASE_KINDS: readonly CaseKind[] = ['text', 'tags', 'scope'];

export const RECALL_CASES: readonly RecallCase[] = CASE_KINDS.flatMap((kind) => [
  { kind, explain: false },
  { kind, explain: true },
]);

const KIND_LABELS: Record<CaseKind, string> = {
  text: 'text (1 or 2 words)',
  tags: 'text + 2 tags (all of)',
  scope: 'text + scope (5% of rows)',
};

export function caseLabel(recallCase: RecallCase): string {
  return `${KIND_LABELS[recallCase.kind]}${recallCase.explain ? ', explain' : ''}`;
}

/** How many rows a recall asks for, on both sides: recall's default. */
export const RECALL_LIMIT = 10;

/**
 * The FTS5 query for the words, as memhub builds it (sqlite-recall.ts): each word quoted, so that
 * nothing in it is read as query syntax, and any word may match.
 */
export function matchExpression(words: readonly string[]): string {
  return words.map((word) => `"${word}"`).join(' OR ');
}
