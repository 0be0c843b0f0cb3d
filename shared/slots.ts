/** Why no slot was given: none free and no room to wait, or none freed in time. */
export type Refusal = 'full' | 'waited';

/**
 * Counted slots, first come first served: a taker gets one at once while
 * fewer than `limit` are taken and nobody waits, else waits (at most
 * `maxQueued` at a time, each at most the time it gives) until a release or
 * a higher limit frees one. The limit may change at any time; a lower one
 * takes nothing back, it only stops handing slots out until enough are freed.
 */
export class Slots {
  #limit: number;
  readonly #maxQueued: number;
  #taken = 0;
  /** Waiting takers, oldest first. */
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number, maxQueued = Number.POSITIVE_INFINITY) {
    this.#limit = limit;
    this.#maxQueued = maxQueued;
  }

  get limit(): number {
    return this.#limit;
  }

  set limit(limit: number) {
    this.#limit = limit;
    this.#handOut();
  }

  get taken(): number {
    return this.#taken;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** A slot (undefined), at once or after waiting at most `maxWaitMs`, or why there is none. */
  take(maxWaitMs: number): Promise<Refusal | undefined> | Refusal | undefined {
    if (this.#taken < this.#limit && this.#waiting.length === 0) {
      this.#taken += 1;
      return undefined;
    }
    if (this.#waiting.length >= this.#maxQueued || maxWaitMs <= 0) return 'full';
    return new Promise((resolve) => {
      const given = () => {
        clearTimeout(timer);
        resolve(undefined);
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(given), 1);
        resolve('waited');
      }, maxWaitMs);
      this.#waiting.push(given);
    });
  }

  /** Gives a slot back: to the oldest waiting taker, if the limit allows. */
  release(): void {
    this.#taken -= 1;
    this.#handOut();
  }

  #handOut(): void {
    while (this.#taken < this.#limit && this.#waiting.length > 0) {
      this.#taken += 1;
      this.#waiting.shift()?.();
    }
  }
}
