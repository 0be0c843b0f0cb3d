import { describe, expect, it } from 'vitest';
import { FakeDaprGateway } from '../shared/fake-dapr.ts';
import { readDeadLetters, recordDeadLetter } from './dead-letters.ts';

const letter = (eventId: string, data: unknown) => ({
  eventId,
  type: 'task.created',
  receivedAt: '2026-11-27T10:00:00.000Z',
  data,
});

describe('dead letters', () => {
  it('keeps the data as JSON cut at 2 KiB', async () => {
    const dapr = new FakeDaprGateway();
    await recordDeadLetter(dapr, 'statestore', letter('e1', { title: 'x'.repeat(5000) }));
    const [kept] = await readDeadLetters(dapr, 'statestore');
    expect(kept?.data).toBe(JSON.stringify({ title: 'x'.repeat(5000) }).slice(0, 2048));
  });

  it('keeps a dead letter whose data is nested deeper than JSON.stringify can go', async () => {
    const dapr = new FakeDaprGateway();
    const deep = JSON.parse(`${'['.repeat(100_000)}0${']'.repeat(100_000)}`);
    expect(await recordDeadLetter(dapr, 'statestore', letter('e1', deep))).toBe(true);
    const [kept] = await readDeadLetters(dapr, 'statestore');
    expect(kept?.eventId).toBe('e1');
    expect(JSON.parse(kept?.data ?? '')).toMatch(/too deep/);
  });
});
