import type { WriteKind } from './plan.ts';
import {
  type ActivityEntry,
  type Observed,
  revisionOf,
  type TaskBody,
  verdict,
  type WriteRecord,
} from './records.ts';

/**
 * The checks of a fault scenario, as pure functions of what the client sent
 * and saw (WriteRecord) and what was read back afterwards (Observed).
 *
 * A write the client got a 2xx for committed. A write that got a 503, a
 * timeout or a broken connection is ambiguous: it may have committed. Each
 * check accepts exactly the states some choice of the ambiguous writes
 * explains, and nothing else.
 */

const writeTypes = ['task.created', 'task.updated', 'task.completed', 'task.deleted'] as const;
const eventOf: Record<WriteKind, (typeof writeTypes)[number]> = {
  create: 'task.created',
  patch: 'task.updated',
  'patch-if-match': 'task.updated',
  complete: 'task.completed',
  delete: 'task.deleted',
};
export const isWriteEvent = (entry: ActivityEntry) => (writeTypes as readonly string[]).includes(entry.type);

/**
 * Whether an acknowledged write wrote something. Completing a done task
 * changes nothing: its 200 carries the revision (and updatedAt) of whatever
 * write came last, maybe a PATCH, and no event of its own. A complete that
 * wrote sets completedAt to its updatedAt.
 */
const wrote = (write: WriteRecord) => {
  if (write.kind !== 'complete') return true;
  const body = write.outcome.body as TaskBody | undefined;
  return body !== undefined && body.completedAt === body.updatedAt;
};

/** The fields a client set and reads back; updatedAt and completedAt are the server's. */
type View = Pick<TaskBody, 'title' | 'description' | 'status' | 'priority' | 'dueAt' | 'remindAt' | 'tags'>;

const viewOf = (task: TaskBody): View => ({
  title: task.title,
  description: task.description,
  status: task.status,
  priority: task.priority,
  dueAt: task.dueAt,
  remindAt: task.remindAt,
  tags: task.tags,
});

const sameView = (a: View, b: View) =>
  JSON.stringify(viewOf(a as TaskBody)) === JSON.stringify(viewOf(b as TaskBody));

/** The same JSON whatever the order of its keys: a PATCH may answer with its fields in another order than GET. */
const canonical = (value: object) =>
  JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));

/** The state after a write that committed: undefined once deleted; `effective` says whether it changed anything. */
function apply(view: View, write: WriteRecord): { view: View | undefined; effective: boolean } {
  if (write.kind === 'delete') return { view: undefined, effective: true };
  if (write.kind === 'complete')
    return { view: { ...view, status: 'done' }, effective: view.status !== 'done' };
  const next: Record<string, unknown> = { ...view };
  for (const [field, value] of Object.entries(write.request ?? {})) {
    if (field === 'tags') next.tags = [...new Set(value as string[])];
    else next[field] = value === null ? undefined : value;
  }
  return { view: next as unknown as View, effective: true };
}

/** Every subsequence of `items`, in order (the writes are few: at most three follow an acknowledged one). */
function* subsequences<T>(items: T[]): Generator<T[]> {
  for (let mask = 0; mask < 1 << items.length; mask++) yield items.filter((_, i) => mask & (1 << i));
}

export interface StateCheck {
  /** Writes answered 2xx. */
  acked: number;
  /** 1 when the final state is not the last acknowledged write's result nor explained by later ambiguous ones. */
  lost: number;
  note?: string;
}

/**
 * (a) The final GET equals the last 2xx response (404 after a DELETE),
 * unless later ambiguous writes committed: then it must be what some of
 * them, applied in order, make of it (with as many more revisions, or a
 * later updatedAt where ETags carry no revision).
 */
export function checkState(writes: WriteRecord[], final: Observed['final']): StateCheck {
  const acked = writes.filter((w) => verdict(w.outcome) === 'acked');
  const lastIndex = writes.findLastIndex((w) => verdict(w.outcome) === 'acked');
  const last = writes[lastIndex];
  if (!last) return { acked: 0, lost: 0 };
  const base = last.kind === 'delete' ? undefined : (last.outcome.body as TaskBody);
  const baseRevision = revisionOf(last.outcome.headers.etag);
  const later = writes.slice(lastIndex + 1).filter((w) => verdict(w.outcome) === 'ambiguous');
  const finalRevision = final.exists ? revisionOf(final.etag) : undefined;

  for (const committed of subsequences(later)) {
    let view: View | undefined = base && viewOf(base);
    let revisions = 0;
    let possible = true;
    for (const write of committed) {
      // Nothing commits on a deleted task.
      if (!view) possible = false;
      else {
        const step = apply(view, write);
        view = step.view;
        if (step.effective) revisions += 1;
      }
    }
    if (!possible) continue;
    if (!view || !final.exists) {
      if (!view && !final.exists) return { acked: acked.length, lost: 0 };
      continue;
    }
    if (!sameView(view, final.body)) continue;
    if (revisions === 0) {
      if (base && canonical(final.body) === canonical(base)) return { acked: acked.length, lost: 0 };
      continue;
    }
    const advanced =
      baseRevision !== undefined && finalRevision !== undefined
        ? finalRevision === baseRevision + revisions
        : base !== undefined && final.body.updatedAt > base.updatedAt;
    if (advanced) return { acked: acked.length, lost: 0 };
  }
  const seen = final.exists ? `${JSON.stringify(final.body)} (ETag ${final.etag})` : '404';
  const after = writes
    .slice(lastIndex + 1)
    .map((w) => `${w.kind} ${w.outcome.status ?? w.outcome.error}`)
    .join(', ');
  return {
    acked: acked.length,
    lost: 1,
    note: `the last acknowledged write (${last.kind}, ${last.outcome.status}) is not what GET returns: ${seen}; after it: ${after || 'nothing'}`,
  };
}

export interface EventCheck {
  /** Committed writes without their event. */
  missing: number;
  /** An event id, or a write's revision, handled twice. */
  duplicates: number;
  /** Events of writes that never committed: a revision past the final one, or a type that contradicts. */
  ghosts: number;
  outOfOrder: number;
  /** Write events without the `revision` the design promises. */
  unrevisioned: number;
  notes: string[];
}

const noEvents = (): EventCheck => ({
  missing: 0,
  duplicates: 0,
  ghosts: 0,
  outOfOrder: 0,
  unrevisioned: 0,
  notes: [],
});

/**
 * (b) The events onTaskEvent handled (the activity) are the committed
 * writes, once each, in write order. With revisions: the write entries are
 * revisions 1..R exactly, R the final ETag's (for a deleted task, the
 * task.deleted entry's, which comes last), and every 2xx write's revision is
 * there with its type. Where entries carry no revision, writes are matched
 * by the task's updatedAt (the entry's time) instead, and each such entry is
 * counted as unrevisioned.
 */
export function checkEvents(
  writes: WriteRecord[],
  observed: Pick<Observed, 'final' | 'entries'>,
): EventCheck {
  const result = noEvents();
  const ids = new Set<string>();
  const unique: ActivityEntry[] = [];
  for (const entry of observed.entries) {
    if (ids.has(entry.eventId)) {
      result.duplicates += 1;
      result.notes.push(`event ${entry.eventId} (${entry.type}) handled twice`);
    } else {
      ids.add(entry.eventId);
      unique.push(entry);
    }
  }
  const entries = unique.filter(isWriteEvent);
  const withRevision = entries.filter((e) => Number.isInteger(e.revision));
  // Counted, not noted per task: without the design's revisions every entry lacks it.
  result.unrevisioned = entries.length - withRevision.length;
  const acked = writes.filter((w) => verdict(w.outcome) === 'acked');
  const ambiguous = writes.filter((w) => verdict(w.outcome) === 'ambiguous').length;
  const byRevision = entries.length > 0 && result.unrevisioned === 0;
  const counts = byRevision
    ? byRevisions(entries, acked, observed.final)
    : byTimes(entries, acked, ambiguous, observed.final);
  return {
    ...counts,
    duplicates: counts.duplicates + result.duplicates,
    unrevisioned: result.unrevisioned,
    notes: [...result.notes, ...counts.notes],
  };
}

function byRevisions(entries: ActivityEntry[], acked: WriteRecord[], final: Observed['final']): EventCheck {
  const result = noEvents();
  const at = new Map<number, ActivityEntry>();
  let highest = 0;
  for (const entry of entries) {
    const revision = entry.revision as number;
    if (at.has(revision)) {
      result.duplicates += 1;
      result.notes.push(`revision ${revision} handled twice (${at.get(revision)?.type}, ${entry.type})`);
      continue;
    }
    at.set(revision, entry);
    if (revision < highest) {
      result.outOfOrder += 1;
      result.notes.push(`revision ${revision} handled after ${highest}`);
    }
    highest = Math.max(highest, revision);
  }
  const deleted = entries.findLast((e) => e.type === 'task.deleted');
  const ackedRevisions = acked.map((w) => revisionOf(w.outcome.headers.etag) ?? 0);
  const finalRevision = final.exists ? revisionOf(final.etag) : deleted?.revision;
  const last = finalRevision ?? Math.max(highest, ...ackedRevisions);
  if (final.exists && finalRevision === undefined)
    result.notes.push(`final ETag ${final.etag} is no revision`);
  if (!final.exists && !deleted) {
    result.missing += 1;
    result.notes.push('deleted, but no task.deleted event');
  }
  for (let revision = 1; revision <= last; revision++) {
    if (!at.has(revision)) {
      result.missing += 1;
      result.notes.push(`no event for revision ${revision} of ${last}`);
    }
  }
  const ghosts = new Set<number>();
  for (const [revision, entry] of at) {
    const contradiction =
      revision > last || revision < 1
        ? `revision ${revision} past the final ${last}`
        : (revision === 1) !== (entry.type === 'task.created')
          ? `revision ${revision} is ${entry.type}`
          : entry.type === 'task.deleted' && (final.exists || revision !== last)
            ? `task.deleted at revision ${revision}, but the task ${final.exists ? 'exists' : `ends at ${last}`}`
            : undefined;
    if (contradiction) {
      ghosts.add(revision);
      result.ghosts += 1;
      result.notes.push(contradiction);
    }
  }
  for (const write of acked.filter(wrote)) {
    const revision = revisionOf(write.outcome.headers.etag);
    const entry = revision === undefined ? undefined : at.get(revision);
    // An entry already counted above is one ghost, however many things are wrong with it.
    if (entry && entry.type !== eventOf[write.kind] && !ghosts.has(revision as number)) {
      ghosts.add(revision as number);
      result.ghosts += 1;
      result.notes.push(`${write.kind} answered revision ${revision}, whose event is ${entry.type}`);
    }
  }
  return result;
}

function byTimes(
  entries: ActivityEntry[],
  acked: WriteRecord[],
  ambiguous: number,
  final: Observed['final'],
): EventCheck {
  const result = noEvents();
  const key = (type: string, time: string | undefined) => `${type}@${time ?? ''}`;
  // What must be there: each acknowledged write's event, and the event of the final state's write.
  const expected = new Set<string>();
  for (const write of acked.filter(wrote)) {
    const body = write.outcome.body as TaskBody | undefined;
    if (write.kind !== 'delete' && body) expected.add(key(eventOf[write.kind], body.updatedAt));
  }
  const deleteAcked = acked.some((w) => w.kind === 'delete');
  const seen = new Map<string, number>();
  let latest = '';
  let deletedAt: number | undefined;
  for (const [i, entry] of entries.entries()) {
    const k = key(entry.type, entry.type === 'task.deleted' ? undefined : entry.time);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    if (entry.time < latest) {
      result.outOfOrder += 1;
      result.notes.push(`${entry.type} at ${entry.time} handled after one at ${latest}`);
    }
    if (entry.time > latest) latest = entry.time;
    if (deletedAt !== undefined && i > deletedAt) {
      result.ghosts += 1;
      result.notes.push(`${entry.type} after task.deleted`);
    }
    if (entry.type === 'task.deleted') deletedAt = i;
    if (entry.type === 'task.created' && i !== 0) {
      result.ghosts += 1;
      result.notes.push('task.created is not the first event');
    }
    if (final.exists && (entry.type === 'task.deleted' || entry.time > final.body.updatedAt)) {
      result.ghosts += 1;
      result.notes.push(`${entry.type} at ${entry.time}, but the task exists as of ${final.body.updatedAt}`);
    }
  }
  if (final.exists) {
    // The final state's write: an acknowledged one is among `expected`, an ambiguous one is not.
    const time = `@${final.body.updatedAt}`;
    const known = [...expected].some((k) => k.endsWith(time));
    if (!known && !entries.some((e) => e.time === final.body.updatedAt)) {
      result.missing += 1;
      result.notes.push(`no event for the final state (updatedAt ${final.body.updatedAt})`);
    }
  } else if (deletedAt === undefined) {
    result.missing += 1;
    result.notes.push('deleted, but no task.deleted event');
  }
  for (const k of expected) {
    if (!seen.has(k)) {
      result.missing += 1;
      result.notes.push(`no event ${k} of an acknowledged write`);
    }
  }
  for (const [k, n] of seen) {
    if (n > 1) {
      result.duplicates += n - 1;
      result.notes.push(`${k} handled ${n} times`);
    }
  }
  // Entries that match no acknowledged write: at most one per ambiguous write can be a committed one.
  const unmatched = [...seen.keys()].filter((k) => !expected.has(k));
  const deletion = unmatched.filter((k) => k.startsWith('task.deleted@') && deleteAcked).length;
  const excess = unmatched.length - deletion - ambiguous;
  if (excess > 0) {
    result.ghosts += excess;
    result.notes.push(`${excess} event(s) match no write that was acknowledged or ambiguous`);
  }
  return result;
}

export interface FollowUpCheck {
  /** Expected and not (yet) there: a reminder whose remindAt is still ahead counts too, until it fires. */
  missing: number;
  duplicates: number;
  /** Reminders of tasks that were completed or deleted first, overdue events of tasks never past due. */
  unexpected: number;
  notes: string[];
}

/** Slack either side of remindAt within which a completion races the reminder: either outcome is right. */
export const RACE_MS = 1500;

/**
 * (c) Reminders and overdue events, from the task as it was last known
 * (the final GET, or the create's response for a deleted task) and when it
 * was finished: completed (completedAt) or deleted (its task.deleted event's
 * time, else when the DELETE was sent).
 *   - remindAt passed while open: one notification file and one task.reminder.
 *   - finished before remindAt: neither.
 *   - dueAt before the create and still open: one task.overdue; otherwise at most one.
 */
export function checkFollowUps(
  task: { known: TaskBody; finishedAt?: string; final: Observed['final'] },
  observed: Pick<Observed, 'entries' | 'notifications'>,
): FollowUpCheck {
  const result: FollowUpCheck = { missing: 0, duplicates: 0, unexpected: 0, notes: [] };
  const unique = [...new Map(observed.entries.map((e) => [e.eventId, e])).values()];
  const reminders = unique.filter((e) => e.type === 'task.reminder').length;
  const overdue = unique.filter((e) => e.type === 'task.overdue').length;
  const { remindAt, dueAt, createdAt } = task.known;
  const finished = task.finishedAt === undefined ? undefined : Date.parse(task.finishedAt);

  const exactlyOne = (what: string, count: number) => {
    if (count === 0) {
      result.missing += 1;
      result.notes.push(`no ${what}`);
    } else if (count > 1) {
      result.duplicates += count - 1;
      result.notes.push(`${count} × ${what}`);
    }
  };
  const atMostOne = (what: string, count: number) => {
    if (count > 1) {
      result.duplicates += count - 1;
      result.notes.push(`${count} × ${what}`);
    }
  };
  const none = (what: string, count: number, why: string) => {
    if (count > 0) {
      result.unexpected += count;
      result.notes.push(`${count} × ${what}, ${why}`);
    }
  };

  if (remindAt === undefined) {
    none('task.reminder', reminders, 'without remindAt');
    none('notification', observed.notifications, 'without remindAt');
  } else {
    const at = Date.parse(remindAt);
    if (finished !== undefined && finished < at - RACE_MS) {
      none('task.reminder', reminders, 'finished before remindAt');
      none('notification', observed.notifications, 'finished before remindAt');
    } else if (finished !== undefined && finished <= at + RACE_MS) {
      atMostOne('task.reminder', reminders);
      atMostOne('notification', observed.notifications);
    } else {
      exactlyOne('task.reminder', reminders);
      exactlyOne('notification', observed.notifications);
    }
  }

  const pastDue = dueAt !== undefined && dueAt < createdAt;
  if (!pastDue) none('task.overdue', overdue, 'not past due');
  else if (task.final.exists && task.final.body.status === 'open') exactlyOne('task.overdue', overdue);
  else atMostOne('task.overdue', overdue);
  return result;
}

export interface ResponseCheck {
  /** 5xx other than a 503 with Retry-After. */
  serverErrors: number;
  timeouts: number;
  /** Connections refused or broken: only expected while the app itself is down. */
  connectionErrors: number;
  unavailable: number;
  notes: string[];
}

/** (d) Every response is a 2xx, a 4xx or a 503 with Retry-After; no request times out. */
export function checkResponses(writes: WriteRecord[]): ResponseCheck {
  const result: ResponseCheck = {
    serverErrors: 0,
    timeouts: 0,
    connectionErrors: 0,
    unavailable: 0,
    notes: [],
  };
  for (const { kind, outcome } of writes) {
    if (outcome.error === 'timeout') result.timeouts += 1;
    else if (outcome.error) result.connectionErrors += 1;
    else if (outcome.status === 503 && outcome.headers['retry-after'] !== undefined) result.unavailable += 1;
    else if ((outcome.status ?? 0) >= 500) {
      result.serverErrors += 1;
      result.notes.push(`${kind} answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    }
  }
  return result;
}
