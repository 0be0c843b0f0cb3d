import { checkEvents } from './check-events.ts';
import { checkFollowUps } from './check-follow-ups.ts';
import { checkResponses } from './check-responses.ts';
import { checkState } from './check-state.ts';
import type { TaskRun } from './load.ts';
import { planIndexOfTitle } from './plan.ts';
import { type Observed, type TaskBody, verdict, type WriteRecord } from './records.ts';

/**
 * The checks over a whole scenario: every tracked task, and every task the
 * listing holds that the client never got an id for (an ambiguous create
 * that committed), summed into the counts the table shows.
 */
export interface Totals {
  tasks: number;
  acked: number;
  ambiguous: number;
  lost: number;
  missing: number;
  duplicates: number;
  ghosts: number;
  outOfOrder: number;
  unrevisioned: number;
  followUpMissing: number;
  /**
   * Deliveries the missing events and follow-ups add up to: each task's
   * missing write events, or one when only its follow-ups are missing. A
   * lost task.created of a task with remindAt costs its activity entry, its
   * reminder and its notification, but it is one delivery.
   */
  lostDeliveries: number;
  followUpDuplicates: number;
  followUpUnexpected: number;
  serverErrors: number;
  timeouts: number;
  connectionErrors: number;
  unavailable: number;
}

export interface Evaluation {
  totals: Totals;
  /** One line per finding, naming the task. */
  notes: string[];
}

/** The tasks to check: id, the writes the client made to it, and its plan's role. */
export function tasksToCheck(runs: TaskRun[], listed: Pick<TaskBody, 'id' | 'title'>[]) {
  const tasks = new Map<string, { writes: WriteRecord[]; label: string }>();
  const notes: string[] = [];
  for (const run of runs) {
    if (run.id) tasks.set(run.id, { writes: run.writes, label: `f${run.plan.index} (${run.plan.role})` });
  }
  let strangers = 0;
  for (const task of listed) {
    if (tasks.has(task.id)) continue;
    const index = planIndexOfTitle(task.title);
    const run = index === undefined ? undefined : runs[index];
    const create = run?.writes[0];
    if (run && !run.id && create && verdict(create.outcome) === 'ambiguous') {
      tasks.set(task.id, {
        writes: [create],
        label: `f${run.plan.index} (${run.plan.role}, create ambiguous)`,
      });
    } else {
      strangers += 1;
      notes.push(`task ${task.id} "${task.title}" is listed, but no create of it could have committed`);
    }
  }
  return { tasks, strangers, notes };
}

/** What the task was last known as: its final GET, else the last 2xx response that carried it. */
function known(writes: WriteRecord[], observed: Observed): TaskBody | undefined {
  if (observed.final.exists) return observed.final.body;
  return writes.findLast((w) => verdict(w.outcome) === 'acked' && w.kind !== 'delete')?.outcome.body as
    | TaskBody
    | undefined;
}

function finishedAt(writes: WriteRecord[], observed: Observed): string | undefined {
  if (observed.final.exists)
    return observed.final.body.status === 'done' ? observed.final.body.completedAt : undefined;
  const deleted = observed.entries.findLast((e) => e.type === 'task.deleted');
  const sent = writes.findLast((w) => w.kind === 'delete')?.outcome.sentAt;
  return deleted?.time ?? (sent === undefined ? undefined : new Date(sent).toISOString());
}

export function evaluate(
  runs: TaskRun[],
  listed: Pick<TaskBody, 'id' | 'title'>[],
  observed: Map<string, Observed>,
): Evaluation {
  const { tasks, strangers, notes } = tasksToCheck(runs, listed);
  const responses = checkResponses(runs.flatMap((r) => r.writes));
  const totals: Totals = {
    tasks: tasks.size,
    acked: 0,
    ambiguous: runs.flatMap((r) => r.writes).filter((w) => verdict(w.outcome) === 'ambiguous').length,
    lost: 0,
    missing: 0,
    duplicates: 0,
    ghosts: strangers,
    outOfOrder: 0,
    unrevisioned: 0,
    followUpMissing: 0,
    lostDeliveries: 0,
    followUpDuplicates: 0,
    followUpUnexpected: 0,
    serverErrors: responses.serverErrors,
    timeouts: responses.timeouts,
    connectionErrors: responses.connectionErrors,
    unavailable: responses.unavailable,
  };
  notes.push(...responses.notes);
  for (const [id, { writes, label }] of tasks) {
    const seen = observed.get(id);
    if (!seen) throw new Error(`task ${id} was not read back`);
    const state = checkState(writes, seen.final);
    const events = checkEvents(writes, seen);
    const body = known(writes, seen);
    const finished = finishedAt(writes, seen);
    const followUps = body
      ? checkFollowUps(
          { known: body, final: seen.final, ...(finished ? { finishedAt: finished } : {}) },
          seen,
        )
      : { missing: 0, duplicates: 0, unexpected: 0, notes: [] };
    totals.acked += state.acked;
    totals.lost += state.lost;
    totals.missing += events.missing;
    totals.duplicates += events.duplicates;
    totals.ghosts += events.ghosts;
    totals.outOfOrder += events.outOfOrder;
    totals.unrevisioned += events.unrevisioned;
    totals.followUpMissing += followUps.missing;
    totals.lostDeliveries += Math.max(events.missing, followUps.missing > 0 ? 1 : 0);
    totals.followUpDuplicates += followUps.duplicates;
    totals.followUpUnexpected += followUps.unexpected;
    for (const note of [...(state.note ? [state.note] : []), ...events.notes, ...followUps.notes])
      notes.push(`task ${id} ${label}: ${note}`);
  }
  if (totals.unrevisioned > 0)
    notes.unshift(
      `${totals.unrevisioned} write event(s) carry no revision; they were matched by time instead`,
    );
  return { totals, notes };
}

/**
 * Events a fault may cost by the profile's own design: pubsub.in-memory is
 * daprd's memory, so a SIGKILL of daprd loses what it had taken but not yet
 * delivered (one delivery in flight per subscription), or cuts short one
 * onTaskEvent was handling (the broker never redelivers): the event is then
 * missing from its task's activity, and its reminder may be too. That
 * profile's figure is
 * reported, bounded by one delivery per kill, and stated in the README;
 * every other pairing of profile and fault allows none.
 */
export function lossAllowed(
  profile: string,
  fault: { action: string; process: string },
  kills: number,
): number {
  return profile === 'embedded' && fault.action === 'kill' && fault.process === 'daprd' ? kills : 0;
}

/** The counts that must be 0 for a scenario to pass (connection errors only where the app was not the target). */
export function failures(totals: Totals, appDown: boolean, allowedLoss = 0): string[] {
  if (totals.lostDeliveries > 0 && totals.lostDeliveries <= allowedLoss)
    totals = { ...totals, missing: 0, followUpMissing: 0, lostDeliveries: 0 };
  const zero: Array<keyof Totals> = [
    'lost',
    'missing',
    'duplicates',
    'ghosts',
    'outOfOrder',
    'unrevisioned',
    'followUpMissing',
    'followUpDuplicates',
    'followUpUnexpected',
    'serverErrors',
    'timeouts',
    ...(appDown ? [] : (['connectionErrors'] as const)),
  ];
  return zero.filter((key) => totals[key] > 0).map((key) => `${key} ${totals[key]}`);
}
