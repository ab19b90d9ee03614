import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CommandFailedError } from '../errors.js';
import { formatTime, oneLine } from '../format.js';
import { Output } from '../output.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** Width of the content column off a terminal. */
const CONTENT_WIDTH = 80;

/** `memhub history <id-or-key>`: every version of a record, oldest first. */
export function historyCommand(): Command {
  const command = new Command('history')
    .description('list every version of a record, oldest first (the last is the record as it is now)')
    .argument('<id-or-key>', 'the record id, or its idempotency key');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub history deploy-day', 'memhub history 0197a0c2-5c3e-7b4d-9a41-2f6de0c1b8aa --json'], 'Exit codes: 0 found, 1 no record with that id or key, 2 usage error');
  return command.action(async (idOrKey: string, options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const versions = await store.history(idOrKey);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(versions);
      if (versions.length === 0) throw new CommandFailedError(`no record with id or key ${idOrKey}`);
      if (output.json) return;
      const contentWidth = output.width === undefined ? CONTENT_WIDTH : Math.max(20, output.width - 60);
      output.table(
        ['seq', 'written', 'layer', 'tags', 'content'],
        versions.map((version) => [String(version.seq), formatTime(version.at), version.layer, version.tags.join(','), oneLine(version.content, contentWidth)]),
        ['right', 'left', 'left', 'left', 'left'],
      );
    } finally {
      await store.close();
    }
  });
}
