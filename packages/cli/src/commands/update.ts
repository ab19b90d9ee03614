import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import type { UpdateInput } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { UsageError } from '../errors.js';
import { printRecord } from '../format.js';
import { Output } from '../output.js';
import { collect, integerParser, parseDuration, parseInstant, parseJsonObject } from '../parse-values.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface UpdateOptions {
  readonly stdin?: boolean;
  readonly tag?: string[];
  readonly clearTags?: boolean;
  readonly contextPath?: string;
  readonly layer?: string;
  readonly metadata?: Record<string, unknown>;
  readonly pin?: boolean;
  readonly unpin?: boolean;
  readonly ttl?: number;
  readonly expiresAt?: string;
  readonly expiry?: boolean;
  readonly ifSeq?: number;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** `memhub update <id-or-key> [content]`: writes a new version of a record (its earlier ones stay in its history). */
export function updateCommand(): Command {
  const command = new Command('update')
    .description('write a new version of a record: the fields given change, the others stay (memhub history lists every version)')
    .argument('<id-or-key>', 'the record id, or its idempotency key')
    .argument('[content]', 'the new text (or --stdin); omit it to keep the text')
    .option('--stdin', 'read the new content from stdin (one trailing newline is dropped)')
    .option('-t, --tag <tag>', 'the new tags, replacing the old ones (repeat for more)', collect)
    .option('--clear-tags', 'remove every tag')
    .option('-c, --context-path <path>', 'the new context path')
    .option('-l, --layer <name>', 'the new layer')
    .option('-m, --metadata <json>', 'the new metadata, a JSON object (replaces the old one)', parseJsonObject)
    .option('--pin', 'pin it: first in recall, never archived by a policy')
    .option('--unpin', 'unpin it')
    .option('--ttl <duration>', 'it expires this long from now (30m, 12h, 7d, 2w)', parseDuration)
    .option('--expires-at <time>', 'it expires at this time (ISO 8601 or epoch ms)', parseInstant)
    .option('--no-expiry', 'it never expires')
    .option('--if-seq <seq>', 'write only if the record is still at this seq (compare-and-set); exit 4 if it is not', integerParser(1));
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(
    command,
    [
      'memhub update 0197a0c2-5c3e-7b4d-9a41-2f6de0c1b8aa "Deploys run on Mondays now"',
      'memhub update deploy-day --tag deploy --tag schedule --if-seq 1842',
    ],
    'Exit codes: 0 updated, 1 no record with that id or key, 2 usage error, 4 --if-seq: the record was updated meanwhile (nothing written)',
  );
  return command.action(async (idOrKey: string, content: string | undefined, options: UpdateOptions, self: Command) => {
    const target = storeTarget(self);
    if (content !== undefined && options.stdin === true) throw new UsageError('give the content as an argument or with --stdin, not both');
    if (options.tag !== undefined && options.clearTags === true) throw new UsageError('give --tag or --clear-tags, not both');
    if (options.pin === true && options.unpin === true) throw new UsageError('give --pin or --unpin, not both');
    const expiries = [options.ttl !== undefined, options.expiresAt !== undefined, options.expiry === false].filter(Boolean).length;
    if (expiries > 1) throw new UsageError('give one of --ttl, --expires-at and --no-expiry');
    const changes: UpdateInput = {
      ...(content === undefined && options.stdin !== true ? {} : { content: content ?? (await text(process.stdin)).replace(/\r?\n$/, '') }),
      ...(options.tag === undefined ? {} : { tags: options.tag }),
      ...(options.clearTags === true ? { tags: [] } : {}),
      ...(options.contextPath === undefined ? {} : { contextPath: options.contextPath }),
      ...(options.layer === undefined ? {} : { layer: options.layer }),
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      ...(options.pin === true ? { pinned: true } : {}),
      ...(options.unpin === true ? { pinned: false } : {}),
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
      ...(options.expiry === false ? { expiresAt: null } : {}),
      ...(options.ifSeq === undefined ? {} : { ifSeq: options.ifSeq }),
    };
    // Checked before the store is opened (exit 2, nothing written).
    const { checkUpdateInput } = await import('@memhub/store');
    checkUpdateInput(idOrKey, changes);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const record = await store.update(idOrKey, changes);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(record);
      else printRecord(output, record);
    } finally {
      await store.close();
    }
  });
}
