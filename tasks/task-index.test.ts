import { describe, expect, it } from 'vitest';
import { FakeDaprGateway } from '../shared/fake-dapr.ts';
import { shardOf } from '../shared/group-commit.ts';
import {
  CURSOR_PATTERN,
  decodeCursor,
  encodeCursor,
  PAGE_SIZE,
  SHARDS,
  type ShardPosition,
  startOfIndex,
  TaskIndex,
} from './task-index.ts';

/** Ids in creation order, as UUIDv7 ids sort. */
const idOf = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

/** Every id from the start, `chunk` at a time, each walk resumed from the cursor of the last. */
async function walkAll(index: TaskIndex, chunk: number, between?: () => Promise<void>) {
  let positions: ShardPosition[] = startOfIndex();
  const seen: string[] = [];
  for (;;) {
    const walk = await index.walk(positions);
    const taken = await walk.next(chunk);
    for (const { id, shard, after } of taken) {
      seen.push(id);
      positions[shard] = after;
    }
    positions = decodeCursor(encodeCursor(positions));
    if (await walk.atEnd()) return seen;
    await between?.();
  }
}

/** Counts the saves of each key. */
function countSaves(dapr: FakeDaprGateway) {
  const saves = new Map<string, number>();
  const save = dapr.saveState.bind(dapr);
  dapr.saveState = async (store, items) => {
    for (const { key } of items) saves.set(key, (saves.get(key) ?? 0) + 1);
    return save(store, items);
  };
  return saves;
}

describe('TaskIndex', () => {
  it('gives every id back exactly once, merged into creation order across shards and pages', async () => {
    const dapr = new FakeDaprGateway();
    const index = new TaskIndex(dapr, 'statestore');
    const ids = Array.from({ length: SHARDS * PAGE_SIZE * 3 + 17 }, (_, n) => idOf(n));
    for (const id of ids) await index.append(id);
    // Pages were sealed in every shard.
    expect([...dapr.state.keys()].filter((key) => /^task-index\|\d+\|\d+$/.test(key)).length).toBeGreaterThan(
      SHARDS,
    );
    for (const chunk of [1, 37, 100]) expect(await walkAll(index, chunk)).toEqual(ids);
  });

  it('a walk while creates go on returns every id that was there once, and no id twice', async () => {
    const dapr = new FakeDaprGateway();
    const index = new TaskIndex(dapr, 'statestore');
    const before = Array.from({ length: SHARDS * PAGE_SIZE + 5 }, (_, n) => idOf(n));
    await Promise.all(before.map((id) => index.append(id)));
    let next = before.length;
    let rounds = 0;
    const seen = await walkAll(index, 23, async () => {
      // 40 creates between two pages of the walk, for its first 20 pages.
      if (rounds++ < 20) await Promise.all(Array.from({ length: 40 }, () => index.append(idOf(next++))));
    });
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(before));
  });

  it('no key is written by every create: appends share a save per shard, spread over the shards', async () => {
    const dapr = new FakeDaprGateway();
    const saves = countSaves(dapr);
    const index = new TaskIndex(dapr, 'statestore');
    const creates = 640;
    // 64 creates at a time, as 64 clients of one replica would make them.
    for (let n = 0; n < creates; n += 64)
      await Promise.all(Array.from({ length: 64 }, (_, k) => index.append(idOf(n + k))));
    const busiest = Math.max(...saves.values());
    expect(busiest).toBeLessThan(creates / 4);
    const total = [...saves.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(creates / 2);
  });

  it('an append whose save was applied but answered with an error is there once, also when it filled its page', async () => {
    const dapr = new FakeDaprGateway();
    const index = new TaskIndex(dapr, 'statestore');
    // Ids of one shard only, so the lost answer falls on the save that fills the page.
    const ids: string[] = [];
    for (let n = 0; ids.length < PAGE_SIZE + 3; n++) if (shardOf(idOf(n), SHARDS) === 0) ids.push(idOf(n));
    for (const id of ids.slice(0, PAGE_SIZE - 1)) await index.append(id);
    dapr.loseAnswerOfNextSave('task-index|0');
    await index.append(ids[PAGE_SIZE - 1] as string);
    for (const id of ids.slice(PAGE_SIZE)) await index.append(id);
    expect(await walkAll(index, 10)).toEqual(ids);
  });

  it('two replicas appending to one shard at once lose no id and repeat none', async () => {
    const dapr = new FakeDaprGateway();
    const [one, two] = [new TaskIndex(dapr, 'statestore'), new TaskIndex(dapr, 'statestore')];
    const ids = Array.from({ length: 600 }, (_, n) => idOf(n));
    await Promise.all(ids.map((id, n) => (n % 2 ? one : two).append(id)));
    const seen = await walkAll(one, 50);
    expect([...seen].sort()).toEqual(ids);
  });

  it('a cursor is a place in every shard; any string of its shape is one, others are a 400', () => {
    const positions = startOfIndex().map((_, n) => ({ p: n, i: 2 * n }));
    const cursor = encodeCursor(positions);
    expect(cursor).toMatch(CURSOR_PATTERN);
    expect(decodeCursor(cursor)).toEqual(positions);
    for (const bad of ['garbage', '0.0', `${cursor}_0.0`, cursor.replace('.', ',')])
      expect(() => decodeCursor(bad)).toThrow(/cursor/);
  });
});
