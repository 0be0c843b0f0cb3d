import type { LoadPlan, PlannedOp, TaskPlan } from './plan.ts';
import { Random } from './prng.ts';
import { type Outcome, type TaskBody, verdict, type WriteRecord } from './records.ts';

/**
 * Runs a LoadPlan through the HTTP API: `workers` at a time, each task
 * driven by one worker from its create to its last op. A client that
 * behaves: it never retries (a 503 or a timeout stays ambiguous, the next
 * op of the task goes on), but it waits as Retry-After asks, or a second
 * after a broken connection, so an outage does not burn the plan in a burst.
 * With `durationMs` the requests are spread over that time (the n-th not
 * before n/requests of it), so the load outlasts the faults meant to hit it.
 */
export interface Target {
  url: string;
  apiToken: string;
}

export interface TaskRun {
  plan: TaskPlan;
  /** The id from the create's 201; undefined when the create was not acknowledged. */
  id?: string;
  writes: WriteRecord[];
}

export interface LoadOptions {
  workers?: number;
  /** The client's timeout per request. */
  timeoutMs?: number;
  /** Spread the plan's requests over this long at least; default: as fast as the workers go. */
  durationMs?: number;
}

export const REQUEST_TIMEOUT_MS = 10_000;
/** Longest a worker waits after a 503, whatever its Retry-After says. */
const MAX_BACKOFF_MS = 2000;

/** One request with a client timeout; every way it can end becomes an Outcome. */
export async function send(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<Outcome> {
  const sentAt = Date.now();
  try {
    const response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.apiToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const kept: Record<string, string> = {};
    for (const name of ['etag', 'retry-after', 'location']) {
      const value = response.headers.get(name);
      if (value !== null) kept[name] = value;
    }
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {}
    return { status: response.status, headers: kept, body: parsed, sentAt, ms: Date.now() - sentAt };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string } };
    const kind =
      err.name === 'TimeoutError' ? 'timeout' : err.cause?.code === 'ECONNREFUSED' ? 'refused' : 'reset';
    return {
      headers: {},
      error: kind,
      detail: `${err.name}: ${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`,
      sentAt,
      ms: Date.now() - sentAt,
    };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Load {
  /** Requests started so far, plus the planned ops skipped after a create that was not acknowledged. */
  steps = 0;
  done = false;
  readonly tasks: TaskRun[];
  readonly plan: LoadPlan;
  readonly target: Target;
  readonly options: LoadOptions;
  #waiters: Array<{ steps: number; resolve: () => void }> = [];

  constructor(plan: LoadPlan, target: Target, options: LoadOptions = {}) {
    this.plan = plan;
    this.target = target;
    this.options = options;
    this.tasks = plan.tasks.map((task) => ({ plan: task, writes: [] }));
  }

  /** Resolves once `steps` requests have been started, or the load has ended. */
  whenSteps(steps: number): Promise<void> {
    if (this.done || this.steps >= steps) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ steps, resolve }));
  }

  #begun = 0;
  /** Slots handed out for pacing: a worker takes one, then waits for its time. */
  #slots = 0;

  /** Takes `count` steps: waits until the first is due (paced by `durationMs`), then counts them as started. */
  async #step(count = 1): Promise<void> {
    const slot = this.#slots;
    this.#slots += count;
    const due = this.#begun + (slot * (this.options.durationMs ?? 0)) / this.plan.requests - Date.now();
    if (due > 0) await sleep(due);
    this.steps += count;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.steps < w.steps) return true;
      w.resolve();
      return false;
    });
  }

  async run(): Promise<TaskRun[]> {
    let next = 0;
    this.#begun = Date.now();
    const workers = this.options.workers ?? 8;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        // Think times differ between workers but repeat with the seed.
        const random = new Random(this.plan.seed + worker + 1);
        for (let task = this.tasks[next++]; task; task = this.tasks[next++]) {
          await this.#drive(task, random);
        }
      }),
    );
    this.done = true;
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters = [];
    return this.tasks;
  }

  async #write(
    run: TaskRun,
    write: Omit<WriteRecord, 'outcome'>,
    method: string,
    path: string,
    headers = {},
  ) {
    await this.#step();
    const outcome = await send(this.target, method, path, write.request, headers, this.options.timeoutMs);
    run.writes.push({ ...write, outcome });
    const v = verdict(outcome);
    if (v === 'ambiguous' || v === 'unsent') {
      const retryAfter = Number(outcome.headers['retry-after']);
      await sleep(Number.isFinite(retryAfter) ? Math.min(retryAfter * 1000, MAX_BACKOFF_MS) : 1000);
    }
    return outcome;
  }

  async #drive(run: TaskRun, random: Random) {
    const { plan } = run;
    const now = Date.now();
    const request = {
      title: plan.title,
      priority: plan.priority,
      tags: plan.tags,
      ...(plan.remindInMs === undefined ? {} : { remindAt: new Date(now + plan.remindInMs).toISOString() }),
      ...(plan.dueAgoMs === undefined ? {} : { dueAt: new Date(now - plan.dueAgoMs).toISOString() }),
    };
    const created = await this.#write(run, { kind: 'create', request }, 'POST', '/tasks');
    if (created.status !== 201) {
      // Without the id there is nothing to address: the task's ops are skipped, but count as steps.
      void this.#step(plan.ops.length);
      return;
    }
    run.id = (created.body as TaskBody).id;
    let etag = created.headers.etag;
    for (const op of plan.ops) {
      await sleep(random.int(20, 120));
      const outcome = await this.#op(run, op, etag);
      if (outcome.status !== undefined && outcome.status < 300 && outcome.headers.etag)
        etag = outcome.headers.etag;
    }
  }

  #op(run: TaskRun, op: PlannedOp, etag: string | undefined) {
    const path = `/tasks/${run.id}`;
    switch (op.kind) {
      case 'patch':
        return this.#write(run, { kind: op.kind, ...(op.body ? { request: op.body } : {}) }, 'PATCH', path);
      case 'patch-if-match':
        return this.#write(
          run,
          { kind: op.kind, ...(op.body ? { request: op.body } : {}) },
          'PATCH',
          path,
          etag ? { 'if-match': etag } : {},
        );
      case 'complete':
        return this.#write(run, { kind: op.kind }, 'POST', `${path}/complete`);
      case 'delete':
        return this.#write(run, { kind: op.kind }, 'DELETE', path);
    }
  }
}
