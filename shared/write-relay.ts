import { z } from '@hono/zod-openapi';
import { TaskEventData } from './events.ts';
import type { Deps } from './function.ts';
import { saveWithEtag } from './guarded-save.ts';

/** The topic the state store's outbox publishes every task write to; relayTaskWrite reads it. */
export const TASK_WRITES_TOPIC = 'task-writes';

export const writeEventTypes = ['task.created', 'task.updated', 'task.completed', 'task.deleted'] as const;

/**
 * The event of one committed (or, on a store without real transactions,
 * attempted) task write, as the outbox delivers it: `time` is the task's
 * version after the write, `prevtime` the version it replaced (none for
 * task.created).
 */
export const WriteEvent = z.object({
  id: z.string().min(1),
  type: z.enum(writeEventTypes),
  source: z.string(),
  subject: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  prevtime: z.iso.datetime({ offset: true }).optional(),
  data: TaskEventData,
});
export type WriteEvent = z.infer<typeof WriteEvent>;

const RelayRecord = z.object({
  /** The version of the last event forwarded; none before the first. */
  last: z.string().optional(),
  /** Events that arrived before their predecessor, or before it is known whether their write committed. */
  held: z.array(WriteEvent),
  deleted: z.boolean().optional(),
});
type RelayRecord = z.infer<typeof RelayRecord>;

const relayKey = (taskId: string) => `task-relay|${taskId}`;
/** How long a deleted task's relay record outlives the deletion (late redeliveries are then recognised). */
const DELETED_TTL_SECONDS = 7 * 24 * 3600;

export interface RelayOutcome {
  /** Ids forwarded to `task-events`, in order. */
  forwarded: string[];
  /** Ids dropped: redeliveries of forwarded events, and events of writes that never committed. */
  dropped: string[];
  /** Events still waiting for an earlier one. */
  held: number;
}

const ms = (instant: string) => Date.parse(instant);
/** The same version (instants compare by value, not spelling); two absent versions are the same too. */
const same = (a: string | undefined, b: string | undefined) =>
  a === undefined || b === undefined ? a === b : ms(a) === ms(b);

/**
 * Forwards a task's write events to `task-events`, keyed by the task id, in
 * the order of the writes, whatever order the outbox delivers them in.
 *
 * daprd's outbox publishes without a key and through an internal topic
 * whose partitions run side by side, so two writes of a task can arrive in
 * either order; and state.redis, whose transactions do not roll back,
 * publishes the event of a write that lost its etag check as well. Each
 * event names the version it replaced (`prevtime`), so a task's events form
 * a chain. One state record per task holds the last version forwarded and
 * the events that cannot go yet. An event goes when it follows the last one
 * and its write is known to have committed: its version is the task's
 * current one, or a held event names it as the version it replaced (only a
 * committed version can be read and replaced). An event whose version is
 * newer than the task's is a write that never committed and is dropped, as
 * is any event that replaced a version older than the last forwarded (the
 * loser beside a write that committed).
 *
 * Each event is published before the record says so; a crash or a
 * concurrent relay in between publishes it again, which subscribers drop by
 * its CloudEvent id, and its first copy still precedes its successor.
 */
export async function relayWrite(
  deps: Pick<Deps, 'dapr' | 'config' | 'tasks'>,
  event: WriteEvent,
): Promise<RelayOutcome> {
  const { dapr, config } = deps;
  let outcome: RelayOutcome = { forwarded: [], dropped: [], held: 0 };
  await saveWithEtag<RelayRecord>(
    dapr,
    config.STATE_STORE,
    relayKey(event.subject),
    async (stored) => {
      const record: RelayRecord = stored ? RelayRecord.parse(stored.value) : { held: [] };
      outcome = { forwarded: [], dropped: [], held: 0 };
      const known = record.held.some((held) => held.id === event.id);
      let held = known ? record.held : [...record.held, event];
      let last = record.last;
      let deleted = record.deleted;
      let read: { version: string | undefined } | undefined;
      for (;;) {
        const [keep, drop] = partition(held, (e) => canFollow(e, last));
        outcome.dropped.push(...drop.map((e) => e.id));
        held = keep;
        const candidates = held.filter((e) => same(e.prevtime, last));
        if (candidates.length === 0) break;
        // Read once, after every candidate's write (committed writes are visible before the outbox delivers).
        read ??= { version: await deps.tasks.version(event.subject) };
        const { version } = read;
        const next = candidates.find((e) => committed(e, version, held));
        const ghosts = candidates.filter((e) => version === undefined || ms(version) < ms(e.time));
        outcome.dropped.push(...ghosts.map((e) => e.id));
        held = held.filter((e) => !ghosts.includes(e));
        if (!next) {
          if (ghosts.length > 0) continue;
          break;
        }
        await forward(deps, next);
        outcome.forwarded.push(next.id);
        last = next.time;
        deleted = next.type === 'task.deleted' || undefined;
        held = held.filter((e) => e !== next);
      }
      outcome.held = held.length;
      const unchanged =
        held.length === record.held.length && held.every((e, i) => e.id === record.held[i]?.id);
      if (outcome.forwarded.length === 0 && unchanged) return undefined;
      return { ...(last === undefined ? {} : { last }), held, ...(deleted ? { deleted } : {}) };
    },
    {
      metadata: (record): Record<string, string> =>
        record.deleted ? { ttlInSeconds: String(DELETED_TTL_SECONDS) } : {},
    },
  );
  return outcome;
}

/** Whether `event` can still come after the version `last`: it is newer and replaced `last` or a later version. */
function canFollow(event: WriteEvent, last: string | undefined): boolean {
  if (last === undefined) return true;
  if (event.prevtime === undefined) return false;
  return ms(event.time) > ms(last) && ms(event.prevtime) >= ms(last);
}

/** Whether the write of `event` is known to have committed, given the task's current version. */
function committed(event: WriteEvent, version: string | undefined, held: readonly WriteEvent[]): boolean {
  if (version === undefined) return false;
  if (ms(version) === ms(event.time)) return true;
  return ms(version) > ms(event.time) && held.some((e) => same(e.prevtime, event.time));
}

function partition<T>(items: readonly T[], keep: (item: T) => boolean): [T[], T[]] {
  return [items.filter(keep), items.filter((item) => !keep(item))];
}

async function forward({ dapr, config }: Pick<Deps, 'dapr' | 'config'>, event: WriteEvent) {
  const { prevtime, ...attributes } = event;
  await dapr.publishCloudEvent(
    config.PUBSUB,
    config.TASK_EVENTS_TOPIC,
    { ...attributes, ...(prevtime === undefined ? {} : { extensions: { prevtime } }) },
    { metadata: { partitionKey: event.subject } },
  );
}
