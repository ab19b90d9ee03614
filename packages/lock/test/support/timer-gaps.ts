import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/**
 * The control that latency tests compare with: how late a short interval timer runs, in this
 * process and in an idle sibling process, over the same window of time.
 *
 * A test that measures a delay (an event-loop gap while waiting for a lock, a wait for a fair
 * turn, a hand-off) cannot compare it with a constant: on a loaded machine every delay grows, and
 * a test that passes alone fails beside two busy loops. But a loaded machine delays every timer
 * alike: a process that is not waiting for anything sees the same gaps. So each such test measures
 * these gaps in the same window and allows a generous multiple of them, and a regression that
 * blocks for far longer than the machine's own hiccups (a blocking flock, a busy handler that
 * blocks for seconds, a waiter left to a slow poll) still fails on any machine.
 */

/** The ticks of an interval timer of TICK_MS over one window. */
export interface TimerGaps {
  /** The longest time between two ticks (or from the last tick to the end of the window). */
  readonly maxGapMs: number;
  readonly ticks: number;
  readonly windowMs: number;
}

/** One window, measured here and in the sibling process. */
export interface GapWindow {
  /** In this process: the test's own. */
  readonly here: TimerGaps;
  /** In a sibling process that does nothing else: the machine's. */
  readonly sibling: TimerGaps;
}

export const TICK_MS = 5;

/** Counts ticks and the longest gap between them; `take()` ends a window and starts the next. */
class TickRecorder {
  #windowStart = performance.now();
  #last = this.#windowStart;
  #maxGap = 0;
  #ticks = 0;

  tick(): void {
    const now = performance.now();
    this.#maxGap = Math.max(this.#maxGap, now - this.#last);
    this.#last = now;
    this.#ticks += 1;
  }

  take(): TimerGaps {
    const now = performance.now();
    const gaps = { maxGapMs: Math.max(this.#maxGap, now - this.#last), ticks: this.#ticks, windowMs: now - this.#windowStart };
    this.#windowStart = now;
    this.#last = now;
    this.#maxGap = 0;
    this.#ticks = 0;
    return gaps;
  }
}

// The sibling is plain JavaScript (no tsx to load), written out rather than taken from
// TickRecorder's compiled text, which depends on the transpiler: the same recorder, and a line on
// stdin answered with the window as JSON on stdout. It exits when its stdin closes.
const SIBLING_SOURCE = `
let windowStart = performance.now();
let last = windowStart;
let maxGap = 0;
let ticks = 0;
setInterval(() => {
  const now = performance.now();
  maxGap = Math.max(maxGap, now - last);
  last = now;
  ticks += 1;
}, ${TICK_MS});
require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
  const now = performance.now();
  process.stdout.write(JSON.stringify({ maxGapMs: Math.max(maxGap, now - last), ticks, windowMs: now - windowStart }) + '\\n');
  windowStart = now;
  last = now;
  maxGap = 0;
  ticks = 0;
}).on('close', () => process.exit(0));
process.stdout.write('ready\\n');
`;

/**
 * Measures timer gaps here and in a sibling process, window after window, from `start()` until
 * disposed (`await using gauge = await TimerGapGauge.start()`).
 */
export class TimerGapGauge implements AsyncDisposable {
  readonly #here = new TickRecorder();
  readonly #timer: NodeJS.Timeout;
  readonly #sibling: ChildProcess;
  readonly #answers: ((line: string) => void)[] = [];

  private constructor(sibling: ChildProcess) {
    this.#sibling = sibling;
    this.#timer = setInterval(() => this.#here.tick(), TICK_MS);
    createInterface({ input: sibling.stdout! }).on('line', (line) => this.#answers.shift()?.(line));
  }

  /** Starts the sibling and the timer here; the first window starts when the sibling is ready. */
  static async start(): Promise<TimerGapGauge> {
    const sibling = spawn(process.execPath, ['-e', SIBLING_SOURCE], { stdio: ['pipe', 'pipe', 'inherit'] });
    const gauge = new TimerGapGauge(sibling);
    const ready = new Promise<string>((resolve) => gauge.#answers.push(resolve));
    await Promise.race([ready, once(sibling, 'exit').then(() => Promise.reject(new Error('the timer-gap sibling process exited')))]);
    await gauge.take();
    return gauge;
  }

  /** Ends the current window (returning its gaps here and in the sibling) and starts the next. */
  async take(): Promise<GapWindow> {
    const answer = new Promise<string>((resolve) => this.#answers.push(resolve));
    this.#sibling.stdin!.write('take\n');
    const here = this.#here.take();
    return { here, sibling: JSON.parse(await answer) as TimerGaps };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.#timer);
    this.#sibling.stdin!.end();
    if (this.#sibling.exitCode === null && this.#sibling.signalCode === null) await once(this.#sibling, 'exit');
  }
}

/**
 * The longest timer gap among `gaps`, and never less than a tick: the scheduling delay of the
 * machine in those windows, which a measured delay is allowed a multiple of.
 */
export function longestGap(...gaps: readonly TimerGaps[]): number {
  return Math.max(TICK_MS, ...gaps.map((gap) => gap.maxGapMs));
}

/** Describes windows for an assertion's message: what the control was when a test failed. */
export function describeGaps(named: Record<string, TimerGaps>): string {
  return Object.entries(named)
    .map(([name, gap]) => `${name}: longest gap ${gap.maxGapMs.toFixed(1)} ms, ${gap.ticks} ticks in ${gap.windowMs.toFixed(0)} ms`)
    .join('; ');
}
