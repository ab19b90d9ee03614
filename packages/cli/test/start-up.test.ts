import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cleanEnvironment, MEMHUB_BIN, useTempFolder } from './support/memhub-process.js';

const run = promisify(execFile);
const temp = useTempFolder('memhub-cli-start-up-');

/**
 * What only a command that opens a store, locks a file, serves MCP, prints a table or a progress
 * bar needs: never loaded to print help or the version.
 */
const HEAVY = ['@memhub/store', '@memhub/lock', 'better-sqlite3', 'koffi', 'pg', 'kysely', '@modelcontextprotocol/sdk', 'zod', 'cli-table3', 'cli-progress'];

/** A module hook that notes every bare package a process imports (its first path segment or scope/name). */
const HOOK = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':')) {
    const parts = specifier.split('/');
    appendFileSync(process.env.MEMHUB_TEST_IMPORTS, (specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]) + '\\n');
  }
  return next(specifier, context);
}
`;

/**
 * The hook sees import; a package loaded with require() (createRequire, for a lazy synchronous
 * load) passes by it. Whatever way it came, a CommonJS module is in require's cache: at exit, the
 * package of each one is noted too.
 */
const NOTE_REQUIRED = `
import { createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const names = Object.keys(cache).map((file) => /.*node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file)?.[1]).filter(Boolean);
  appendFileSync(process.env.MEMHUB_TEST_IMPORTS, names.map((name) => name + '\\n').join(''));
});
`;

/** Runs the built bin with the hook and returns the packages it imported or required. */
async function packagesImportedBy(args: readonly string[], name: string): Promise<{ packages: Set<string>; stdout: string }> {
  const hook = temp.file('imports-hook.mjs');
  const register = temp.file('register-imports-hook.mjs');
  if (!existsSync(register)) {
    writeFileSync(hook, HOOK);
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n${NOTE_REQUIRED}`);
  }
  const log = temp.file(`${name}.imports`);
  writeFileSync(log, '');
  const { stdout } = await run(process.execPath, ['--import', register, MEMHUB_BIN, ...args], {
    env: cleanEnvironment({ MEMHUB_TEST_IMPORTS: log, MEMHUB_DIR: temp.file('store') }),
  });
  return { packages: new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean)), stdout };
}

describe('help and the version answer without loading the store', { timeout: 60_000 }, () => {
  it('--version, --help and a command\'s --help import no store, lock, database driver or MCP SDK', async () => {
    for (const [name, args] of [['help', ['--help']], ['remember-help', ['remember', '--help']], ['mcp-help', ['mcp', '--help']]] as const) {
      const { packages, stdout } = await packagesImportedBy(args, name);
      expect(stdout.length, name).toBeGreaterThan(0);
      // The hook saw the CLI's own imports: a hook that saw nothing would pass for the wrong reason.
      expect(packages.has('commander'), `${name}: ${[...packages].join(', ')}`).toBe(true);
      expect(HEAVY.filter((heavy) => packages.has(heavy)), name).toEqual([]);
    }
    // --version alone is answered before the command line is loaded: no package at all, not even commander.
    for (const flag of ['--version', '-V']) {
      const version = await packagesImportedBy([flag], `version${flag}`);
      expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
      expect([...version.packages], flag).toEqual([]);
    }
    // The controls: a command that opens a store imports it; one that prints a table, cli-table3.
    const { packages } = await packagesImportedBy(['remember', 'the control opens a store', '--json'], 'remember');
    expect(packages.has('@memhub/store')).toBe(true);
    expect((await packagesImportedBy(['stats'], 'stats')).packages.has('cli-table3')).toBe(true);
  });
});
