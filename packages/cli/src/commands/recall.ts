import { Command } from 'commander';
import type { RecallQuery } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { printRecords } from '../format.js';
import { Output } from '../output.js';
import { collect, integerParser, parseJsonObject, parseTime } from '../parse-values.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** The filters `recall` and `list` share. */
export interface RecallFilterOptions {
  readonly tag?: string[];
  readonly anyTag?: string[];
  readonly metadata?: Record<string, unknown>;
  readonly contextPath?: string;
  readonly layer?: string;
  readonly pinned?: boolean;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
}

interface RecallOptions extends RecallFilterOptions {
  /** commander's `--no-count`: false when given. */
  readonly count: boolean;
  readonly explain?: boolean;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** Adds the filters of `recall` and `list` to a command. */
export function addRecallFilters(command: Command): Command {
  return command
    .option('-t, --tag <tag>', 'only records with this tag (repeat: all of them)', collect)
    .option('--any-tag <tag>', 'only records with at least one of these tags (repeat)', collect)
    .option('-m, --metadata <json>', 'only records whose metadata has these top-level keys with these values: \'{"source":"runbook"}\'', parseJsonObject)
    .option('-c, --context-path <path>', 'only records at this path or below it')
    .option('-l, --layer <name>', 'only this layer')
    .option('--pinned', 'only pinned records (without it, pinned records come first)')
    .option('--since <time>', 'created at or after: ISO time, epoch ms, or an age such as 7d', (value: string) => parseTime(value))
    .option('--until <time>', 'created before (same forms as --since)', (value: string) => parseTime(value))
    .option('-n, --limit <n>', 'at most this many records (1 to 1000)', integerParser(1, 1000), 10);
}

/** The store's recall query from the filter options (and the words, for recall). */
export function recallQueryOf(options: RecallFilterOptions, query?: string): RecallQuery {
  return {
    ...(query === undefined ? {} : { query }),
    ...(options.tag === undefined ? {} : { tags: options.tag }),
    ...(options.anyTag === undefined ? {} : { anyTags: options.anyTag }),
    // The store checks each value (a string, number, boolean or null) and names a bad one.
    ...(options.metadata === undefined ? {} : { metadata: options.metadata as NonNullable<RecallQuery['metadata']> }),
    ...(options.contextPath === undefined ? {} : { contextPath: options.contextPath }),
    ...(options.layer === undefined ? {} : { layer: options.layer }),
    ...(options.pinned === true ? { pinned: true } : {}),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
}

/** `memhub recall [query]`: finds memories by words, tags, context path, layer and time. */
export function recallCommand(): Command {
  const command = new Command('recall')
    .summary('find memories by words, tags, context path, layer and time')
    .description('find memories: by words (best match first), tags, context path, layer and time (newest first without words); each one found counts a recall')
    .argument('[query]', 'words to search for: any of them, English forms match (deploy finds deploys), depl* is a prefix');
  addRecallFilters(command)
    .option('--no-count', 'do not count this recall in the records\' recall counts')
    .option('--explain', 'give each record the parts of its score: text relevance, recency, usage, pin (in --json, "explain")');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, [`memhub recall "deploy node" --tag deploy --context-path /projects --limit 5`, `memhub recall --since 1d --json | jq -r '.[].content'`]);
  return command.action(async (query: string | undefined, options: RecallOptions, self: Command) => {
    const target = storeTarget(self);
    const filters: RecallQuery = { ...recallQueryOf(options, query), ...(options.count ? {} : { count: false }), ...(options.explain === true ? { explain: true } : {}) };
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const records = await store.recall(filters);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(records);
      else {
        printRecords(output, records);
        if (options.explain === true && records.length > 0) {
          output.line('');
          const figure = (value: number) => value.toFixed(3);
          output.table(
            ['id', 'score', 'text', 'recency', 'usage', 'pin'],
            records.map((record) => [
              record.id,
              figure(record.score),
              figure(record.explain?.text ?? 0),
              figure(record.explain?.recency ?? 0),
              figure(record.explain?.usage ?? 0),
              figure(record.explain?.pin ?? 0),
            ]),
            ['left', 'right', 'right', 'right', 'right', 'right'],
          );
        }
      }
    } finally {
      // close() writes this recall's counts.
      await store.close();
    }
  });
}
