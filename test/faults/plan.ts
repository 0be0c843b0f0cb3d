import { Random } from './prng.ts';

/**
 * The load of one scenario, decided up front from a seed: which tasks are
 * created, what each one's writes are, and after which request the faults
 * strike. Times are offsets, turned into instants when a request is sent.
 */
export type OpKind = 'patch' | 'patch-if-match' | 'complete' | 'delete';
export type WriteKind = 'create' | OpKind;

/** What a task is for in the checks. */
export type TaskRole =
  /** remindAt 3–8 s ahead; only PATCHes after (they leave remindAt alone): one reminder expected. */
  | 'remind'
  /** remindAt 8 s ahead, completed or deleted right after the create: no reminder expected. */
  | 'remind-cancelled'
  /** dueAt in the past: one task.overdue expected while it stays open. */
  | 'overdue'
  | 'plain';

export interface PlannedOp {
  kind: OpKind;
  /** The PATCH body; the title always changes, so every PATCH is a write. */
  body?: Record<string, unknown>;
}

export interface TaskPlan {
  index: number;
  role: TaskRole;
  title: string;
  priority: 'low' | 'medium' | 'high';
  tags: string[];
  remindInMs?: number;
  dueAgoMs?: number;
  ops: PlannedOp[];
}

export interface LoadPlan {
  seed: number;
  tasks: TaskPlan[];
  /** Requests the plan sends when every create succeeds (one per create and per op). */
  requests: number;
  /** The faults strike when this many requests have been started (ascending). */
  faultsAt: number[];
}

const priorities = ['low', 'medium', 'high'] as const;
const tagPool = ['work', 'home', 'urgent', 'later', 'fault'];

/** The plan task a title belongs to: titles start with `f<index> `, so a listed task finds its plan. */
export const planIndexOfTitle = (title: string): number | undefined => {
  const match = /^f(\d+) /.exec(title);
  return match ? Number(match[1]) : undefined;
};

function patchBody(random: Random, index: number, n: number): Record<string, unknown> {
  return {
    title: `f${index} edit ${n} ${random.int(0, 9999)}`,
    ...(random.chance(0.5) ? { priority: random.pick(priorities) } : {}),
    ...(random.chance(0.3) ? { tags: tagPool.filter(() => random.chance(0.4)) } : {}),
    ...(random.chance(0.2) ? { description: random.chance(0.5) ? null : `note ${random.int(0, 99)}` } : {}),
  };
}

function planTask(random: Random, index: number): TaskPlan {
  const roll = random.next();
  const role: TaskRole =
    roll < 0.25 ? 'remind' : roll < 0.35 ? 'remind-cancelled' : roll < 0.5 ? 'overdue' : 'plain';
  const ops: PlannedOp[] = [];
  if (role === 'remind-cancelled') {
    ops.push({ kind: random.chance(0.5) ? 'complete' : 'delete' });
  } else {
    const kinds: OpKind[] =
      role === 'remind' ? ['patch', 'patch-if-match'] : ['patch', 'patch-if-match', 'complete', 'delete'];
    const count = random.int(0, 3);
    for (let n = 1; n <= count; n++) {
      const kind = random.pick(kinds);
      ops.push(kind.startsWith('patch') ? { kind, body: patchBody(random, index, n) } : { kind });
      if (kind === 'delete') break;
    }
  }
  return {
    index,
    role,
    title: `f${index} created`,
    priority: random.pick(priorities),
    tags: tagPool.filter(() => random.chance(0.3)),
    ...(role === 'remind' ? { remindInMs: random.int(3000, 8000) } : {}),
    ...(role === 'remind-cancelled' ? { remindInMs: 8000 } : {}),
    ...(role === 'overdue' ? { dueAgoMs: random.int(60_000, 3_600_000) } : {}),
    ops,
  };
}

/**
 * Tasks until about `requests` requests are planned; two fault points, one
 * in the first half of the load and one in the second, so each fault meets
 * a running load and the recovery of the first still has load behind it.
 */
export function planLoad(seed: number, requests = 200, faults = 2): LoadPlan {
  const random = new Random(seed);
  const tasks: TaskPlan[] = [];
  let planned = 0;
  while (planned < requests) {
    const task = planTask(random, tasks.length);
    tasks.push(task);
    planned += 1 + task.ops.length;
  }
  const faultsAt: number[] = [];
  for (let n = 0; n < faults; n++) {
    // In the n-th of `faults` equal windows, between 20% and 60% of it: the load runs before and after.
    const from = planned * ((n + 0.2) / faults);
    const to = planned * ((n + 0.6) / faults);
    faultsAt.push(random.int(Math.max(1, Math.round(from)), Math.round(to)));
  }
  return { seed, tasks, requests: planned, faultsAt };
}
