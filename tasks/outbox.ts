import { z } from 'zod';
import type { DaprGateway } from '../shared/dapr.ts';
import type { Logger } from '../shared/log.ts';
import { EventBacklog } from './event-backlog.ts';
import { countOutboxPublishFailure, countOutboxSwept } from './metrics.ts';
import { OutboxIntents } from './outbox-intents.ts';

/**
 * An event kept in the record it is about until it is known to be published.
 * `seq` orders a record's events (its revision after the write); `id` is
 * deterministic, so a second publish of the same event is dropped by every
 * consumer that dedupes by CloudEvent id.
 */
export const OutboxEvent = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: z.string(),
  seq: z.number().int().min(1),
  data: z.unknown(),
  /** CloudEvent extension attributes besides `seq`, published with the event. */
  extensions: z.record(z.string(), z.string()).optional(),
});
export type OutboxEvent = z.infer<typeof OutboxEvent>;

/**
 * How many keys' newest published `seq` the outbox remembers: far more than
 * the writes in flight at once, whose records may still hold those events.
 */
const SENT_KEYS = 10_000;

/** How the outbox reads the records that carry events. */
export interface OutboxRecords<R> {
  /** The events the record holds, oldest first (some may be out already; the intent index says which may not). */
  pending(record: R): OutboxEvent[];
  /** The record's own sequence number: the `seq` of its newest write. */
  seq(record: R): number;
  /** Parses a stored value. */
  parse(value: unknown): R;
}

export interface OutboxOptions<R> {
  dapr: DaprGateway;
  store: string;
  pubsub: string;
  topic: string;
  /** The CloudEvent `source` of what is published. */
  source: string;
  records: OutboxRecords<R>;
  log: Logger;
  /** Keys of the intent index; more spread the writers of one instant over more keys. */
  shards?: number;
  /** How old an intent must be before a sweep takes it over from its writer. */
  graceMs?: number;
  /** How long an intent whose write never appeared is kept (longer than any store call can take). */
  abandonMs?: number;
  /** The limit on writes whose events are not out yet (default: EventBacklog's). */
  backlog?: EventBacklog;
}

export interface SweepOutcome {
  /** Records whose events were published by this sweep. */
  published: number;
  /** Intents removed because their events were published or their write never happened. */
  released: number;
}

/**
 * A transactional outbox that needs no transactions: a record's events live
 * in the record itself, so the write and its events are one single-key,
 * etag-guarded save, atomic on every state store (state.redis does not roll
 * a multi-key transaction back). After the save the writer publishes the
 * record's events in order, keyed by the record's subject. The intent index
 * (outbox-intents.ts), written before the save, names every record that may
 * hold events not yet published and from which `seq` on; once they are out
 * the publisher updates it, and the next writer of the record leaves the
 * published ones out of the record it saves (no write to take them out).
 * After a crash a periodic sweep publishes what the index names.
 *
 * Order: whoever publishes a record's events publishes all of its events
 * the index says may be unpublished, oldest first, and the index moves past
 * an event only after it was published; so the first copy of every event
 * precedes the first copy of the next, whichever writer, replica or sweep
 * published it. Later copies are duplicates with the same id.
 */
export class Outbox<R> {
  readonly #options: OutboxOptions<R>;
  readonly #intents: OutboxIntents;
  readonly #backlog: EventBacklog;
  /** Per record key: the publishing under way in this process (one at a time, in order). */
  readonly #chains = new Map<string, Promise<boolean>>();
  /**
   * Per record key, for the keys written last: the newest `seq` this process
   * published. A write that began before the intent index heard of that
   * publish still holds the event; it is not published a second time.
   */
  readonly #sent = new Map<string, number>();

  constructor(options: OutboxOptions<R>) {
    this.#options = options;
    this.#backlog = options.backlog ?? new EventBacklog();
    this.#intents = new OutboxIntents({
      dapr: options.dapr,
      store: options.store,
      shards: options.shards ?? 16,
      log: options.log,
    });
  }

  /**
   * Room for one more write whose events will be published: call it before
   * the write starts, and pass what it resolves with to publish() (or call
   * it if nothing is saved). Undefined: the broker is so far behind that no
   * room came in time; refuse the write, nothing done.
   */
  admit(): Promise<(() => void) | undefined> {
    return this.#backlog.enter();
  }

  /** The limit admit() now keeps to: writes whose events are not out yet. */
  get backlogLimit(): number {
    return this.#backlog.limit;
  }

  /**
   * Records, durably, that `key` is about to hold events up to `seq`. Call it
   * before saving the record: once it resolves a crash at any later point
   * leaves the record to the sweep. Resolves with the oldest `seq` that may
   * not be published yet: the record must keep every event from it on and
   * may leave the older ones out.
   */
  intend(key: string, seq: number): Promise<number> {
    return this.#intents.add(key, seq);
  }

  /**
   * Publishes the pending events of a record just saved, after whatever this
   * process is already publishing for that key. Failures are logged, not
   * thrown: the intent index still names them and the sweep publishes them.
   * Resolves to whether they were published, after calling `done` (admit()'s
   * release).
   */
  publish(key: string, events: readonly OutboxEvent[], done?: () => void): Promise<boolean> {
    const run = () => this.#publishPending(key, events);
    const previous = this.#chains.get(key);
    const chain = (previous ? previous.then(run) : run()).then(
      () => true,
      (error: unknown) => {
        this.#options.log.warn('outbox: events left for the sweep', { key, error: String(error) });
        countOutboxPublishFailure();
        return false;
      },
    );
    if (done) void chain.then(done);
    this.#chains.set(key, chain);
    void chain.then(() => {
      if (this.#chains.get(key) !== chain) return;
      this.#chains.delete(key);
    });
    return chain;
  }

  /** Resolves when everything this process started publishing is done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all(this.#chains.values());
    await this.#intents.settled();
  }

  /**
   * Publishes the events of every record whose intent is older than the
   * grace period (a writer that crashed, or whose publish failed), and
   * removes the intents that are done. Several sweeps at once are safe:
   * they publish duplicates at worst, never out of order.
   */
  async sweep(now = Date.now()): Promise<SweepOutcome> {
    const { dapr, store, records, graceMs = 2000, abandonMs = 5 * 60_000 } = this.#options;
    const stale = (await this.#intents.read()).filter((intent) => intent.at <= now - graceMs);
    const outcome: SweepOutcome = { published: 0, released: 0 };
    if (stale.length === 0) return outcome;
    const found = await dapr.getBulkState(
      store,
      stale.map((intent) => intent.key),
    );
    for (const intent of stale) {
      const stored = found.get(intent.key);
      const record = stored && records.parse(stored.value);
      const pending = record ? records.pending(record).filter((event) => event.seq >= intent.from) : [];
      // Publishing moves the intent past what it published (and removes it once the write is out).
      if (pending.length > 0) {
        if (!(await this.publish(intent.key, pending))) continue;
        outcome.published += 1;
      }
      // The write the intent announced happened (and its events are out) or, after long enough, never will.
      if (record !== undefined && records.seq(record) >= intent.seq) {
        if (pending.length === 0) this.#intents.published(intent.key, records.seq(record));
        outcome.released += 1;
      } else if (intent.at <= now - abandonMs) {
        this.#intents.abandon(intent.key, intent.seq);
        outcome.released += 1;
      }
    }
    await this.#intents.settled();
    countOutboxSwept(outcome.published);
    return outcome;
  }

  #remember(key: string, seq: number): void {
    this.#sent.delete(key);
    this.#sent.set(key, seq);
    // A Map iterates in insertion order: the first key is the one published longest ago.
    if (this.#sent.size > SENT_KEYS) this.#sent.delete(this.#sent.keys().next().value as string);
  }

  async #publishPending(key: string, events: readonly OutboxEvent[]): Promise<void> {
    const { dapr, pubsub, topic, source } = this.#options;
    const ordered = [...events].sort((a, b) => a.seq - b.seq);
    const last = ordered.at(-1)?.seq;
    if (last === undefined) return;
    for (const event of ordered) {
      if (event.seq <= (this.#sent.get(key) ?? 0)) continue;
      const begun = performance.now();
      await dapr
        .publishCloudEvent(
          pubsub,
          topic,
          {
            id: event.id,
            type: event.type,
            source,
            subject: event.subject,
            time: event.time,
            extensions: { ...event.extensions, seq: String(event.seq) },
            data: event.data,
          },
          // Kafka: the record key, so a subject's events share a partition and keep their order.
          { metadata: { partitionKey: event.subject } },
        )
        // How long the broker took to take it is what the backlog's limit follows; a failure says it is away.
        .then(
          () => this.#backlog.observe(performance.now() - begun),
          (error: unknown) => {
            this.#backlog.observe(performance.now() - begun, false);
            throw error;
          },
        );
      this.#remember(key, event.seq);
    }
    this.#intents.published(key, last);
  }
}
