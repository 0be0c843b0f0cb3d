import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateTaskBody, UpdateTaskBody } from '../../tasks/tasks.ts';
import { newSeed, Random } from '../faults/prng.ts';
import { api, eventually, stack, storedActivity } from './client.ts';

/**
 * Accepted input never poisons the pipeline: bodies generated at the edges of
 * what the zod schemas take (lengths, unicode, instants from 1970 to 2999 in
 * any offset, reminders a few seconds ahead, due dates long past) are
 * created, changed, completed and deleted on the real stack, and every event
 * of every write is then handled by onTaskEvent with SUCCESS (its history
 * holds each revision once), with nothing dead-lettered, dropped or retried
 * for those tasks. ACCEPTED_SEED replays a run.
 */
const TASKS = 24;

const texts = {
  /** Strings that are valid at each length bound, with characters that trip encodings. */
  title: (r: Random) =>
    r.pick([
      () => 'x',
      () => '📝'.repeat(200),
      () => `  ${'ñ'.repeat(r.int(1, 198))}`,
      () => '\u001c',
      () => 'مهمة \u202e reversed \u0000 nul',
      () => '\ud800 lone surrogate',
      () => 'a'.repeat(200),
      () => '"quoted" <b>html</b> {"json":1} \\ back',
    ])(),
  description: (r: Random) => r.pick(['', '🧾'.repeat(4000), 'line\nbreak\r\n\ttab', '\u0000'.repeat(10)]),
  tag: (r: Random) => r.pick(['a', 'ü'.repeat(50), '仕事', 'q4:done', 'x_y.z-1', '٣']),
};

/** Instants the input schema takes, biased to its edges and to the next few seconds. */
function instant(r: Random, now: number): string {
  const offset = () =>
    `${r.pick(['+', '-'])}${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}`;
  return r.pick([
    () => '1970-01-01T00:00:00+23:59',
    () => '1970-01-01T00:00:00Z',
    () => '2999-12-31T23:59:59.999999-23:59',
    () => '2999-12-31T23:59:59Z',
    () => '2028-02-29T12:00:00+05:30',
    () => '2100-01-01T00:00:00Z',
    () => new Date(now - r.int(60, 10 * 365 * 86400) * 1000).toISOString(),
    () => new Date(now + r.int(2, 8) * 1000).toISOString().replace('Z', '+00:00'),
    () => `${new Date(now + 86400_000).toISOString().slice(0, 19)}.${'9'.repeat(r.int(1, 9))}${offset()}`,
  ])();
}

function createBody(r: Random, now: number): unknown {
  const body: Record<string, unknown> = { title: texts.title(r) };
  if (r.chance(0.5)) body.description = texts.description(r);
  if (r.chance(0.7)) body.priority = r.pick(['low', 'medium', 'high']);
  if (r.chance(0.7)) body.dueAt = instant(r, now);
  if (r.chance(0.7)) body.remindAt = instant(r, now);
  if (r.chance(0.7)) body.tags = Array.from({ length: r.pick([0, 1, 20]) }, () => texts.tag(r));
  return body;
}

function updateBody(r: Random, now: number): unknown {
  const body: Record<string, unknown> = {};
  if (r.chance(0.4)) body.title = texts.title(r);
  if (r.chance(0.4)) body.description = r.chance(0.3) ? null : texts.description(r);
  if (r.chance(0.4)) body.dueAt = r.chance(0.3) ? null : instant(r, now);
  if (r.chance(0.5)) body.remindAt = r.chance(0.3) ? null : instant(r, now);
  if (r.chance(0.3)) body.tags = [texts.tag(r)];
  if (Object.keys(body).length === 0) body.priority = r.pick(['low', 'medium', 'high']);
  return body;
}

describe('accepted input never poisons the pipeline', () => {
  it('every event of every accepted write is handled with SUCCESS', async () => {
    const seed = Number(process.env.ACCEPTED_SEED ?? newSeed());
    const r = new Random(seed);
    const now = Date.now();
    console.log(`[accepted-input] seed ${seed} (ACCEPTED_SEED=${seed} replays), ${TASKS} tasks`);

    // The generator's bodies are ones the schemas accept: otherwise this would test nothing.
    const tasks: Array<{ id: string; revisions: number }> = [];
    for (let n = 0; n < TASKS; n++) {
      const body = createBody(r, now);
      expect(CreateTaskBody.safeParse(body).success, JSON.stringify(body)).toBe(true);
      const created = await api('POST', '/tasks', body);
      expect(created.status, `seed ${seed}: POST ${JSON.stringify(body)}`).toBe(201);
      const task = { id: (await created.json()).id as string, revisions: 1 };
      tasks.push(task);
      for (let changes = r.int(0, 2); changes > 0; changes--) {
        const change = updateBody(r, now);
        expect(UpdateTaskBody.safeParse(change).success, JSON.stringify(change)).toBe(true);
        const updated = await api('PATCH', `/tasks/${task.id}`, change);
        expect(updated.status, `seed ${seed}: PATCH ${JSON.stringify(change)}`).toBe(200);
        // A PATCH that changes nothing is no write.
        if (updated.headers.get('etag') === `"${task.revisions + 1}"`) task.revisions += 1;
      }
      if (r.chance(0.3)) {
        expect((await api('POST', `/tasks/${task.id}/complete`)).status).toBe(200);
        task.revisions += 1;
      }
      if (r.chance(0.25)) {
        expect((await api('DELETE', `/tasks/${task.id}`)).status).toBe(204);
        task.revisions += 1;
      }
    }

    // Each task's history: one entry per revision, the revisions in order (reminders and overdue add others).
    for (const task of tasks) {
      const writes = await eventually(
        async () => (await storedRevisions(task.id)).length,
        (count) => count >= task.revisions,
        60_000,
      );
      expect(writes, `seed ${seed}: task ${task.id}`).toBe(task.revisions);
      expect(await storedRevisions(task.id)).toEqual(Array.from({ length: task.revisions }, (_, i) => i + 1));
    }
    // Reminders a few seconds ahead have come due by now; give their jobs a moment to run.
    await new Promise((resolve) => setTimeout(resolve, 10_000));

    const ids = new Set(tasks.map((t) => t.id));
    const letters = (await (await api('GET', '/dead-letters')).json()).items as Array<{ subject?: string }>;
    expect(letters.filter((l) => l.subject && ids.has(l.subject))).toEqual([]);
    const troubles = (await readFile(join(stack().logDir, 'app.log'), 'utf8'))
      .split('\n')
      .filter((line) => /"level":"(warn|error)"/.test(line) && [...ids].some((id) => line.includes(id)));
    expect(troubles, `seed ${seed}`).toEqual([]);
  });
});

async function storedRevisions(id: string): Promise<number[]> {
  return (await storedActivity(id)).flatMap((e) => (e.revision === undefined ? [] : [e.revision]));
}
