import { Command } from 'commander';
import { withHelp } from '../command-help.js';
import { CommandFailedError } from '../errors.js';
import { printRecord } from '../format.js';
import { Output } from '../output.js';
import { addJsonOption, addScopeOption, addStoreOptions, openTargetStore, storeTarget } from '../store-target.js';

/** `memhub get <id>`: one record, in full. */
export function getCommand(): Command {
  const command = new Command('get').description('show one record, in full').argument('<id>', 'the record id');
  addJsonOption(addScopeOption(addStoreOptions(command)));
  withHelp(command, ['memhub get 0197a0c2-5c3e-7b4d-9a41-2f6de0c1b8aa --json'], 'Exit codes: 0 found, 1 no record with that id, 2 usage error');
  return command.action(async (id: string, options: { json?: boolean; debug?: boolean }, self: Command) => {
    const target = storeTarget(self);
    const store = await openTargetStore(target, { mustExist: true, debug: options.debug === true });
    try {
      const record = await store.get(id);
      if (record === null) throw new CommandFailedError(`no record with id ${id}`);
      const output = new Output({ json: options.json === true });
      if (output.json) output.data(record);
      else printRecord(output, record);
    } finally {
      await store.close();
    }
  });
}
