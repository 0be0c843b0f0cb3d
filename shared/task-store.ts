import { DaprError, type DaprGateway, SidecarUnreachableError, type TransactionOperation } from './dapr.ts';
import type { TaskDeletedData, TaskEventType } from './events.ts';
import { backoff } from './guarded-save.ts';
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
const tombstoneKey = (id: string) => `task-deleted|${id}`;
/** How long a deleted task's tombstone (the outbox record of task.deleted) is kept. */
const TOMBSTONE_TTL_SECONDS = 7 * 24 * 3600;
/** Ids a listing reads at most per request, so a rare filter cannot make one request scan everything. */
const MAX_SCAN = 1000;

/**
 * Task records in the Dapr state store. Every write is one state transaction
 * through the transactional outbox: the state store's outbox settings make
 * daprd publish each upserted value, with the CloudEvent attributes taken
 * from the operation's metadata, if and only if the transaction commits.
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

  async create(task: Task): Promise<StoredTask> {
    await guard(async () => {
      await this.#index.append(task.id);
      await this.#dapr.transactState(this.#store, [
        upsertWithEvent(taskKey(task.id), task, 'task.created', task.id, task.updatedAt),
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
      const next = change(current.task);
      if (next === current.task) return current;
      const type = eventType(current.task, next);
      const operation = upsertWithEvent(taskKey(id), next, type, id, next.updatedAt, current.etag);
      if (await this.#commit([operation], id, current.etag, ifMatch, attempt)) return this.#mustGet(id);
    }
  }

  async remove(id: string, deletedAt: Date, ifMatch?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#existing(id, ifMatch);
      const data: TaskDeletedData = { id, deletedAt: deletedAt.toISOString() };
      const tombstone = upsertWithEvent(tombstoneKey(id), data, 'task.deleted', id, data.deletedAt);
      tombstone.request.metadata = {
        ...tombstone.request.metadata,
        ttlInSeconds: String(TOMBSTONE_TTL_SECONDS),
      };
      const operations: TransactionOperation[] = [
        { operation: 'delete', request: { key: taskKey(id), etag: current.etag } },
        tombstone,
      ];
      if (await this.#commit(operations, id, current.etag, ifMatch, attempt)) return;
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

  async #existing(id: string, ifMatch: string | undefined): Promise<StoredTask> {
    const current = await this.get(id);
    if (!current) throw taskNotFound(id);
    if (ifMatch !== undefined && ifMatch !== current.etag) throw preconditionFailed(id);
    return current;
  }

  /** True when committed; false when a concurrent write won and the caller should try again. */
  async #commit(
    operations: TransactionOperation[],
    id: string,
    etag: string,
    ifMatch: string | undefined,
    attempt: number,
  ): Promise<boolean> {
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

function upsertWithEvent(
  key: string,
  value: unknown,
  type: TaskEventType,
  taskId: string,
  time: string,
  etag?: string,
): Extract<TransactionOperation, { operation: 'upsert' }> {
  return {
    operation: 'upsert',
    request: {
      key,
      value,
      ...(etag === undefined ? {} : { etag }),
      contentType: 'application/json',
      // The outbox copies operation metadata into the CloudEvent it publishes. Its own `time`
      // has whole seconds; the write's own instant (ms) orders a task's events however they arrive.
      metadata: { type, subject: taskId, time },
    },
  };
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
