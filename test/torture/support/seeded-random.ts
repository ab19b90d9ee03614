/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the same sequence, so
 * a test that draws all its random choices from one can be run again with the seed it printed.
 * Not for anything but tests: 32 bits of state, and fast.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1), as Math.random() gives. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A whole number in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** A seed for a generator of its own (another process's), drawn from this one. */
  nextSeed(): number {
    return this.below(4_294_967_296);
  }
}

/** A random 32-bit seed, for a run that was not given one. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 4_294_967_296);
}
