import { describe, expect, it } from 'vitest';
import { FakeDaprGateway } from '../shared/fake-dapr.ts';
import { bucketKey, DueIndex } from './due-index.ts';

const now = new Date('2026-11-27T10:00:00.000Z');
const id = '6d1f3e43-5e0b-4a4b-9a53-000000000001';

describe('due index', () => {
  it('keeps a bucket a week after its minute', async () => {
    const dapr = new FakeDaprGateway();
    const saved: Array<Record<string, string> | undefined> = [];
    const save = dapr.saveState.bind(dapr);
    dapr.saveState = async (store, items) => {
      saved.push(...items.map((item) => item.metadata));
      await save(store, items);
    };
    await new DueIndex(dapr, 'statestore').add(id, '2026-11-28T10:00:00.000Z', now);
    expect(saved[0]).toEqual({ ttlInSeconds: String(24 * 3600 + 60 + 7 * 24 * 3600) });
  });

  it('indexes a due date further ahead than a state TTL can reach (2^31 s), with no TTL', async () => {
    const dapr = new FakeDaprGateway();
    const index = new DueIndex(dapr, 'statestore');
    await index.add(id, '9999-12-31T23:59:59.999Z', now);
    const bucket = bucketKey(Math.floor(Date.parse('9999-12-31T23:59:59.999Z') / 60_000));
    expect(dapr.state.get(bucket)?.value).toEqual({ entries: [{ id, dueAt: '9999-12-31T23:59:59.999Z' }] });
  });
});
