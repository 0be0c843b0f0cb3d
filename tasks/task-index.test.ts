import { describe, expect, it } from 'vitest';
import { FakeDaprGateway } from '../shared/fake-dapr.ts';
import { shardOf } from '../shared/group-commit.ts';
import {
  CACHED_SEALED_PAGES,
  CURSOR_PATTERN,
  decodeCursor,
  encodeCursor,
  OPEN_PAGE_TRUST_MS,
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
    const walk = index.walk(positions);
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

  it('a first page reads no index key while the process has lately seen its pages sealed', async () => {
    const dapr = new FakeDaprGateway();
    let now = 0;
    const index = new TaskIndex(dapr, 'statestore', 50, () => now);
    const ids = Array.from({ length: SHARDS * PAGE_SIZE * 3 }, (_, n) => idOf(n));
    for (const id of ids) await index.append(id);
    const firstPage = async (of: TaskIndex) => {
      const before = dapr.bulkKeysRead;
      const taken = await of.walk(startOfIndex()).next(50);
      return { ids: taken.map(({ id }) => id), keysRead: dapr.bulkKeysRead - before };
    };
    // This process has not read an open page yet: the open pages, then the sealed pages 0.
    expect(await firstPage(index)).toEqual({ ids: ids.slice(0, 50), keysRead: 2 * SHARDS });
    expect(await firstPage(index)).toEqual({ ids: ids.slice(0, 50), keysRead: 0 });
    expect(await walkAll(index, 37)).toEqual(ids);
    // Past OPEN_PAGE_TRUST_MS the open pages are read again; the sealed pages 0 are still in memory.
    now += OPEN_PAGE_TRUST_MS;
    expect(await firstPage(index)).toEqual({ ids: ids.slice(0, 50), keysRead: SHARDS });
    expect(await firstPage(new TaskIndex(dapr, 'statestore', 50, () => now))).toEqual({
      ids: ids.slice(0, 50),
      keysRead: 2 * SHARDS,
    });
  });

  it('a walk reaches ids appended after its process last read the open pages', async () => {
    const dapr = new FakeDaprGateway();
    let now = 0;
    const index = new TaskIndex(dapr, 'statestore', 50, () => now);
    const ids = Array.from({ length: SHARDS * PAGE_SIZE * 2 }, (_, n) => idOf(n));
    for (const id of ids.slice(0, SHARDS * PAGE_SIZE)) await index.append(id);
    expect(await walkAll(index, 100)).toEqual(ids.slice(0, SHARDS * PAGE_SIZE));
    // More pages are sealed after this process last read the open pages: the walk reads them when it gets there.
    for (const id of ids.slice(SHARDS * PAGE_SIZE)) await index.append(id);
    expect(await walkAll(index, 100)).toEqual(ids);
    // A store emptied under a running process: once the open pages are read again, its memory of them is gone.
    dapr.state.clear();
    const fresh = ids.slice(0, 30).map((id) => id.replace('-7000-', '-7001-'));
    for (const id of fresh) await index.append(id);
    now += OPEN_PAGE_TRUST_MS;
    expect(await walkAll(index, 100)).toEqual(fresh);
    // A cursor past a shard's open page is the end of that shard.
    const far = startOfIndex().map(() => ({ p: 99, i: 0 }));
    expect(await index.walk(far).next(10)).toEqual([]);
  });

  it('a page it trusts to be sealed but that is gone from the store sends the walk to the open page, not to an error', async () => {
    const dapr = new FakeDaprGateway();
    const index = new TaskIndex(dapr, 'statestore', 50, () => 0);
    // More sealed pages than the process keeps (a page holds about PAGE_SIZE ids when appends come a few at a time), so the first ones are read from the store again.
    const ids = Array.from({ length: (CACHED_SEALED_PAGES / SHARDS + 8) * SHARDS * PAGE_SIZE }, (_, n) =>
      idOf(n),
    );
    for (let n = 0; n < ids.length; n += 16)
      await Promise.all(ids.slice(n, n + 16).map((id) => index.append(id)));
    const sealedPages = [...dapr.state.keys()].filter((key) => /^task-index\|\d+\|\d+$/.test(key));
    expect(sealedPages.length).toBeGreaterThan(CACHED_SEALED_PAGES);
    expect(await walkAll(index, 100)).toEqual(ids);
    dapr.state.clear();
    const fresh = ids.slice(0, 30).map((id) => id.replace('-7000-', '-7001-'));
    for (const id of fresh) await index.append(id);
    expect(await walkAll(index, 100)).toEqual(fresh);
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
