import { Slots } from '../shared/slots.ts';

export interface EventBacklogOptions {
  /** Writes whose events may be on their way at once, to begin with. */
  initial?: number;
  /** The fewest the limit goes down to (the broker answers, only slowly). */
  min?: number;
  /** The most it goes up to. */
  max?: number;
  /** A publish that takes longer than this says the broker is not keeping up. */
  targetMs?: number;
  /** How long a write waits for room before it is refused. */
  maxWaitMs?: number;
}

/**
 * The writes of this process whose events are not out yet, kept to what the
 * broker takes: a write takes a slot before it starts and gives it back once
 * its events are published (or failed, left to the sweep), so the API accepts
 * writes no faster than their events leave, and the backlog cannot keep
 * growing behind a slower broker (pubsub.in-memory delivers one event at a
 * time, and a publish waits for the delivery before it).
 *
 * The limit adapts to the publish latency (additive increase, multiplicative
 * decrease, as TCP does): every publish slower than `targetMs` cuts it by a
 * tenth (at most once per `targetMs`), every faster one while half the slots
 * are taken raises it by one. A broker that keeps up never meets the limit; a
 * slow one holds the queue in front of it to about `targetMs`, which bounds
 * the time from a write's answer to its event's delivery. A broker that is
 * down fails fast, and the writes go on, their events left to the sweep.
 */
export class EventBacklog {
  readonly #slots: Slots;
  readonly #min: number;
  readonly #max: number;
  readonly #targetMs: number;
  readonly #maxWaitMs: number;
  #limit: number;
  #lastCut = Number.NEGATIVE_INFINITY;

  constructor({
    initial = 64,
    min = 4,
    max = 256,
    targetMs = 50,
    maxWaitMs = 2000,
  }: EventBacklogOptions = {}) {
    this.#min = min;
    this.#max = max;
    this.#targetMs = targetMs;
    this.#maxWaitMs = maxWaitMs;
    this.#limit = initial;
    this.#slots = new Slots(initial);
  }

  /** The current limit on writes whose events are not out yet. */
  get limit(): number {
    return this.#slots.limit;
  }

  /** Writes now holding a slot. */
  get taken(): number {
    return this.#slots.taken;
  }

  /** Waits for room for one more write; resolves with the release to call once its events are out, or undefined in time for none. */
  async enter(): Promise<(() => void) | undefined> {
    if ((await this.#slots.take(this.#maxWaitMs)) !== undefined) return undefined;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#slots.release();
    };
  }

  /** One publish took `ms`: the limit follows. */
  observe(ms: number, now = Date.now()): void {
    if (ms > this.#targetMs) {
      if (now - this.#lastCut < this.#targetMs) return;
      this.#lastCut = now;
      this.#limit = Math.max(this.#min, this.#limit * 0.9);
    } else if (this.#slots.taken >= this.#slots.limit / 2) {
      this.#limit = Math.min(this.#max, this.#limit + 1);
    } else return;
    this.#slots.limit = Math.floor(this.#limit);
  }
}
