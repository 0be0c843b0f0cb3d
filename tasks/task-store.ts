import { z } from 'zod';
import type { RuntimeConfig } from '../shared/config.ts';
import type { DaprGateway } from '../shared/dapr.ts';
import { backoff, trySave } from '../shared/guarded-save.ts';
import type { Logger } from '../shared/log.ts';
import { Problem } from '../shared/problem.ts';
import type { EventBacklog } from './event-backlog.ts';
import { TASK_EVENTS, type TaskDeletedData, type TaskEventType } from './events.ts';
import { countBacklogRefusal } from './metrics.ts';
import { Outbox, OutboxEvent, type OutboxRecords, type SweepOutcome } from './outbox.ts';
import { reminderExtensions } from './reminders.ts';
import { decodeCursor, encodeCursor, startOfIndex, TaskIndex } from './task-index.ts';
import { Task } from './tasks.ts';

export interface StoredTask {
  task: Task;
  /** The task's revision (1 when created, +1 per write), its HTTP ETag. */
  etag: string;
}

export interface TaskFilter {
  status?: Task['status'] | undefined;
  tag?: string | undefined;
  /** UTC ISO instant; tasks due strictly before it. */
  dueBefore?: string | undefined;
}

export interface TaskStoreOptions {
  dapr: DaprGateway;
  store: string;
  /** Where the task's events go: the pub/sub component and topic, and their CloudEvent source. */
  pubsub: string;
  topic: string;
  source: string;
  log: Logger;
  /** Attempts of a guarded read-modify-write before giving up with 503. */
  maxAttempts?: number;
  /** The limit on writes whose events are not out yet (default: EventBacklog's). */
  backlog?: EventBacklog;
}

/**
 * One task's state key: the task (absent once deleted), its revision, and the
 * events of its writes not yet known to be published (the outbox).
 */
const TaskRecord = z.object({
  revision: z.number().int().min(1),
  task: Task.optional(),
  deletedAt: z.string().optional(),
  outbox: z.array(OutboxEvent),
});
type TaskRecord = z.infer<typeof TaskRecord>;
/** What a read needs of a record: its outbox (a copy of the last write's event, as a rule) is neither parsed nor kept. */
const TaskView = TaskRecord.pick({ revision: true, task: true });

const taskKey = (id: string) => `task|${id}`;
/** How long a deleted task's record (its tombstone, with task.deleted until it is out) is kept. */
const TOMBSTONE_TTL_SECONDS = 7 * 24 * 3600;
/** Ids a listing reads at most per request, so a rare filter cannot make one request scan everything. */
const MAX_SCAN = 1000;
/**
 * Events one task may hold unpublished. Past it the broker has been away for
 * a long time; a write is refused (503) rather than let the record grow.
 */
const MAX_PENDING_EVENTS = 100;

const taskRecords: OutboxRecords<TaskRecord> = {
  pending: (record) => record.outbox,
  seq: (record) => record.revision,
  parse: (value) => TaskRecord.parse(value),
};

/** A tombstone expires; a live task does not. */
const recordMetadata = (record: TaskRecord): Record<string, string> =>
  record.task ? {} : { ttlInSeconds: String(TOMBSTONE_TTL_SECONDS) };

/**
 * Task records in the Dapr state store, each write one etag-guarded save of
 * one key that holds the task and its write's event (see Outbox): atomic on
 * every store, with no transaction. The event is published after the save,
 * keyed by the task id; a sweep publishes what a crash left behind.
 */
export class TaskStore {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #index: TaskIndex;
  readonly #maxAttempts: number;
  readonly #outbox: Outbox<TaskRecord>;

  /** The store of an app's settings: its state store, and its events on TASK_EVENTS. */
  static create(
    dapr: DaprGateway,
    config: Pick<RuntimeConfig, 'STATE_STORE' | 'PUBSUB' | 'APP_ID'>,
    log: Logger,
  ): TaskStore {
    const { STATE_STORE: store, PUBSUB: pubsub, APP_ID: source } = config;
    return new TaskStore({ dapr, store, pubsub, topic: TASK_EVENTS, source, log });
  }

  constructor(options: TaskStoreOptions) {
    this.#dapr = options.dapr;
    this.#store = options.store;
    this.#maxAttempts = options.maxAttempts ?? 20;
    this.#index = new TaskIndex(options.dapr, options.store);
    this.#outbox = new Outbox({ ...options, records: taskRecords });
  }

  async get(id: string): Promise<StoredTask | undefined> {
    const stored = await this.#dapr.getState(this.#store, taskKey(id));
    const record = stored && TaskView.parse(stored.value);
    return record?.task && { task: record.task, etag: String(record.revision) };
  }

  async create(task: Task): Promise<StoredTask> {
    const event = writeEvent('task.created', task.id, 1, task.updatedAt, task);
    // The index entry and the outbox intent are independent; both must be durable before the save.
    if (
      !(await this.#save(
        task.id,
        { revision: 1, task, outbox: [event] },
        { alongside: () => this.#index.append(task.id) },
      ))
    )
      throw new Error(`task ${task.id} exists already`);
    return { task, etag: '1' };
  }

  /**
   * Guarded read-modify-write: `change` gets the current task and returns the
   * next one (the same object for no change). A concurrent write makes the
   * save fail; then the task is read again and `change` applied again, so
   * concurrent updates without If-Match lose no field. With `ifMatch` (a
   * revision) a concurrent write is the client's conflict: 412.
   */
  async update(
    id: string,
    change: (task: Task) => Task,
    eventType: (before: Task, after: Task) => TaskEventType,
    ifMatch?: string,
  ): Promise<StoredTask> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#existing(id, ifMatch);
      const { task } = current.record;
      const changed = change(task);
      if (changed === task) return { task, etag: String(current.record.revision) };
      const next = { ...changed, updatedAt: after(task.updatedAt, changed.updatedAt) };
      const revision = current.record.revision + 1;
      const event = writeEvent(
        eventType(task, next),
        id,
        revision,
        next.updatedAt,
        next,
        reminderExtensions(task, next),
      );
      const record = { revision, task: next, outbox: [...current.record.outbox, event] };
      if (await this.#commit(id, record, current.etag, attempt))
        return { task: next, etag: String(revision) };
    }
  }

  async remove(id: string, deletedAt: Date, ifMatch?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#existing(id, ifMatch);
      const data: TaskDeletedData = {
        id,
        deletedAt: after(current.record.task.updatedAt, deletedAt.toISOString()),
      };
      const revision = current.record.revision + 1;
      const extensions = reminderExtensions(current.record.task, undefined);
      const event = writeEvent('task.deleted', id, revision, data.deletedAt, data, extensions);
      const tombstone = { revision, deletedAt: data.deletedAt, outbox: [...current.record.outbox, event] };
      if (await this.#commit(id, tombstone, current.etag, attempt)) return;
    }
  }

  async list(
    filter: TaskFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Task[]; nextCursor: string | null }> {
    const positions = cursor ? decodeCursor(cursor) : startOfIndex();
    const walk = this.#index.walk(positions);
    const items: Task[] = [];
    for (let scanned = 0; scanned < MAX_SCAN; ) {
      // As many ids as the page still needs (more when a filter drops some), at most 100 a read.
      const wanted = Math.min(
        100,
        MAX_SCAN - scanned,
        Math.max(limit - items.length, filtered(filter) ? 100 : 10),
      );
      const chunk = await walk.next(wanted);
      if (chunk.length === 0) return { items, nextCursor: null };
      const found = await this.#dapr.getBulkState(
        this.#store,
        chunk.map(({ id }) => taskKey(id)),
      );
      for (const [offset, { id, shard, after }] of chunk.entries()) {
        scanned += 1;
        positions[shard] = after;
        const stored = found.get(taskKey(id));
        const task = stored && TaskView.parse(stored.value).task;
        if (task && matches(task, filter)) items.push(task);
        if (items.length === limit) {
          const atEnd = offset === chunk.length - 1 && (await walk.atEnd());
          return { items, nextCursor: atEnd ? null : encodeCursor(positions) };
        }
      }
    }
    return { items, nextCursor: (await walk.atEnd()) ? null : encodeCursor(positions) };
  }

  /** Publishes the events a crash or a failed publish left in task records (the cron sweep). */
  sweepOutbox(): Promise<SweepOutcome> {
    return this.#outbox.sweep();
  }

  /** Resolves when the events of every write so far have been handed to the sidecar (or left for the sweep). */
  settled(): Promise<void> {
    return this.#outbox.settled();
  }

  /** The live task (or a 404/412 problem) and its record's etag. */
  async #existing(
    id: string,
    ifMatch: string | undefined,
  ): Promise<{ record: TaskRecord & { task: Task }; etag: string }> {
    const stored = await this.#dapr.getState(this.#store, taskKey(id));
    const record = stored && TaskRecord.parse(stored.value);
    if (!stored || !record?.task) throw taskNotFound(id);
    if (ifMatch !== undefined && ifMatch !== String(record.revision)) throw preconditionFailed(id);
    return { record: { ...record, task: record.task }, etag: stored.etag };
  }

  /**
   * Saves the record and, once saved, publishes its events. First it waits
   * for room in the outbox's backlog (503 with nothing done when the broker
   * is too far behind: the API takes writes no faster than their events
   * leave). The intent (and `alongside`, a create's index entry) goes next, so from the moment the
   * save could have happened the sweep knows where to look. Throws 503 when the sidecar or store fails: the write may
   * then have happened or not, and either way its event is consistent with it.
   */
  async #save(
    id: string,
    written: TaskRecord,
    { etag, alongside }: { etag?: string; alongside?: () => Promise<void> } = {},
  ): Promise<boolean> {
    const key = taskKey(id);
    const release = await this.#outbox.admit();
    if (!release) {
      countBacklogRefusal();
      throw new Problem(
        503,
        'Service Unavailable',
        `The events of earlier writes are not leaving fast enough (${this.#outbox.backlogLimit} on their way). Nothing was changed; retry after 1 s.`,
        { headers: { 'retry-after': '1' } },
      );
    }
    let handedOver = false;
    try {
      // The events the intent index says are out stay out of the record: no write is spent taking them out.
      const [from] = await Promise.all([this.#outbox.intend(key, written.revision), alongside?.()]);
      const record = { ...written, outbox: written.outbox.filter((event) => event.seq >= from) };
      if (record.outbox.length > MAX_PENDING_EVENTS)
        throw new Problem(
          503,
          'Service Unavailable',
          `Task ${id} has ${record.outbox.length - 1} events the broker has not taken yet. Nothing was changed; retry later.`,
          { headers: { 'retry-after': '5' } },
        );
      const saved =
        (await trySave(this.#dapr, this.#store, {
          key,
          value: record,
          ...(etag === undefined ? { options: { concurrency: 'first-write' } } : { etag }),
          metadata: recordMetadata(record),
        })) || (await this.#isStored(key, record));
      if (saved) {
        void this.#outbox.publish(key, record.outbox, release);
        handedOver = true;
      }
      return saved;
    } finally {
      if (!handedOver) release();
    }
  }

  /**
   * Whether the store holds this very write. A save whose answer was lost (the
   * store or daprd died after applying it) fails, and reading the key back then
   * finds a new etag, which looks like another writer's; taken for a conflict,
   * the retry would find its own write and answer 404 (a delete), 412 (If-Match)
   * or apply the change twice. The revision and the content tell them apart.
   */
  async #isStored(key: string, record: TaskRecord): Promise<boolean> {
    const stored = await this.#dapr.getState(this.#store, key);
    const now = stored && TaskRecord.parse(stored.value);
    return (
      now?.revision === record.revision &&
      now.deletedAt === record.deletedAt &&
      JSON.stringify(now.task) === JSON.stringify(record.task)
    );
  }

  /** True when saved; false when a concurrent write won and the caller should read and try again. */
  async #commit(id: string, record: TaskRecord, etag: string, attempt: number): Promise<boolean> {
    if (await this.#save(id, record, { etag })) return true;
    // Another save came first: a write (then, with If-Match, the next read answers 412) or the outbox
    // removing published events, which leaves the revision as it was.
    if (attempt >= this.#maxAttempts)
      throw new Problem(
        503,
        'Service Unavailable',
        `Task ${id} is being changed by other requests. Nothing was changed; retry shortly.`,
        { headers: { 'retry-after': '1' } },
      );
    await backoff(attempt);
    return false;
  }
}

/** A write's event: its id names the task and the revision, so a second publish of it is a duplicate. */
function writeEvent(
  type: TaskEventType,
  taskId: string,
  revision: number,
  time: string,
  data: unknown,
  extensions: Record<string, string> = {},
): OutboxEvent {
  const event = { id: `${taskId}:${revision}`, type, subject: taskId, time, seq: revision, data };
  return Object.keys(extensions).length > 0 ? { ...event, extensions } : event;
}

/**
 * A task's updatedAt (then its deletion's instant) strictly increases, even
 * when clocks of two replicas disagree or two writes share a millisecond:
 * consumers order reminders by it.
 */
function after(previous: string, proposed: string): string {
  const floor = Date.parse(previous) + 1;
  return Date.parse(proposed) >= floor ? proposed : new Date(floor).toISOString();
}

const filtered = (filter: TaskFilter) => Boolean(filter.status || filter.tag || filter.dueBefore);

function matches(task: Task, filter: TaskFilter): boolean {
  if (filter.status && task.status !== filter.status) return false;
  if (filter.tag && !task.tags.includes(filter.tag)) return false;
  if (filter.dueBefore && !(task.dueAt && task.dueAt < filter.dueBefore)) return false;
  return true;
}

export function taskNotFound(id: string): Problem {
  // `taskId` tells "no such task" from "no such route" for clients such as the service-invocation reader.
  return new Problem(404, 'Not Found', `No task has the id ${id}.`, { extensions: { taskId: id } });
}

function preconditionFailed(id: string): Problem {
  return new Problem(
    412,
    'Precondition Failed',
    `Task ${id} was changed since the ETag you sent in If-Match. GET it again and retry with the new ETag.`,
  );
}
