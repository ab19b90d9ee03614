import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MemoryRecord } from '@memhub/store';
import { cleanEnvironment, memhubJson, useTempFolder } from './support/memhub-process.js';

const run = promisify(execFile);
const temp = useTempFolder('memhub-cli-built-');
const PACKAGE = fileURLToPath(new URL('../', import.meta.url));

describe('the memhub bin as a user installs it: built JavaScript, plain node', { timeout: 180_000 }, () => {
  it('the bin package.json names (a launcher of dist/bin.js) runs without TypeScript or the source condition', async () => {
    const manifest = JSON.parse(readFileSync(`${PACKAGE}package.json`, 'utf8')) as { bin: Record<string, string> };
    const bin = `${PACKAGE}${manifest.bin['memhub']!.replace(/^\.\//, '')}`;
    expect(existsSync(bin), 'run the build (pnpm test does) before this test').toBe(true);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);

    const env = cleanEnvironment({ MEMHUB_DIR: temp.file('store') });
    const remembered = await run(process.execPath, [bin, 'remember', 'from the built bin', '--tag', 'built', '--json'], { env });
    const record = JSON.parse(remembered.stdout) as MemoryRecord;
    const recalled = await run(process.execPath, [bin, 'recall', '--tag', 'built', '--json'], { env });
    expect((JSON.parse(recalled.stdout) as MemoryRecord[]).map((found) => found.id)).toEqual([record.id]);
    const version = await run(process.execPath, [bin, '--version'], { env });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(`${PACKAGE}package.json`, 'utf8')) as { version: string }).version);
  });

  // Every other CLI test runs the built bin (test/support/build-packages-global-setup.ts builds it
  // first); `pnpm memhub` and the examples run the sources through tsx, and this keeps that way of
  // starting it tested too.
  it('from the TypeScript sources through tsx, as `pnpm memhub` runs it, the same commands work', async () => {
    const env = { MEMHUB_DIR: temp.file('store') };
    const record = await memhubJson<MemoryRecord>(['remember', 'from the sources', '--tag', 'sources'], { env, fromSources: true });
    const recalled = await memhubJson<MemoryRecord[]>(['recall', '--tag', 'sources'], { env, fromSources: true });
    expect(recalled.map((found) => found.id)).toEqual([record.id]);
  });
});
