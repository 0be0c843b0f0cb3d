import { z } from 'zod';
import { type DaprGateway, MAX_TTL_SECONDS } from '../shared/dapr.ts';
import { saveWithEtag, trySave } from '../shared/guarded-save.ts';

/**
 * Tasks by due minute, so the overdue sweep reads only what has come due.
 *
 * - `due|<YYYY-MM-DDTHH:MM>` (a bucket) lists `{id, dueAt}` of the tasks
 *   that fall due in that minute. A task whose `dueAt` has already passed
 *   when it is indexed goes into the bucket of the current minute, so a
 *   sweep still finds it.
 * - `due-index|cursor` is the first bucket the next sweep reads.
 *
 * A sweep reads the buckets from the cursor up to the current minute (one
 * bulk get), hands every entry to the caller, then moves the cursor to the
 * previous minute: that bucket is read once more, for an entry written
 * just as the minute turned. Its cost grows with the minutes since the last
 * sweep and the tasks that came due in them, never with tasks due later.
 *
 * The index is a list of candidates: an entry stays when its task changes
 * due date, is completed or deleted, and the caller checks the task itself.
 * Buckets expire (TTL) a week after their minute; one more than ~68 years
 * ahead (daprd's TTL is a 32-bit count of seconds) is kept without a TTL.
 */
const MINUTE = 60_000;
/** Buckets one sweep reads at most (a day); an older backlog is read by the next sweeps. */
export const MAX_BUCKETS_PER_SWEEP = 1440;
const BUCKET_TTL_AFTER_MINUTE_SECONDS = 7 * 24 * 3600;
const CURSOR_KEY = 'due-index|cursor';

const Entry = z.object({ id: z.string(), dueAt: z.string() });
export type DueEntry = z.infer<typeof Entry>;
const Bucket = z.object({ entries: z.array(Entry) });
type Bucket = z.infer<typeof Bucket>;
const Cursor = z.object({ next: z.number().int() });

const minuteOf = (instant: Date) => Math.floor(instant.getTime() / MINUTE);
export const bucketKey = (minute: number) => `due|${new Date(minute * MINUTE).toISOString().slice(0, 16)}`;

export class DueIndex {
  readonly #dapr: DaprGateway;
  readonly #store: string;

  constructor(dapr: DaprGateway, store: string) {
    this.#dapr = dapr;
    this.#store = store;
  }

  /** Adds a task's due date; adding the same `{id, dueAt}` again changes nothing. */
  async add(id: string, dueAt: string, now: Date): Promise<void> {
    const minute = Math.max(minuteOf(new Date(dueAt)), minuteOf(now));
    let created = false;
    await saveWithEtag<Bucket>(
      this.#dapr,
      this.#store,
      bucketKey(minute),
      (current) => {
        const entries = current ? Bucket.parse(current.value).entries : [];
        if (entries.some((e) => e.id === id && e.dueAt === dueAt)) return undefined;
        created = !current;
        return { entries: [...entries, { id, dueAt }] };
      },
      {
        metadata: (): Record<string, string> => {
          const ttl =
            Math.max(0, Math.ceil(((minute + 1) * MINUTE - now.getTime()) / 1000)) +
            BUCKET_TTL_AFTER_MINUTE_SECONDS;
          // A bucket further out than daprd's TTL can count (~68 years) is kept without one.
          return ttl <= MAX_TTL_SECONDS ? { ttlInSeconds: String(ttl) } : {};
        },
      },
    );
    // The first bucket ever written starts the cursor at the current minute (not at the
    // bucket's, which may be months ahead), so the first sweep reads everything from now on.
    if (created) await this.#startCursor(minuteOf(now));
  }

  /**
   * Reads the buckets from the cursor to the current minute and passes each
   * entry to `visit`. An entry whose visit throws holds the cursor at its
   * bucket, so the next sweep visits it again. Returns the entries visited.
   */
  async sweep(
    now: Date,
    visit: (entry: DueEntry) => Promise<void>,
  ): Promise<{ visited: number; failed: number }> {
    const current = minuteOf(now);
    const stored = await this.#dapr.getState(this.#store, CURSOR_KEY);
    if (!stored) {
      await this.#startCursor(current - 1);
      return { visited: 0, failed: 0 };
    }
    // A cursor ahead of this clock (another replica's clock runs fast) is read from the previous minute.
    const from = Math.min(Cursor.parse(stored.value).next, current - 1);
    const to = Math.min(current, from + MAX_BUCKETS_PER_SWEEP - 1);
    const minutes = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
    const buckets = await this.#dapr.getBulkState(this.#store, minutes.map(bucketKey));
    let next = to < current ? to + 1 : current - 1;
    let visited = 0;
    let failed = 0;
    for (const minute of minutes) {
      const bucket = buckets.get(bucketKey(minute));
      if (!bucket) continue;
      for (const entry of Bucket.parse(bucket.value).entries) {
        visited += 1;
        try {
          await visit(entry);
        } catch {
          failed += 1;
          next = Math.min(next, minute);
        }
      }
    }
    if (next > from) {
      // A concurrent sweep that moved the cursor first did the same work: its value stands.
      await trySave(this.#dapr, this.#store, { key: CURSOR_KEY, value: { next }, etag: stored.etag });
    }
    return { visited, failed };
  }

  async #startCursor(minute: number) {
    // When the cursor exists already this does nothing: only the first writer starts it.
    await trySave(this.#dapr, this.#store, {
      key: CURSOR_KEY,
      value: { next: minute },
      options: { concurrency: 'first-write' },
    });
  }
}
