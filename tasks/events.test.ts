import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { allFunctions, apps } from '../apps.ts';
import { eventMessageSchema } from '../shared/asyncapi.ts';
import { TASK_EVENTS_DLQ, taskEventTopic, taskEventTypes } from './events.ts';
import { reminderJobName } from './reminders.ts';
import { createTestApp } from './testing.ts';

const declared = taskEventTopic;
/** One parser for the file: making one loads its rulesets (about a third of a parse). */
const parser = new Parser();
/** Parsing with every rule takes 0.3 s a document alone, several seconds on a loaded machine. */
const PARSE_BUDGET_MS = 60_000;

async function asyncApi(functions: Parameters<typeof createTestApp>[0]) {
  const response = await createTestApp(functions).raw('/asyncapi.json');
  expect(response.status).toBe(200);
  return response.json();
}

describe('GET /asyncapi.json (the Task API)', () => {
  it(
    'describes task-events and its dead-letter topic, valid for @asyncapi/parser, in every bundle',
    async () => {
      for (const [name, functions] of [['all', allFunctions] as const, ...Object.entries(apps)]) {
        const document = await asyncApi(functions);
        const { diagnostics } = await parser.parse(JSON.stringify(document));
        expect(
          diagnostics.filter((d) => d.severity <= 1).map((d) => `${name}: ${d.path.join('/')}: ${d.message}`),
        ).toEqual([]);
        const publishes = functions.some((fn) =>
          declared.messages.some((message) => message.publishers.includes(fn.name)),
        );
        expect(Object.keys(document.operations).includes('publish-task-events'), name).toBe(publishes);
      }
      const all = await asyncApi(allFunctions);
      expect(Object.keys(all.channels).sort()).toEqual(['task-events', TASK_EVENTS_DLQ]);
      expect(Object.keys(all.channels['task-events'].messages)).toEqual([...taskEventTypes]);
      expect(Object.keys(all.operations).sort()).toEqual([
        'onDeadLetter',
        'onTaskEvent',
        'publish-task-events',
      ]);
    },
    PARSE_BUDGET_MS,
  );

  it('names only functions of the app as publishers, and every type once', () => {
    const names = new Set(allFunctions.map((fn) => fn.name));
    expect(declared.messages.flatMap((m) => m.publishers).filter((name) => !names.has(name))).toEqual([]);
    expect(declared.messages.map((m) => m.type)).toEqual([...taskEventTypes]);
  });

  it('holds every event the functions publish: each envelope parses with its type’s schema', async () => {
    const app = createTestApp(allFunctions);
    app.setNow('2026-11-27T10:00:00.000Z');
    const task = await (
      await app.call('POST', '/tasks', {
        title: 'pay the invoice',
        dueAt: '2026-11-27T10:01:00Z',
        remindAt: '2026-11-27T10:00:30Z',
      })
    ).json();
    await app.call('PATCH', `/tasks/${task.id}`, { title: 'pay the invoice today' });
    // Due index: onTaskEvent keeps it from the events, the sweep finds the task overdue.
    for (const published of [...app.dapr.published])
      await app.fromDaprd('/events/onTaskEvent', published.envelope);
    await app.fromDaprd(`/job/${reminderJobName(task.id)}`, {
      taskId: task.id,
      remindAt: '2026-11-27T10:00:30.000Z',
      version: (await (await app.call('GET', `/tasks/${task.id}`)).json()).updatedAt,
    });
    app.advance(5 * 60_000);
    expect((await app.fromDaprd('/overdue-sweep')).status).toBe(200);
    await app.call('POST', `/tasks/${task.id}/complete`);
    await app.call('DELETE', `/tasks/${task.id}`);

    const events = app.dapr.published;
    expect(events.map((p) => p.envelope?.type)).toEqual([
      'task.created',
      'task.updated',
      'task.reminder',
      'task.overdue',
      'task.completed',
      'task.deleted',
    ]);
    for (const { topic, envelope, metadata } of events) {
      expect(topic).toBe(declared.topic);
      const message = declared.messages.find((m) => m.type === envelope?.type);
      if (!message) throw new Error(`${String(envelope?.type)} is not declared`);
      const parsed = eventMessageSchema(message).safeParse(envelope);
      expect(parsed.error?.issues ?? [], String(envelope?.type)).toEqual([]);
      // The key the document names: the task id.
      expect(metadata.partitionKey).toBe(task.id);
    }
  });
});
