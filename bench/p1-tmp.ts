import { openStore } from '@memhub/store';
import { makeRecords } from './store/records.js';
import { mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
const mirror = process.argv[2] !== 'off';
const dir = mkdtempSync('/tmp/prof/store-');
const store = await openStore({ dir, mirror });
const records = makeRecords(1, 30000);
const warm = makeRecords(2, 3000);
async function run(recs: any[]) {
  let next = 0;
  const lane = async () => { for (let r = recs[next++]; r !== undefined; r = recs[next++]) await store.remember({ content: r.content, tags: r.tags, contextPath: r.contextPath }); };
  await Promise.all(Array.from({ length: 64 }, lane));
}
await run(warm);
const session = new Session(); session.connect();
if (process.env.PROF) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
const t = performance.now();
await run(records);
const ms = performance.now() - t;
if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/prof/m.cpuprofile', JSON.stringify(profile)); }
console.log(mirror ? 'mirror' : 'off', 'rate', Math.round(30000 / ms * 1000));
await store.close();
