import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { HolderInfo, LockStatus } from '@memhub/lock';
import { withHelp } from '../command-help.js';
import { Output } from '../output.js';
import { addJsonOption, addStoreOptions, assertStoreExists, storeFolder } from '../store-target.js';
import { layerFiles, LEADER_LOCK_FILE, PRESENCE_LOCK_FILE, SEARCH_LOCK_FILE, WRITE_LOCK_FILE } from '../store-files.js';

/** One lock file of the store and its state, as `memhub locks --json` prints it. */
export interface StoreLockReport extends LockStatus {
  /** The lock file relative to the store folder: `memory.db.lock`, `memory.db.leader.lock`, `memory.db.presence.lock`, `memory.search.db.lock`, `layers/<layer>.jsonl.lock`. */
  readonly file: string;
}

const WATCH_INTERVAL_MS = 1_000;

/** `memhub locks`: who holds the store's locks, read from the kernel's lock table without taking them. */
export function locksCommand(): Command {
  const command = new Command('locks')
    .summary('who holds each lock of the store (--watch: live)')
    .description(
      'each lock file of the store: free or held, in which mode, by whom (pid, host, user, purpose, since); for a free lock, its last holder, and whether it closed the lock or died without closing it',
    )
    .option('-w, --watch', 'redraw every second until Ctrl-C');
  addJsonOption(addStoreOptions(command));
  withHelp(command, ['memhub locks', 'memhub locks --watch', 'memhub locks --json | jq \'.[] | select(.state != "free")\'']);
  return command.action(async (options: { watch?: boolean; json?: boolean }, self: Command) => {
    const dir = storeFolder(self, 'locks');
    assertStoreExists({ dir });
    const output = new Output({ json: options.json === true });
    if (options.watch !== true) {
      const report = await storeLocks(dir);
      if (output.json) output.data(report);
      else printLocks(output, dir, report);
      return;
    }
    await watch(output, dir);
  });
}

/** The state of every lock file of the store: the write lock, the write leader's lease, the presence lock (shared by every open store), the search index's lock, then each layer's. Takes no lock. */
export async function storeLocks(dir: string): Promise<StoreLockReport[]> {
  const { lockStatus } = await import('@memhub/lock');
  const files = [join(dir, WRITE_LOCK_FILE), join(dir, LEADER_LOCK_FILE), join(dir, PRESENCE_LOCK_FILE), join(dir, SEARCH_LOCK_FILE), ...layerFiles(dir).flatMap((layer) => (layer.lockFile === undefined ? [] : [layer.lockFile]))];
  return files.map((path) => ({ file: relative(dir, path), ...lockStatus(path) }));
}

/** Redraws until SIGINT or SIGTERM, which end it with exit code 0. JSON: one line per refresh. */
async function watch(output: Output, dir: string): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      const report = await storeLocks(dir);
      if (output.json) output.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), locks: report })}\n`);
      else {
        // Clear and redraw on a terminal; elsewhere (a file, a pipe) each refresh follows the last.
        if (output.interactive) output.stdout.write('\x1b[H\x1b[2J');
        output.line(output.colors.dim(`${new Date().toISOString()}  every ${WATCH_INTERVAL_MS / 1000} s, Ctrl-C to stop`));
        printLocks(output, dir, report);
        if (!output.interactive) output.line();
      }
      await sleep(WATCH_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printLocks(output: Output, dir: string, report: readonly StoreLockReport[]): void {
  const { green, yellow, dim } = output.colors;
  output.line(`locks of ${dir}`);
  const rows: string[][] = [];
  for (const lock of report) {
    if (lock.holders.length === 0) {
      // The record of the last holder stays in the file after its release: shown dimmed, for who held it last.
      const last = lock.lastHolder;
      rows.push([lock.file, green('free'), ...(last === undefined ? ['', '', '', '', ''] : holderColumns(last).map((column) => dim(column))), lastHolderNote(lock, output)]);
      continue;
    }
    for (const holder of lock.holders) rows.push([lock.file, yellow(lock.state), ...holderColumns(holder), holderNote(holder, dim)]);
  }
  output.table(['lock', 'state', 'pid', 'host', 'user', 'purpose', 'since', ''], rows);
}

/** What became of a free lock's last holder: still running, closed the lock, or died without closing it. */
function lastHolderNote(lock: StoreLockReport, output: Output): string {
  const last = lock.lastHolder;
  if (last === undefined) return '';
  if (lock.staleMetadata) return output.colors.yellow('last holder died without closing it (killed or crashed); the kernel freed it');
  if (last.releasedAt !== undefined) return output.colors.dim(`last holder closed it at ${last.releasedAt}`);
  if (last.alive === true) return output.colors.dim('last holder (still running)');
  return output.colors.dim('last holder (on another host: not checked)');
}

function holderColumns(holder: HolderInfo): string[] {
  const pid = holder.pid === undefined ? '?' : `${holder.pid}${holder.threadId !== undefined && holder.threadId !== 0 ? `/${holder.threadId}` : ''}`;
  return [pid, holder.host ?? '', holder.user ?? '', holder.purpose ?? '', holder.since ?? ''];
}

function holderNote(holder: HolderInfo, dim: (text: string) => string): string {
  if (holder.alive === false) return 'holder process is gone';
  return holder.source === 'kernel' ? dim('(from the kernel lock table; no holder record)') : '';
}
