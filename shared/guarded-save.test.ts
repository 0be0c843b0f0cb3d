import { describe, expect, it } from 'vitest';
import { DaprError } from './dapr.ts';
import { FakeDaprGateway } from './fake-dapr.ts';
import { saveWithEtag, trySave } from './guarded-save.ts';

describe.each(['conflict', 'store-error'] as const)(
  'guarded saves when a stale etag is reported as a %s',
  (mode) => {
    it('20 concurrent increments of one key lose none', async () => {
      const dapr = new FakeDaprGateway();
      dapr.staleEtagAs = mode;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          saveWithEtag<number>(dapr, 'statestore', 'counter', (current) => (current?.value ?? 0) + 1),
        ),
      );
      expect(dapr.state.get('counter')?.value).toBe(20);
    });

    it('trySave says false for a lost race and true for a write', async () => {
      const dapr = new FakeDaprGateway();
      dapr.staleEtagAs = mode;
      expect(await trySave(dapr, 's', { key: 'k', value: 1, options: { concurrency: 'first-write' } })).toBe(
        true,
      );
      expect(await trySave(dapr, 's', { key: 'k', value: 2, options: { concurrency: 'first-write' } })).toBe(
        false,
      );
      expect(await trySave(dapr, 's', { key: 'k', value: 3, etag: 'stale' })).toBe(false);
      expect(dapr.state.get('k')?.value).toBe(1);
    });
  },
);

it('trySave throws a failure that is not a lost race', async () => {
  const dapr = new FakeDaprGateway();
  dapr.failNext('saveState', new DaprError(500, 'ERR_STATE_SAVE', 'connection refused'));
  await expect(trySave(dapr, 's', { key: 'k', value: 1 })).rejects.toThrow('connection refused');
});
