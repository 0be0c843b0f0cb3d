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
  /** A write still holding its slot after this long says the broker is away, not slow. */
  holdMs?: number;
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
 * the time from a write's answer to its event's delivery.
 *
 * A broker that is away is another matter: that is what the outbox is for.
 * A failed publish, or a write holding its slot for `holdMs` with no publish
 * answered in that time, lifts the limit until a publish succeeds again: the
 * writes go on and their events wait in their records for the broker (and
 * the sweep), as they would without this. A write held that long while other
 * publishes are answered says the broker is slow, not away: its slot is
 * given back and the limit stays (on pubsub.in-memory a publish waits for
 * its delivery, and on a loaded machine one can take over a second; taken
 * for the broker away, the limit flapped off and on and bounded nothing).
 */
export class EventBacklog {
  readonly #slots: Slots;
  readonly #min: number;
  readonly #max: number;
  readonly #targetMs: number;
  readonly #maxWaitMs: number;
  readonly #holdMs: number;
  #limit: number;
  #lastCut = Number.NEGATIVE_INFINITY;
  /** When a publish last succeeded (Date.now()). */
  #lastAnswer = Number.NEGATIVE_INFINITY;
  #away = false;

  constructor({
    initial = 64,
    min = 4,
    max = 256,
    targetMs = 50,
    maxWaitMs = 2000,
    holdMs = 1000,
  }: EventBacklogOptions = {}) {
    this.#min = min;
    this.#max = max;
    this.#targetMs = targetMs;
    this.#maxWaitMs = maxWaitMs;
    this.#holdMs = holdMs;
    this.#limit = initial;
    this.#slots = new Slots(initial);
  }

  /** The current limit on writes whose events are not out yet (Infinity while the broker is away). */
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
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(held);
      this.#slots.release();
    };
    const held = setTimeout(() => {
      if (Date.now() - this.#lastAnswer >= this.#holdMs) this.#setAway(true);
      release();
    }, this.#holdMs);
    return release;
  }

  /** One publish took `ms` and succeeded (`ok`) or failed: the limit follows. */
  observe(ms: number, ok = true, now = Date.now()): void {
    this.#setAway(!ok);
    if (!ok) return;
    this.#lastAnswer = now;
    if (ms > this.#targetMs) {
      if (now - this.#lastCut < this.#targetMs) return;
      this.#lastCut = now;
      this.#limit = Math.max(this.#min, this.#limit * 0.9);
    } else if (this.#slots.taken >= this.#slots.limit / 2) {
      this.#limit = Math.min(this.#max, this.#limit + 1);
    } else return;
    this.#slots.limit = Math.floor(this.#limit);
  }

  #setAway(away: boolean): void {
    if (away === this.#away) return;
    this.#away = away;
    this.#slots.limit = away ? Number.POSITIVE_INFINITY : Math.floor(this.#limit);
  }
}
