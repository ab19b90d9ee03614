import { openStore, type RecalledRecord, type Store } from '@memhub/store';
import { agentScope, type Note } from './corpus.js';
import { SCOPE_AGENTS, type PlannedQuery } from './query-list.js';
import { RECALL_LIMIT, type RecallCase } from './recall-cases.js';

/** Records per rememberMany() call while loading: one write transaction each. */
export const MEMHUB_LOAD_BATCH = 5_000;

/** How long the load took: the writes, then flush() bringing the search index up to date. */
export interface MemhubLoadTimes {
  readonly writeMs: number;
  readonly indexCatchUpMs: number;
}

/**
 * The memhub side: one store object for the whole store (the text and tags cases) and one per
 * agent of SCOPE_AGENTS opened with `scope` (the scope case), all in this process, on one folder.
 */
export class MemhubStores {
  readonly #root: Store;
  readonly #scoped: ReadonlyMap<string, Store>;

  private constructor(root: Store, scoped: ReadonlyMap<string, Store>) {
    this.#root = root;
    this.#scoped = scoped;
  }

  /**
   * Creates the store in `dir` and loads the notes with rememberMany() in batches of
   * MEMHUB_LOAD_BATCH, with the JSONL mirror off (a store-wide setting, so the scoped store
   * objects opened after it keep it off too); then flush(), so that the search index has every
   * record before anything is measured and no recall indexes a tail first. The time spent making
   * the notes is not counted.
   */
  static async load(dir: string, rows: Iterable<Note>): Promise<{ stores: MemhubStores; times: MemhubLoadTimes }> {
    const root = await openStore({ dir, mirror: false });
    try {
      let writeMs = 0;
      let batch: Note[] = [];
      const writeBatch = async () => {
        const started = performance.now();
        await root.rememberMany(batch);
        writeMs += performance.now() - started;
        batch = [];
      };
      for (const note of rows) {
        batch.push(note);
        if (batch.length === MEMHUB_LOAD_BATCH) await writeBatch();
      }
      if (batch.length > 0) await writeBatch();
      const flushStarted = performance.now();
      await root.flush();
      const indexCatchUpMs = performance.now() - flushStarted;
      const scoped = new Map<string, Store>();
      try {
        for (const agent of SCOPE_AGENTS) scoped.set(agent, await openStore({ dir, scope: agentScope(agent) }));
      } catch (error) {
        await Promise.allSettled([...scoped.values()].map((store) => store.close()));
        throw error;
      }
      return { stores: new MemhubStores(root, scoped), times: { writeMs, indexCatchUpMs } };
    } catch (error) {
      await root.close();
      throw error;
    }
  }

  /**
   * One recall as an agent would call it, with `count: false` so that no case changes the recall
   * counts the next one ranks by (and no recall-count write runs during the measurements).
   */
  recall(recallCase: RecallCase, query: PlannedQuery): Promise<RecalledRecord[]> {
    const common = { query: query.words.join(' '), limit: RECALL_LIMIT, count: false, explain: recallCase.explain };
    switch (recallCase.kind) {
      case 'text':
        return this.#root.recall(common);
      case 'tags':
        return this.#root.recall({ ...common, tags: [...query.tags] });
      case 'scope':
        return (this.#scoped.get(query.agent) as Store).recall(common);
    }
  }

  /** The records the store holds, as its stats say. */
  async records(): Promise<number> {
    return (await this.#root.stats()).records;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#scoped.values()].map((store) => store.close()));
    await this.#root.close();
  }
}
