import { describe, expect, it } from 'vitest';
import { DaprError, SidecarUnreachableError } from './dapr.ts';
import { FakeDaprGateway } from './fake-dapr.ts';
import { GroupCommit, LAZY_MS } from './group-commit.ts';

interface Counter {
  n: number;
  tags: string[];
}

function counters(dapr: FakeDaprGateway) {
  return new GroupCommit<Counter>({
    dapr,
    store: 'state',
    parse: (value) => value as Counter,
    empty: () => ({ n: 0, tags: [] }),
  });
}

/** Tags a key once however often it is applied, and answers the count after it. */
const tag = (name: string) => (draft: Counter) => {
  if (!draft.tags.includes(name)) {
    draft.tags.push(name);
    draft.n += 1;
  }
  return draft.n;
};

const value = (dapr: FakeDaprGateway, key: string) => dapr.state.get(key)?.value as Counter | undefined;

describe('GroupCommit', () => {
  it('saves the changes of one moment to many keys with one bulk read and one save', async () => {
    const dapr = new FakeDaprGateway();
    const commits = counters(dapr);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, n) => commits.apply(`k${n % 4}`, tag(`t${n}`))),
    );
    // The first change has a batch to itself; the other eleven came while it was saved and share the next.
    expect(dapr.calls.get('getBulkState')).toBe(2);
    expect(dapr.calls.get('saveState')).toBe(2);
    expect(dapr.calls.get('getState')).toBeUndefined();
    expect([0, 1, 2, 3].map((n) => value(dapr, `k${n}`)?.n)).toEqual([3, 3, 3, 3]);
    expect(results.slice(0, 4)).toEqual([1, 1, 1, 1]);
  });

  it("saves again, on its own, a key another process wrote first; the batch's other keys are saved once", async () => {
    const dapr = new FakeDaprGateway();
    dapr.state.set('a', { value: { n: 1, tags: ['theirs'] }, etag: 'e1' });
    const commits = counters(dapr);
    // Another process writes `a` between this process's read and its save.
    const read = dapr.getBulkState.bind(dapr);
    let raced = false;
    dapr.getBulkState = async <T>(store: string, keys: readonly string[]) => {
      const found = await read<T>(store, keys);
      if (!raced) {
        raced = true;
        dapr.state.set('a', { value: { n: 2, tags: ['theirs', 'again'] }, etag: 'e2' });
      }
      return found;
    };
    const [a, b] = await Promise.all([commits.apply('a', tag('mine')), commits.apply('b', tag('mine'))]);
    expect(value(dapr, 'a')).toEqual({ n: 3, tags: ['theirs', 'again', 'mine'] });
    expect(value(dapr, 'b')).toEqual({ n: 1, tags: ['mine'] });
    expect([a, b]).toEqual([3, 1]);
  });

  it('applies a change once when its save was applied but its answer lost', async () => {
    const dapr = new FakeDaprGateway();
    const commits = counters(dapr);
    dapr.loseAnswerOfNextSave('a');
    expect(await commits.apply('a', tag('once'))).toBe(1);
    expect(value(dapr, 'a')).toEqual({ n: 1, tags: ['once'] });
  });

  it('fails the changes of a key the failed save did not write, and of every key when daprd did not answer', async () => {
    const dapr = new FakeDaprGateway();
    const commits = counters(dapr);
    dapr.failNext('saveState', new DaprError(500, 'ERR_STATE_SAVE', 'disk full'));
    await expect(commits.apply('a', tag('x'))).rejects.toThrow('disk full');
    expect(dapr.state.has('a')).toBe(false);

    dapr.failNext('saveState', new SidecarUnreachableError('daprd did not answer', new Error('reset')));
    const reads = dapr.calls.get('getBulkState');
    await expect(commits.apply('a', tag('x'))).rejects.toThrow('daprd did not answer');
    // No second read: a sidecar that does not answer would not answer it either.
    expect(dapr.calls.get('getBulkState')).toBe((reads ?? 0) + 1);
    expect(await commits.apply('a', tag('x'))).toBe(1);
  });

  it('lets a lazy change ride along with the next save of any key, or saves it after LAZY_MS', async () => {
    const dapr = new FakeDaprGateway();
    const commits = counters(dapr);
    const lazy = commits.apply('clean-up', tag('x'), { lazy: true });
    await commits.apply('write', tag('y'));
    await lazy;
    expect(dapr.calls.get('saveState')).toBe(1);

    const alone = commits.apply('clean-up', tag('z'), { lazy: true });
    await new Promise((resolve) => setTimeout(resolve, LAZY_MS / 2));
    expect(dapr.calls.get('saveState')).toBe(1);
    await alone;
    expect(dapr.calls.get('saveState')).toBe(2);
    expect(value(dapr, 'clean-up')?.tags).toEqual(['x', 'z']);
  });

  it('writes nothing when every change of a batch was already applied', async () => {
    const dapr = new FakeDaprGateway();
    const commits = counters(dapr);
    await commits.apply('a', tag('x'));
    expect(await commits.apply('a', tag('x'))).toBe(1);
    expect(dapr.calls.get('saveState')).toBe(1);
  });
});
