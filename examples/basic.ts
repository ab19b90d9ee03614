// The store in a dozen lines: open, remember, recall, close.
//
//   pnpm --filter @memhub/examples basic            (from the repository root)
//
// Opens a store in .memhub/basic-demo (in the folder where you run it), remembers three notes,
// recalls them by words and by tag, and closes the store, which writes the recall counts.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStore } from '@memhub/store';

// pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
const dir = resolve(process.env['INIT_CWD'] ?? process.cwd(), '.memhub', 'basic-demo');
rmSync(dir, { recursive: true, force: true });

const store = await openStore({ dir });
try {
  await store.remember({ content: 'The deploy needs Node 20 and a warm cache', tags: ['deploy'], contextPath: '/projects/api' });
  await store.remember({ content: 'Staging resets every night at 02:00 UTC', tags: ['staging'], contextPath: '/projects/api' });
  // A key makes remembering idempotent: the second call returns the first record and writes nothing.
  const first = await store.remember({ content: 'Use pnpm, not npm, in this repository', tags: ['tooling'], key: 'tooling-pnpm' });
  const again = await store.remember({ content: 'Use pnpm, not npm, in this repository', tags: ['tooling'], key: 'tooling-pnpm' });

  const byWords = await store.recall({ query: 'deploy node', limit: 5 });
  const byTag = await store.recall({ tags: ['staging'] });
  const underApi = await store.recall({ contextPath: '/projects/api' });

  console.log(`store: ${store.location}`);
  console.log(`recall "deploy node":     ${byWords.map((record) => record.content).join(' | ')}`);
  console.log(`recall tag staging:       ${byTag.map((record) => record.content).join(' | ')}`);
  console.log(`recall under /projects/api: ${underApi.length} records`);
  console.log(`same key twice, one record: ${first.id === again.id}`);
  const { records } = await store.stats();
  console.log(`records in the store: ${records}`);
  if (records !== 3 || byWords.length !== 1 || byTag.length !== 1 || underApi.length !== 2 || first.id !== again.id) {
    console.log('FAIL: the store does not hold what was remembered');
    process.exitCode = 1;
  } else {
    console.log('OK');
  }
} finally {
  await store.close();
}
