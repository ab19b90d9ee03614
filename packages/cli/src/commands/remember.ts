import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import type { RememberInput } from '@memhub/store';
import { withHelp } from '../command-help.js';
import { UsageError } from '../errors.js';
import { Output } from '../output.js';
import { collect, parseDuration, parseInstant, parseJsonObject } from '../parse-values.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

interface RememberOptions {
  readonly stdin?: boolean;
  readonly tag?: string[];
  readonly contextPath?: string;
  readonly layer?: string;
  readonly key?: string;
  readonly metadata?: Record<string, unknown>;
  readonly pin?: boolean;
  readonly ttl?: number;
  readonly expiresAt?: string;
  readonly json?: boolean;
  readonly debug?: boolean;
}

/** `memhub remember <content>`: stores one memory and prints it, or the record its key already named. */
export function rememberCommand(): Command {
  const command = new Command('remember')
    .description('store one memory')
    .argument('[content]', 'the text to remember (or --stdin)')
    .option('--stdin', 'read the content from stdin (one trailing newline is dropped)')
    .option('-t, --tag <tag>', 'a tag (repeat for more)', collect)
    .option('-c, --context-path <path>', 'where it belongs, an absolute path such as /projects/api (default /)')
    .option('-l, --layer <name>', 'the layer (default application)')
    .option('-k, --key <key>', 'idempotency key: remembering the same key again writes nothing and says so')
    .option('-m, --metadata <json>', 'a JSON object stored with it', parseJsonObject)
    .option('--pin', 'pin it: first in recall, never archived by a policy')
    .option('--ttl <duration>', 'it expires after this long (30m, 12h, 7d, 2w): not recalled after, archived by memhub maintain', parseDuration)
    .option('--expires-at <time>', 'it expires at this time (ISO 8601 or epoch ms)', parseInstant);
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, [
    `memhub remember "The deploy needs Node 20" --tag deploy --context-path /projects/api`,
    `git log -1 --format=%B | memhub remember --stdin --tag commit --key "$(git rev-parse HEAD)"`,
  ]);
  return command.action(async (content: string | undefined, options: RememberOptions, self: Command) => {
    const target = storeTarget(self);
    if (content !== undefined && options.stdin === true) throw new UsageError('give the content as an argument or with --stdin, not both');
    if (content === undefined && options.stdin !== true) throw new UsageError('give the content to remember as an argument, or with --stdin');
    const input: RememberInput = {
      content: content ?? (await text(process.stdin)).replace(/\r?\n$/, ''),
      ...(options.tag === undefined ? {} : { tags: options.tag }),
      ...(options.contextPath === undefined ? {} : { contextPath: options.contextPath }),
      ...(options.layer === undefined ? {} : { layer: options.layer }),
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      ...(options.pin === true ? { pinned: true } : {}),
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    };
    // Checked before the store is opened, so that a bad field creates no store either (exit 2).
    const { checkRememberInput } = await import('@memhub/store');
    checkRememberInput(input);
    const store = await openTargetStore(target, { mustExist: false, debug: options.debug === true });
    try {
      const record = await store.remember(input);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(record);
      else if (record.created) output.line(`remembered ${record.id} ${output.colors.dim(`(layer ${record.layer}, seq ${record.seq})`)}`);
      // The key was in the store: the record stands as it was first remembered, whatever this content.
      else output.line(`already remembered as ${record.id}; nothing written ${output.colors.dim(`(key ${JSON.stringify(record.key)}, layer ${record.layer}, seq ${record.seq})`)}`);
    } finally {
      await store.close();
    }
  });
}
