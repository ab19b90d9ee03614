import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe } from 'vitest';
import { openStore } from '@memhub/store';
import { cliTestWithTempFolder, recordCount, runMemhub } from './support/memhub-process.js';

/** What a bad command must leave alone: the record count, every file name, and the mirror's size. */
async function storeState(dir: string): Promise<{ records: number; files: string[]; mirrorBytes: number }> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => !/^memory\.db-(wal|shm)$/.test(name)).sort();
  return { records: await recordCount(dir), files, mirrorBytes: statSync(join(dir, 'layers', 'application.jsonl')).size };
}

/** Each test's own folder, holding a store of one record in `store/`. */
const test = cliTestWithTempFolder('memhub-cli-bad-').extend<{ store: string }>({
  store: async ({ temp }, use) => {
    const dir = temp.file('store');
    const store = await openStore({ dir });
    await store.remember({ content: 'already here', tags: ['x'] });
    await store.close();
    await use(dir);
  },
});

// Each command is a process of its own in a folder of its own: the tests run concurrently.
describe.concurrent('bad arguments: exit code 2, one clear line naming the problem, nothing written', { timeout: 180_000 }, () => {
  test.for<[string, string[], RegExp, string?]>([
    ['a layer name that is a path', ['remember', 'x', '--layer', '../x'], /^memhub: Invalid layer: "\.\.\/x" is not a layer name/],
    ['an unknown layer name form (upper case)', ['remember', 'x', '--layer', 'Archive'], /^memhub: Invalid layer: "Archive" is not a layer name/],
    ['empty content', ['remember', ''], /^memhub: Invalid content: is empty$/m],
    ['blank content from stdin', ['remember', '--stdin'], /^memhub: Invalid content: is empty$/m, '  \n'],
    ['no content at all', ['remember', '--tag', 'x'], /^memhub: give the content to remember as an argument, or with --stdin$/m],
    ['content twice', ['remember', 'x', '--stdin'], /^memhub: give the content as an argument or with --stdin, not both$/m, 'y'],
    ['a relative context path', ['remember', 'x', '--context-path', 'projects/api'], /^memhub: Invalid contextPath: "projects\/api" is not absolute/],
    ['metadata that is not JSON', ['remember', 'x', '--metadata', '{source:1}'], /^memhub: option '-m, --metadata <json>' argument '\{source:1\}' is invalid\. not JSON/],
    ['metadata that is not an object', ['remember', 'x', '--metadata', '[1]'], /expected a JSON object/],
    ['an unknown option', ['remember', 'x', '--colour', 'red'], /^memhub: unknown option '--colour'$/m],
    ['an unknown command', ['rememebr', 'x'], /^memhub: unknown command 'rememebr'/m],
    ['a layer name that is a path, in recall', ['recall', '--layer', '../x'], /^memhub: Invalid layer: "\.\.\/x" is not a layer name/],
    ['a limit that is not a number', ['recall', '--limit', 'ten'], /argument 'ten' is invalid\. expected a whole number from 1 to 1000/],
    ['a limit out of range', ['recall', '--limit', '5000'], /expected a whole number from 1 to 1000/],
    ['a time that does not parse', ['recall', '--since', 'last tuesday'], /argument 'last tuesday' is invalid\. expected an ISO 8601 time/],
    ['two archive criteria', ['archive', '--older-than', '1d', '--recall-count-below', '2'], /^memhub: archive takes exactly one of --ids, --older-than, --recall-count-below$/m],
    ['no archive criterion', ['archive'], /^memhub: archive takes exactly one of/m],
    ['a missing file to import', ['import', 'no-such-file.ndjson'], /^memhub: no such file: no-such-file\.ndjson$/m],
    ['a missing file to ingest', ['ingest', 'no-such-file.jsonl'], /^memhub: no such file: no-such-file\.jsonl$/m],
    ['a folder to ingest', ['ingest', '.'], /^memhub: not a file: \.$/m],
    ['zero ingest workers', ['ingest', '-', '--workers', '0'], /argument '0' is invalid\. expected a whole number from 1 to 64/],
    ['a rejects file in a missing folder', ['ingest', '-', '--rejects', '/no/such/folder/rejects.jsonl'], /^memhub: --rejects: the folder of \/no\/such\/folder\/rejects\.jsonl does not exist$/m],
    ['export to stdout with --json', ['export', '-', '--json'], /^memhub: export - writes the records to stdout/m],
    ['a URL that is not a PostgreSQL one', ['remember', 'x', '--url', 'mysql://memhub@localhost/memhub'], /^memhub: Invalid url: /m],
    ['a folder and a URL at once', ['remember', 'x', '--dir', '/tmp/x', '--url', 'postgres://memhub@localhost/memhub'], /^memhub: Invalid url: cannot be given with dir/m],
    ['--schema without --url', ['recall', '--schema', 'memhub'], /^memhub: --schema goes with --url/m],
    ['locks of a PostgreSQL store', ['locks', '--url', 'postgres://memhub@localhost/memhub'], /^memhub: locks works on the files of a store folder/m],
  ])('%s', async ([, args, message, input], { store: dir, expect }) => {
    const before = await storeState(dir);
    const run = await runMemhub([...args, '--dir', dir], input === undefined ? {} : { input });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    // One message, never a stack trace.
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(await storeState(dir)).toEqual(before);
  });

  test('a bad layer name never becomes a path: no file appears outside the store, or anywhere in it', async ({ temp, store, expect }) => {
    const run = await runMemhub(['remember', 'x', '--layer', '../escaped', '--dir', store]);
    expect(run.code).toBe(2);
    expect(readdirSync(temp.path)).toEqual([basename(store)]);
    expect(readdirSync(join(store, 'layers')).some((name) => name.includes('escaped'))).toBe(false);
  });

  test('bad input to remember creates no store: the folder that did not exist still does not', async ({ temp, store, expect }) => {
    for (const args of [['', '--dir', temp.file('new-store')], ['x', '--layer', '../x', '--dir', temp.file('new-store')]]) {
      const run = await runMemhub(['remember', ...args]);
      expect(run.code).toBe(2);
      expect(readdirSync(temp.path)).toEqual([basename(store)]);
    }
  });
});

describe.concurrent('failures: exit code 1, one clear line', { timeout: 180_000 }, () => {
  test('a store folder without a store, for a command that reads', async ({ temp, expect }) => {
    const commands = [['recall'], ['stats'], ['verify'], ['locks'], ['get', 'some-id']];
    const runs = await Promise.all(commands.map((command) => runMemhub([...command, '--dir', temp.file('nothing-here')])));
    runs.forEach((run, index) => {
      expect(run.code, commands[index]!.join(' ')).toBe(1);
      expect(run.stderr).toBe(`memhub: no memhub store in ${temp.file('nothing-here')} (no memory.db there); check --dir or MEMHUB_DIR\n`);
    });
  });

  test('an unexpected error prints one line, and its stack only with --debug', async ({ store, expect }) => {
    // /proc exists, but no file can be created in it: the export fails when it opens its file.
    const target = '/proc/memhub-export-test.ndjson';
    const plain = await runMemhub(['export', target, '--dir', store]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^memhub: .*memhub-export-test\.ndjson.*\nmemhub: \(run with --debug or MEMHUB_DEBUG=1 for the stack trace\)\n$/);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    const debug = await runMemhub(['export', target, '--dir', store, '--debug']);
    expect(debug.code).toBe(1);
    // The stack (an fs error's has no frames of JavaScript) instead of the hint.
    expect(debug.stderr).toMatch(/^Error: ENOENT: .*memhub-export-test\.ndjson/m);
    expect(debug.stderr).not.toContain('run with --debug');
  });
});
