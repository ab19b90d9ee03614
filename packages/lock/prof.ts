import { openLock } from '@memhub/lock';
import { createHistogram } from 'node:perf_hooks';
import fs from 'node:fs';
const N = 300000; const l2 = openLock('/tmp/exp/smoke3.lock');
let t = performance.now(); for (let i = 0; i < N; i++) l2.acquireSync().release(); console.log('sync ns/op', ((performance.now() - t) * 1e6 / N).toFixed(0));
const h = createHistogram();
t = performance.now(); for (let i = 0; i < N; i++) h.record(1000 + i); console.log('hist record ns', ((performance.now() - t) * 1e6 / N).toFixed(0));
t = performance.now(); for (let i = 0; i < N; i++) fs.statSync('/tmp/exp/smoke3.lock', {throwIfNoEntry:false}); console.log('stat ns', ((performance.now() - t) * 1e6 / N).toFixed(0));
