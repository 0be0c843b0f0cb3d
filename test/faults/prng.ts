/**
 * A small seeded PRNG (mulberry32): the same seed gives the same load plan
 * and the same fault points, so a failing run can be replayed with its seed.
 */
export class Random {
  readonly seed: number;
  #state: number;

  constructor(seed: number) {
    this.seed = seed;
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/** A fresh seed for a run that was not given one: printed, so it can be given next time. */
export const newSeed = () => Math.floor(Math.random() * 2 ** 31);

/** A seed from FAULT_SEED (or the variable `name`), or undefined when it is unset; anything else but a whole number is an error. */
export function seedFromEnv(value = process.env.FAULT_SEED, name = 'FAULT_SEED'): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seed = Number(value);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`${name}=${value} is not a whole number`);
  return seed;
}
