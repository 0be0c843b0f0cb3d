import { describe, expect, it } from 'vitest';
import { checkEvents } from './check-events.ts';
import { checkFollowUps } from './check-follow-ups.ts';
import { checkResponses } from './check-responses.ts';
import { checkState } from './check-state.ts';
import { evaluate, failures, lossAllowed } from './evaluate.ts';
import type { TaskRun } from './load.ts';
import type { WriteKind } from './plan.ts';
import {
  type ActivityEntry,
  type Observed,
  revisionOf,
  type TaskBody,
  verdict,
  type WriteRecord,
} from './records.ts';

const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();
const task = (second: number, fields: Partial<TaskBody> = {}): TaskBody => ({
  id,
  title: 'f0 created',
  status: 'open',
  priority: 'medium',
  tags: [],
  createdAt: at(0),
  updatedAt: at(second),
  ...fields,
});
const statusOf: Record<WriteKind, number> = {
  create: 201,
  patch: 200,
  'patch-if-match': 200,
  complete: 200,
  delete: 204,
};
/** A write answered 2xx; `revision` becomes its ETag. */
const acked = (kind: WriteKind, body?: TaskBody, revision?: number, request?: Record<string, unknown>) =>
  ({
    kind,
    ...(request ? { request } : {}),
    outcome: {
      status: statusOf[kind],
      headers: (revision === undefined ? {} : { etag: `"${revision}"` }) as Record<string, string>,
      ...(body ? { body } : {}),
      sentAt: 0,
      ms: 5,
    },
  }) satisfies WriteRecord;
const unavailable = (kind: WriteKind, request?: Record<string, unknown>): WriteRecord => ({
  kind,
  ...(request ? { request } : {}),
  outcome: { status: 503, headers: { 'retry-after': '2' }, sentAt: 0, ms: 5 },
});
const exists = (body: TaskBody, revision?: number): Observed['final'] => ({
  exists: true,
  body,
  ...(revision === undefined ? {} : { etag: `"${revision}"` }),
});
const gone: Observed['final'] = { exists: false };
const entry = (type: string, revision: number | undefined, second: number, eventId = `${type}-${revision}`) =>
  ({ eventId, type, time: at(second), ...(revision === undefined ? {} : { revision }) }) as ActivityEntry;

describe('records', () => {
  it('tells acknowledged, rejected, ambiguous and unsent writes apart', () => {
    const outcome = (o: Partial<WriteRecord['outcome']>) => ({ headers: {}, sentAt: 0, ms: 1, ...o });
    expect(verdict(outcome({ status: 201 }))).toBe('acked');
    expect(verdict(outcome({ status: 412 }))).toBe('rejected');
    expect(verdict(outcome({ status: 503 }))).toBe('ambiguous');
    expect(verdict(outcome({ status: 500 }))).toBe('ambiguous');
    expect(verdict(outcome({ error: 'timeout' }))).toBe('ambiguous');
    expect(verdict(outcome({ error: 'reset' }))).toBe('ambiguous');
    expect(verdict(outcome({ error: 'refused' }))).toBe('unsent');
    expect(revisionOf('"3"')).toBe(3);
    expect(revisionOf('W/"12"')).toBe(12);
    expect(revisionOf('"a1b2"')).toBeUndefined();
    expect(revisionOf(undefined)).toBeUndefined();
  });
});

describe('(a) acknowledged writes are there afterwards', () => {
  const created = task(0);
  const patched = task(1, { title: 'f0 edit 1' });

  it('passes when the final GET is the last 2xx response', () => {
    const writes = [acked('create', created, 1), acked('patch', patched, 2, { title: 'f0 edit 1' })];
    expect(checkState(writes, exists(patched, 2))).toEqual({ acked: 2, lost: 0 });
  });

  it('compares the bodies whatever the order of their fields', () => {
    const reordered = { description: 'd', ...task(1, { title: 'f0 edit 1' }) };
    const writes = [
      acked('create', created, 1),
      acked('patch', reordered, 2, { title: 'f0 edit 1', description: 'd' }),
    ];
    expect(checkState(writes, exists(task(1, { title: 'f0 edit 1', description: 'd' }), 2)).lost).toBe(0);
  });

  it('fails when an acknowledged PATCH is not in the final state', () => {
    const writes = [acked('create', created, 1), acked('patch', patched, 2, { title: 'f0 edit 1' })];
    const check = checkState(writes, exists(created, 1));
    expect(check.lost).toBe(1);
    expect(check.note).toMatch(/last acknowledged write \(patch, 200\)/);
  });

  it('accepts an ambiguous write that committed, or did not, and nothing else', () => {
    const writes = [
      acked('create', created, 1),
      unavailable('patch', { title: 'f0 edit 1', priority: 'high' }),
    ];
    expect(checkState(writes, exists(created, 1)).lost).toBe(0);
    expect(checkState(writes, exists(task(1, { title: 'f0 edit 1', priority: 'high' }), 2)).lost).toBe(0);
    expect(checkState(writes, exists(task(1, { title: 'something else' }), 2)).lost).toBe(1);
    // Committed once, but the ETag says two more revisions: one too many.
    expect(checkState(writes, exists(task(1, { title: 'f0 edit 1', priority: 'high' }), 3)).lost).toBe(1);
    // Without revisions in ETags, a committed write must at least have moved updatedAt on.
    expect(checkState(writes, exists(task(0, { title: 'f0 edit 1', priority: 'high' }))).lost).toBe(1);
  });

  it('expects a 404 after an acknowledged DELETE, and allows one after an ambiguous one', () => {
    expect(checkState([acked('create', created, 1), acked('delete')], gone).lost).toBe(0);
    expect(checkState([acked('create', created, 1), acked('delete')], exists(created, 1)).lost).toBe(1);
    expect(checkState([acked('create', created, 1), unavailable('delete')], gone).lost).toBe(0);
    expect(checkState([acked('create', created, 1)], gone).lost).toBe(1);
  });

  it('knows an ambiguous complete sets the status and a PATCH with null clears a field', () => {
    const described = task(0, { description: 'x' });
    const writes = [
      acked('create', described, 1),
      unavailable('patch', { title: 'f0 t', description: null }),
    ];
    expect(checkState(writes, exists(task(1, { title: 'f0 t' }), 2)).lost).toBe(0);
    const completing = [acked('create', created, 1), unavailable('complete')];
    expect(checkState(completing, exists(task(1, { status: 'done', completedAt: at(1) }), 2)).lost).toBe(0);
  });
});

describe('(b) events are the committed writes, once each, in order (revisions)', () => {
  const writes = [
    acked('create', task(0), 1),
    acked('patch', task(1, { title: 'f0 edit 1' }), 2, { title: 'f0 edit 1' }),
    acked('complete', task(2, { title: 'f0 edit 1', status: 'done', completedAt: at(2) }), 3),
  ];
  const final = exists(task(2, { title: 'f0 edit 1', status: 'done', completedAt: at(2) }), 3);
  const complete = [entry('task.created', 1, 0), entry('task.updated', 2, 1), entry('task.completed', 3, 2)];
  const zero = { missing: 0, duplicates: 0, ghosts: 0, outOfOrder: 0, unrevisioned: 0 };

  it('passes for revisions 1..R in order with the types of the writes', () => {
    const check = checkEvents(writes, {
      final,
      entries: [...complete, entry('task.reminder', undefined, 5)],
    });
    expect(check).toMatchObject(zero);
    expect(check.notes).toEqual([]);
  });

  it('counts a missing revision', () => {
    const check = checkEvents(writes, { final, entries: [complete[0], complete[2]] as ActivityEntry[] });
    expect(check).toMatchObject({ ...zero, missing: 1 });
    expect(check.notes).toEqual(['no event for revision 2 of 3']);
  });

  it('counts an event id twice and a revision twice as duplicates', () => {
    const again = [...complete, complete[1] as ActivityEntry];
    expect(checkEvents(writes, { final, entries: again }).duplicates).toBe(1);
    const sameRevision = [...complete, entry('task.updated', 2, 1, 'another-id')];
    expect(checkEvents(writes, { final, entries: sameRevision }).duplicates).toBe(1);
  });

  it('counts a revision past the final one, and a type the write contradicts, as ghosts', () => {
    const past = [...complete, entry('task.updated', 4, 3)];
    expect(checkEvents(writes, { final, entries: past })).toMatchObject({ ...zero, ghosts: 1 });
    const wrongType = [complete[0], complete[1], entry('task.updated', 3, 2)] as ActivityEntry[];
    expect(checkEvents(writes, { final, entries: wrongType })).toMatchObject({ ...zero, ghosts: 1 });
    const createdLate = [entry('task.updated', 1, 0), ...complete.slice(1)];
    expect(checkEvents(writes, { final, entries: createdLate }).ghosts).toBe(1);
  });

  it('expects no event of its own for completing a done task', () => {
    const done = task(1, { status: 'done', completedAt: at(1) });
    const patchedDone = task(2, { status: 'done', completedAt: at(1), title: 'f0 edit 2' });
    const noOp = [
      acked('create', task(0), 1),
      acked('complete', done, 2),
      acked('patch', patchedDone, 3, { title: 'f0 edit 2' }),
      acked('complete', patchedDone, 3),
    ];
    const events = [entry('task.created', 1, 0), entry('task.completed', 2, 1), entry('task.updated', 3, 2)];
    expect(checkEvents(noOp, { final: exists(patchedDone, 3), entries: events })).toMatchObject(zero);
    // A complete that did write must have its own task.completed.
    const wrongly = [acked('create', task(0), 1), acked('complete', done, 2)];
    const updated = [entry('task.created', 1, 0), entry('task.updated', 2, 1)];
    expect(checkEvents(wrongly, { final: exists(done, 2), entries: updated }).ghosts).toBe(1);
  });

  it('counts events handled out of write order', () => {
    const swapped = [complete[0], complete[2], complete[1]] as ActivityEntry[];
    expect(checkEvents(writes, { final, entries: swapped })).toMatchObject({ ...zero, outOfOrder: 1 });
  });

  it('expects task.deleted last for a deleted task', () => {
    const deleting = [acked('create', task(0), 1), acked('delete')];
    const events = [entry('task.created', 1, 0), entry('task.deleted', 2, 1)];
    expect(checkEvents(deleting, { final: gone, entries: events })).toMatchObject(zero);
    expect(checkEvents(deleting, { final: gone, entries: events.slice(0, 1) }).missing).toBe(1);
    // A deletion whose event says the task still had a revision 2 nobody saw.
    const skipped = [entry('task.created', 1, 0), entry('task.deleted', 3, 1)];
    expect(checkEvents(deleting, { final: gone, entries: skipped }).missing).toBe(1);
  });

  it('accepts the event of an ambiguous write that committed', () => {
    const ambiguous = [acked('create', task(0), 1), unavailable('patch', { title: 'f0 x' })];
    const events = [entry('task.created', 1, 0), entry('task.updated', 2, 1)];
    expect(
      checkEvents(ambiguous, { final: exists(task(1, { title: 'f0 x' }), 2), entries: events }),
    ).toMatchObject(zero);
  });
});

describe('(b) without revisions, events are matched by time and counted as unrevisioned', () => {
  const writes = [
    acked('create', task(0)),
    acked('patch', task(1, { title: 'f0 edit 1' }), undefined, { title: 'f0 edit 1' }),
  ];
  const final = exists(task(1, { title: 'f0 edit 1' }));
  const events = [entry('task.created', undefined, 0, 'a'), entry('task.updated', undefined, 1, 'b')];

  it('finds every acknowledged write but fails on the missing revisions', () => {
    const check = checkEvents(writes, { final, entries: events });
    expect(check).toMatchObject({ missing: 0, duplicates: 0, ghosts: 0, outOfOrder: 0, unrevisioned: 2 });
    expect(failures({ ...emptyTotals(), unrevisioned: check.unrevisioned }, false)).toEqual([
      'unrevisioned 2',
    ]);
  });

  it('counts a missing event, a repeated one and one no write explains', () => {
    expect(checkEvents(writes, { final, entries: events.slice(0, 1) }).missing).toBeGreaterThanOrEqual(1);
    const repeated = [...events, entry('task.updated', undefined, 1, 'c')];
    expect(checkEvents(writes, { final, entries: repeated }).duplicates).toBe(1);
    const stray = [events[0], entry('task.completed', undefined, 1, 'x'), events[1]] as ActivityEntry[];
    expect(checkEvents(writes, { final, entries: stray }).ghosts).toBe(1);
    // The same stray event is fine when an ambiguous complete could have written it.
    expect(checkEvents([...writes, unavailable('complete')], { final, entries: stray }).ghosts).toBe(0);
  });
});

describe('(c) reminders and overdue events', () => {
  const remindAt = at(30);
  const reminder = entry('task.reminder', undefined, 30, 'r1');
  const open = task(0, { remindAt });

  it('expects one notification and one task.reminder for a task open at remindAt', () => {
    const check = checkFollowUps(
      { known: open, final: exists(open) },
      { entries: [reminder], notifications: 1 },
    );
    expect(check).toEqual({ missing: 0, duplicates: 0, unexpected: 0, notes: [] });
    const none = checkFollowUps({ known: open, final: exists(open) }, { entries: [], notifications: 0 });
    expect(none.missing).toBe(2);
    const twice = checkFollowUps(
      { known: open, final: exists(open) },
      { entries: [reminder, { ...reminder, eventId: 'r2' }], notifications: 2 },
    );
    expect(twice.duplicates).toBe(2);
  });

  it('expects none for a task completed or deleted well before remindAt', () => {
    const done = task(1, { remindAt, status: 'done', completedAt: at(1) });
    const finished = { known: done, final: exists(done), finishedAt: at(1) };
    expect(checkFollowUps(finished, { entries: [], notifications: 0 }).unexpected).toBe(0);
    expect(checkFollowUps(finished, { entries: [reminder], notifications: 1 }).unexpected).toBe(2);
    const deleted = { known: open, final: gone, finishedAt: at(2) };
    expect(checkFollowUps(deleted, { entries: [], notifications: 1 }).unexpected).toBe(1);
  });

  it('accepts either outcome when the completion races remindAt', () => {
    const racing = { known: open, final: exists(task(30, { status: 'done' })), finishedAt: at(30) };
    expect(checkFollowUps(racing, { entries: [], notifications: 0 })).toMatchObject({
      missing: 0,
      unexpected: 0,
    });
    expect(checkFollowUps(racing, { entries: [reminder], notifications: 1 })).toMatchObject({
      duplicates: 0,
    });
  });

  it('expects one task.overdue for an open task past due, at most one once it is done', () => {
    const due = task(0, { dueAt: '2025-01-01T00:00:00.000Z' });
    const overdue = entry('task.overdue', undefined, 3, 'o1');
    expect(
      checkFollowUps({ known: due, final: exists(due) }, { entries: [overdue], notifications: 0 }).missing,
    ).toBe(0);
    expect(
      checkFollowUps({ known: due, final: exists(due) }, { entries: [], notifications: 0 }).missing,
    ).toBe(1);
    const done = task(1, { dueAt: due.dueAt, status: 'done' });
    expect(
      checkFollowUps({ known: done, final: exists(done) }, { entries: [], notifications: 0 }).missing,
    ).toBe(0);
    const twice = [overdue, { ...overdue, eventId: 'o2' }];
    expect(
      checkFollowUps({ known: done, final: exists(done) }, { entries: twice, notifications: 0 }).duplicates,
    ).toBe(1);
    expect(
      checkFollowUps({ known: open, final: exists(open) }, { entries: [overdue], notifications: 1 })
        .unexpected,
    ).toBe(1);
  });
});

describe('(d) responses during the fault', () => {
  it('counts 5xx other than a 503 with Retry-After, timeouts and connection errors', () => {
    const outcome = (o: Partial<WriteRecord['outcome']>) => ({ headers: {}, sentAt: 0, ms: 1, ...o });
    const check = checkResponses([
      { kind: 'create', outcome: outcome({ status: 201 }) },
      { kind: 'patch', outcome: outcome({ status: 412 }) },
      { kind: 'patch', outcome: outcome({ status: 503, headers: { 'retry-after': '2' } }) },
      { kind: 'patch', outcome: outcome({ status: 503 }) },
      { kind: 'complete', outcome: outcome({ status: 500, body: { title: 'boom' } }) },
      { kind: 'delete', outcome: outcome({ error: 'timeout' }) },
      { kind: 'delete', outcome: outcome({ error: 'refused' }) },
    ]);
    expect(check).toMatchObject({ serverErrors: 2, timeouts: 1, connectionErrors: 1, unavailable: 1 });
  });
});

function emptyTotals() {
  return evaluate([], [], new Map()).totals;
}

describe('a scenario over every task', () => {
  const plan = {
    index: 0,
    role: 'plain' as const,
    title: 'f0 created',
    priority: 'medium' as const,
    tags: [],
    ops: [],
  };

  it('checks a listed task whose ambiguous create committed, and counts a stranger as a ghost', () => {
    const runs: TaskRun[] = [{ plan, writes: [unavailable('create', { title: 'f0 created' })] }];
    const listed = [
      { id, title: 'f0 created' },
      { id: '1e8fad5b-d9cb-469f-a165-70867728950e', title: 'nobody made me' },
    ];
    const observed = new Map<string, Observed>([
      [id, { id, final: exists(task(0), 1), entries: [entry('task.created', 1, 0)], notifications: 0 }],
    ]);
    const { totals, notes } = evaluate(runs, listed.slice(0, 1), observed);
    expect(totals).toMatchObject({ tasks: 1, acked: 0, ambiguous: 1, missing: 0, ghosts: 0 });
    expect(notes).toEqual([]);
    expect(evaluate(runs, listed, observed).totals.ghosts).toBe(1);
  });

  it('fails on lost writes and missing events, and on connection errors unless the app was down', () => {
    const runs: TaskRun[] = [
      {
        plan,
        id,
        writes: [
          acked('create', task(0), 1),
          { kind: 'patch', outcome: { error: 'refused', headers: {}, sentAt: 0, ms: 1 } },
        ],
      },
    ];
    const observed = new Map<string, Observed>([[id, { id, final: gone, entries: [], notifications: 0 }]]);
    const { totals } = evaluate(runs, [], observed);
    expect(failures(totals, true)).toEqual(['lost 1', 'missing 2']);
    expect(failures(totals, false)).toEqual(['lost 1', 'missing 2', 'connectionErrors 1']);
    // pubsub.in-memory's deliveries in flight when daprd dies: allowed up to the bound, never beyond, never lost writes.
    expect(failures(totals, true, 2)).toEqual(['lost 1']);
    expect(failures(totals, true, 1)).toEqual(['lost 1', 'missing 2']);
    expect(lossAllowed('embedded', { action: 'kill', process: 'daprd' }, 2)).toBe(2);
    expect(lossAllowed('redis-kafka', { action: 'kill', process: 'daprd' }, 2)).toBe(0);
    expect(lossAllowed('embedded', { action: 'kill', process: 'app' }, 2)).toBe(0);
  });

  it('counts the deliveries behind missing events and follow-ups: one per task whose follow-ups alone are missing', () => {
    // The shape of seed 1206059904 on embedded (kill daprd): a task.created with remindAt whose activity
    // entry is there and whose reminder never came, as when daprd dies between the two steps of its
    // handling (the order onTaskEvent had then) and pubsub.in-memory does not redeliver.
    const remindAt = task(0, { remindAt: at(8) });
    const second = '1e8fad5b-d9cb-469f-a165-70867728950e';
    const runs: TaskRun[] = [
      { plan, id, writes: [acked('create', remindAt, 1), unavailable('complete')] },
      { plan, id: second, writes: [acked('create', { ...remindAt, id: second }, 1)] },
    ];
    const observed = new Map<string, Observed>([
      [id, { id, final: exists(remindAt, 1), entries: [entry('task.created', 1, 0)], notifications: 0 }],
      // The other task's task.created was lost before onTaskEvent saw it: no activity, no reminder.
      [second, { id: second, final: exists({ ...remindAt, id: second }, 1), entries: [], notifications: 0 }],
    ]);
    const { totals } = evaluate(runs, [], observed);
    expect(totals).toMatchObject({ missing: 1, followUpMissing: 4, lostDeliveries: 2 });
    expect(failures(totals, true, 2)).toEqual([]);
    expect(failures(totals, true, 1)).toEqual(['missing 1', 'followUpMissing 4']);
  });
});
