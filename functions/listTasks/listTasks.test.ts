import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, SHARDS } from '../../tasks/task-index.ts';
import { createTestApp } from '../../tasks/testing.ts';
import { createTask } from '../createTask/index.ts';
import { deleteTask } from '../deleteTask/index.ts';
import { listTasks } from './index.ts';

async function walk(call: ReturnType<typeof createTestApp>['call'], query: string) {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await call('GET', `/tasks?${query}${suffix}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
    seen.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 1000);
  return { seen, pages };
}

describe('listTasks', () => {
  it('pages through more tasks than an index page holds, each exactly once, in creation order', async () => {
    const { call } = createTestApp([createTask, listTasks]);
    const ids: string[] = [];
    for (let n = 0; n < SHARDS * PAGE_SIZE + 37; n++)
      ids.push((await (await call('POST', '/tasks', { title: `t${n}` })).json()).id);
    // 37 does not divide the index page size, so some pages of results span two index pages.
    const { seen, pages } = await walk(call, 'limit=37');
    expect(seen).toEqual(ids);
    expect(pages).toBe(Math.ceil(ids.length / 37));
  });

  it('a create whose index append was applied but answered with an error is listed once', async () => {
    const { call, dapr } = createTestApp([createTask, listTasks]);
    const first = (await (await call('POST', '/tasks', { title: 'a' })).json()).id;
    // Whichever shard the id falls in, the save of its index entry is applied and its answer lost.
    for (let shard = 0; shard < SHARDS; shard++) dapr.loseAnswerOfNextSave(`task-index|${shard}`);
    const second = (await (await call('POST', '/tasks', { title: 'b' })).json()).id;
    expect((await walk(call, 'limit=10')).seen).toEqual([first, second]);
  });

  it('filters by status, tag and dueBefore and skips deleted tasks', async () => {
    const { call } = createTestApp([createTask, listTasks, deleteTask]);
    const make = async (body: object) => (await (await call('POST', '/tasks', body)).json()).id as string;
    const early = await make({ title: 'early', tags: ['x'], dueAt: '2026-12-01T00:00:00Z' });
    const late = await make({ title: 'late', tags: ['x'], dueAt: '2027-01-01T00:00:00Z' });
    const gone = await make({ title: 'gone', tags: ['x'] });
    await make({ title: 'other', tags: ['y'] });
    await call('DELETE', `/tasks/${gone}`);
    expect((await walk(call, 'tag=x')).seen).toEqual([early, late]);
    expect((await walk(call, 'dueBefore=2026-12-15T00:00:00%2B00:00')).seen).toEqual([early]);
    expect((await walk(call, 'status=done')).seen).toEqual([]);
  });

  it('rejects a cursor it did not issue', async () => {
    const { call } = createTestApp([listTasks]);
    const response = await call('GET', '/tasks?cursor=garbage');
    expect(response.status).toBe(400);
    expect((await response.json()).detail).toMatch(/cursor/);
  });
});
