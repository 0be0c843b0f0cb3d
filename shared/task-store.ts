import {
  DaprError,
  type DaprGateway,
  SidecarUnreachableError,
  type StateItem,
  type TransactionOperation,
} from './dapr.ts';
import { TaskDeletedData, type TaskEventType } from './events.ts';
import { backoff, trySave } from './guarded-save.ts';
import { Problem, sidecarUnavailable } from './problem.ts';
import { decodeCursor, encodeCursor, TaskIndex } from './task-index.ts';
import { Task } from './tasks.ts';

export interface StoredTask {
  task: Task;
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
  /** Attempts of a guarded read-modify-write before giving up with 503. */
  maxAttempts?: number;
}

const taskKey = (id: string) => `task|${id}`;
const leaseKey = (id: string) => `task-lease|${id}`;
/**
 * How long a writer holds the right to replace one version of a task. A
 * transaction takes milliseconds (daprd gives up on a store call after 5 s);
 * a writer that died holding a lease blocks that task's writes this long.
 */
const LEASE_MS = 5000;
const tombstoneKey = (id: string) => `task-deleted|${id}`;
/** How long a deleted task's tombstone (the outbox record of task.deleted) is kept. */
const TOMBSTONE_TTL_SECONDS = 7 * 24 * 3600;
/** Ids a listing reads at most per request, so a rare filter cannot make one request scan everything. */
const MAX_SCAN = 1000;

/** The right to replace the version `base` (an etag) of a task, until `until` (ms). */
interface Lease {
  base: string;
  until: number;
}

/**
 * Task records in the Dapr state store. Every write is one state transaction
 * through the transactional outbox: the state store's outbox settings make
 * daprd publish each upserted value, with the CloudEvent attributes taken
 * from the operation's metadata, when the transaction commits.
 *
 * Writers of one task take turns: before its transaction a writer claims a
 * lease on the version it read (an etag-guarded save of a small key), and a
 * writer that finds the version claimed waits and reads again. Transactions
 * therefore do not fail on etag conflicts, and that matters beyond speed:
 * daprd hands a transaction to the outbox before the store runs it, so a
 * failed one still leaves an outbox message behind. state.redis publishes it
 * (its transactions do not roll back), and daprd 1.18's outbox retries the
 * check for its missing state forever, without pause, instead of discarding
 * it after ~10 s (its backoff never says stop), which holds up that internal
 * partition and loads the store. See docs/EVENTS.md.
 */
export class TaskStore {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #index: TaskIndex;
  readonly #maxAttempts: number;

  constructor(options: TaskStoreOptions) {
    this.#dapr = options.dapr;
    this.#store = options.store;
    this.#maxAttempts = options.maxAttempts ?? 20;
    this.#index = new TaskIndex(options.dapr, options.store);
  }

  async get(id: string): Promise<StoredTask | undefined> {
    const stored = await guard(() => this.#dapr.getState(this.#store, taskKey(id)));
    return stored && { task: Task.parse(stored.value), etag: stored.etag };
  }

  /**
   * The task's version: its `updatedAt`, or its deletion's instant once it is
   * deleted (while the tombstone lasts); undefined when there is neither.
   */
  async version(id: string): Promise<string | undefined> {
    const found = await this.#dapr.getBulkState(this.#store, [taskKey(id), tombstoneKey(id)]);
    const task = found.get(taskKey(id));
    if (task) return Task.parse(task.value).updatedAt;
    const tombstone = found.get(tombstoneKey(id));
    return tombstone && TaskDeletedData.parse(tombstone.value).deletedAt;
  }

  async create(task: Task): Promise<StoredTask> {
    await guard(async () => {
      await this.#index.append(task.id);
      await this.#dapr.transactState(this.#store, [
        upsertWithEvent(taskKey(task.id), task, {
          type: 'task.created',
          taskId: task.id,
          time: task.updatedAt,
        }),
      ]);
    });
    return this.#mustGet(task.id);
  }

  /**
   * Guarded read-modify-write: `change` gets the current task and returns the
   * next one (the same object for no change). A concurrent write makes the
   * transaction fail; then the task is read again and `change` applied again,
   * so concurrent updates without If-Match lose no field. With `ifMatch` a
   * concurrent write is the client's conflict: 412.
   */
  async update(
    id: string,
    change: (task: Task) => Task,
    eventType: (before: Task, after: Task) => TaskEventType,
    ifMatch?: string,
  ): Promise<StoredTask> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#existing(id, ifMatch);
      const changed = change(current.task);
      if (changed === current.task) return current;
      const next = { ...changed, updatedAt: after(current.task.updatedAt, changed.updatedAt) };
      const event = { type: eventType(current.task, next), taskId: id, time: next.updatedAt };
      const operation = upsertWithEvent(
        taskKey(id),
        next,
        { ...event, prevtime: current.task.updatedAt },
        current.etag,
      );
      if (await this.#commit([operation], id, current, ifMatch, attempt)) return this.#mustGet(id);
    }
  }

  async remove(id: string, deletedAt: Date, ifMatch?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#existing(id, ifMatch);
      const data: TaskDeletedData = { id, deletedAt: after(current.task.updatedAt, deletedAt.toISOString()) };
      const tombstone = upsertWithEvent(tombstoneKey(id), data, {
        type: 'task.deleted',
        taskId: id,
        time: data.deletedAt,
        prevtime: current.task.updatedAt,
      });
      tombstone.request.metadata = {
        ...tombstone.request.metadata,
        ttlInSeconds: String(TOMBSTONE_TTL_SECONDS),
      };
      const operations: TransactionOperation[] = [
        { operation: 'delete', request: { key: taskKey(id), etag: current.etag } },
        tombstone,
      ];
      if (await this.#commit(operations, id, current, ifMatch, attempt)) return;
    }
  }

  async list(
    filter: TaskFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Task[]; nextCursor: string | null }> {
    let position = cursor ? decodeCursor(cursor) : { p: 0, i: 0 };
    const items: Task[] = [];
    let scanned = 0;
    return guard(async () => {
      while (scanned < MAX_SCAN) {
        const chunk = await this.#index.read(position, Math.min(100, MAX_SCAN - scanned));
        const found = await this.#dapr.getBulkState(this.#store, chunk.ids.map(taskKey));
        for (const [offset, id] of chunk.ids.entries()) {
          scanned += 1;
          const stored = found.get(taskKey(id));
          const task = stored && Task.parse(stored.value);
          if (task && matches(task, filter)) items.push(task);
          if (items.length === limit) {
            const next = { p: chunk.start.p, i: chunk.start.i + offset + 1 };
            const atEnd = chunk.atEnd && offset === chunk.ids.length - 1;
            return { items, nextCursor: atEnd ? null : encodeCursor(next) };
          }
        }
        position = chunk.next;
        if (chunk.atEnd) return { items, nextCursor: null };
      }
      return { items, nextCursor: encodeCursor(position) };
    });
  }

  /** The task (or a 404/412 problem) and its lease, in one read. */
  async #existing(
    id: string,
    ifMatch: string | undefined,
  ): Promise<StoredTask & { lease?: StateItem<Lease> }> {
    const found = await guard(() => this.#dapr.getBulkState(this.#store, [taskKey(id), leaseKey(id)]));
    const stored = found.get(taskKey(id));
    if (!stored) throw taskNotFound(id);
    if (ifMatch !== undefined && ifMatch !== stored.etag) throw preconditionFailed(id);
    const lease = found.get(leaseKey(id)) as StateItem<Lease> | undefined;
    return { task: Task.parse(stored.value), etag: stored.etag, ...(lease ? { lease } : {}) };
  }

  /** Claims the right to replace the version `etag` of the task: false while another writer holds it. */
  async #claim(id: string, etag: string, lease: StateItem<Lease> | undefined): Promise<boolean> {
    const now = Date.now();
    if (lease && lease.value.base === etag && lease.value.until > now) return false;
    return guard(() =>
      trySave(this.#dapr, this.#store, {
        key: leaseKey(id),
        value: { base: etag, until: now + LEASE_MS } satisfies Lease,
        ...(lease ? { etag: lease.etag } : { options: { concurrency: 'first-write' } }),
        metadata: { ttlInSeconds: String(60) },
      }),
    );
  }

  /** True when committed; false when a concurrent write won or is under way, and the caller should try again. */
  async #commit(
    operations: TransactionOperation[],
    id: string,
    current: { etag: string; lease?: StateItem<Lease> },
    ifMatch: string | undefined,
    attempt: number,
  ): Promise<boolean> {
    const { etag } = current;
    if (!(await this.#claim(id, etag, current.lease))) {
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
    try {
      await this.#dapr.transactState(this.#store, operations);
      return true;
    } catch (error) {
      if (!(error instanceof DaprError)) throw sidecarUnavailable(error);
      // daprd reports a stale etag and an outage alike; the current etag tells them apart.
      const now = await this.get(id);
      if (now?.etag === etag) throw sidecarUnavailable(error);
      if (ifMatch !== undefined) throw now ? preconditionFailed(id) : taskNotFound(id);
      if (attempt >= this.#maxAttempts) throw sidecarUnavailable(error);
      await backoff(attempt);
      return false;
    }
  }

  async #mustGet(id: string): Promise<StoredTask> {
    const stored = await this.get(id);
    if (!stored) throw taskNotFound(id);
    return stored;
  }
}

/**
 * The CloudEvent attributes of a write's event. `time` is the write's own
 * instant (ms; the outbox's own `time` has whole seconds) and the task's
 * version; `prevtime` is the version the write replaced, which chains a
 * task's events so relayTaskWrite can publish them in order.
 */
interface WriteAttributes {
  type: TaskEventType;
  taskId: string;
  time: string;
  prevtime?: string;
}

function upsertWithEvent(
  key: string,
  value: unknown,
  event: WriteAttributes,
  etag?: string,
): Extract<TransactionOperation, { operation: 'upsert' }> {
  const { type, taskId, time, prevtime } = event;
  return {
    operation: 'upsert',
    request: {
      key,
      value,
      ...(etag === undefined ? {} : { etag }),
      contentType: 'application/json',
      // The outbox copies operation metadata into the CloudEvent it publishes.
      metadata: { type, subject: taskId, time, ...(prevtime === undefined ? {} : { prevtime }) },
    },
  };
}

/**
 * A task's versions (its `updatedAt`, then its deletion's instant) strictly
 * increase, even when clocks of two replicas disagree or two writes share a
 * millisecond: the event chain depends on it.
 */
function after(previous: string, proposed: string): string {
  const floor = Date.parse(previous) + 1;
  return Date.parse(proposed) >= floor ? proposed : new Date(floor).toISOString();
}

function matches(task: Task, filter: TaskFilter): boolean {
  if (filter.status && task.status !== filter.status) return false;
  if (filter.tag && !task.tags.includes(filter.tag)) return false;
  if (filter.dueBefore && !(task.dueAt && task.dueAt < filter.dueBefore)) return false;
  return true;
}

/** Runs a store call, turning sidecar failures into a 503 problem. */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DaprError || error instanceof SidecarUnreachableError)
      throw sidecarUnavailable(error);
    throw error;
  }
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
