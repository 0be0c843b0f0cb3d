import { describe, expect, it } from 'vitest';
import { SidecarUnreachableError } from '../../shared/dapr.ts';
import { createTestApp, outboxIntents } from '../../tasks/testing.ts';
import { createTask } from './index.ts';

describe('createTask', () => {
  it('stores the task and, after the save, publishes task.created keyed by its id', async () => {
    const { call, dapr } = createTestApp([createTask]);
    const response = await call('POST', '/tasks', {
      title: '  Write the report ',
      dueAt: '2026-12-01T10:00:00+02:00',
      tags: ['work', 'work', 'q4'],
    });
    expect(response.status).toBe(201);
    const task = await response.json();
    expect(task).toMatchObject({
      title: 'Write the report',
      status: 'open',
      priority: 'medium',
      dueAt: '2026-12-01T08:00:00.000Z',
      tags: ['work', 'q4'],
    });
    expect(response.headers.get('location')).toBe(`/tasks/${task.id}`);
    // The ETag is the task's revision: 1 when created.
    expect(response.headers.get('etag')).toBe('"1"');
    expect(dapr.published).toHaveLength(1);
    expect(dapr.published[0]?.metadata).toEqual({ partitionKey: task.id });
    expect(dapr.published[0]?.cloudEvent).toMatchObject({
      id: `${task.id}:1`,
      type: 'task.created',
      subject: task.id,
      time: task.updatedAt,
      extensions: { seq: '1' },
      data: task,
    });
    // Once published, the intent index no longer names the record; the record keeps its newest event
    // until the next write leaves it out (no write is spent taking it out).
    expect(dapr.state.get(`task|${task.id}`)?.value).toMatchObject({
      revision: 1,
      task,
      outbox: [{ seq: 1 }],
    });
    expect(outboxIntents(dapr)).toEqual([]);
  });

  it('answers 503 with Retry-After and writes nothing when the sidecar fails', async () => {
    const { call, dapr } = createTestApp([createTask]);
    dapr.failNext(
      'saveState',
      new SidecarUnreachableError('daprd did not answer', new TypeError('fetch failed')),
    );
    const response = await call('POST', '/tasks', { title: 'x' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect([...dapr.state.keys()].filter((k) => k.startsWith('task|'))).toEqual([]);
    expect(dapr.published).toEqual([]);
  });
});

/** What a JSON Schema validator reads in the document is what the server does. */
describe('createTask input, as the document states it', () => {
  it.each([
    ['a title of 200 emoji (400 UTF-16 units, 200 code points)', { title: '📝'.repeat(200) }, 201],
    ['a title of 201 code points', { title: 'a'.repeat(201) }, 400],
    ['a title of one U+001C (not a space to String.prototype.trim)', { title: '\u001c' }, 201],
    ['a title of one vertical tab (a space)', { title: '\u000b' }, 400],
    ['a title of one U+FEFF (a space to trim)', { title: '\ufeff' }, 400],
    ['unicode tags', { title: 'x', tags: ['arbeit', 'работа', '仕事', 'q4:done'] }, 201],
    ['a tag with a space', { title: 'x', tags: ['two words'] }, 400],
    ['a tag with a control character', { title: 'x', tags: ['a\u0007'] }, 400],
    ['a tag of emoji and punctuation', { title: 'x', tags: ['🚀', '#1!', 'a/b'] }, 201],
    [
      'a due date in 2999, 23:59 behind UTC (year 3000 in UTC)',
      { title: 'x', dueAt: '2999-12-31T23:59:59-23:59' },
      201,
    ],
    [
      'a due date in 1970, ahead of UTC (1969 in UTC)',
      { title: 'x', dueAt: '1970-01-01T00:00:00+01:00' },
      201,
    ],
    ['a due date in 9999 (year 10000 in UTC)', { title: 'x', dueAt: '9999-12-31T23:59:59-23:59' }, 400],
    ['a due date in 1969', { title: 'x', dueAt: '1969-12-31T23:59:59Z' }, 400],
    ['a leap second', { title: 'x', remindAt: '2026-12-31T23:59:60Z' }, 400],
    ['a lower-case t', { title: 'x', remindAt: '2026-12-01t09:00:00Z' }, 400],
  ])('%s: %i', async (_name, body, status) => {
    const { call } = createTestApp([createTask]);
    expect((await call('POST', '/tasks', body)).status).toBe(status);
  });

  it('states its patterns in plain ECMA-262, no JavaScript flags', async () => {
    const { raw } = createTestApp([createTask]);
    const document = await (await raw('/openapi.json')).json();
    const { title, tags } = document.components.schemas.CreateTask.properties;
    expect(tags.items.pattern).not.toMatch(/\\p\{/);
    for (const pattern of [title.pattern, tags.items.pattern])
      expect(() => new RegExp(pattern, 'u')).not.toThrow();
    expect(new RegExp(title.pattern, 'u').test('\u000b')).toBe(false);
  });
});
