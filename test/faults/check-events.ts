import {
  type ActivityEntry,
  eventOf,
  isWriteEvent,
  type Observed,
  revisionOf,
  type TaskBody,
  verdict,
  type WriteRecord,
  wrote,
} from './records.ts';

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
