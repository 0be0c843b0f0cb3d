import { describe, expect, it } from 'vitest';
import { DaprError, SidecarUnreachableError } from '../shared/dapr.ts';
import { FakeDaprGateway } from '../shared/fake-dapr.ts';
import { LAZY_MS } from '../shared/group-commit.ts';
import { silentLogger } from '../shared/log.ts';
import { Outbox, type OutboxEvent } from './outbox.ts';
import { outboxIntents } from './testing.ts';

/** A record as the outbox sees it: a revision and its pending events (the Task record's shape, minus the task). */
interface Doc {
  revision: number;
  outbox: OutboxEvent[];
}

function outboxOn(dapr: FakeDaprGateway) {
  return new Outbox<Doc>({
    dapr,
    store: 'statestore',
    pubsub: 'pubsub',
    topic: 'events',
    source: 'test',
    log: silentLogger,
    shards: 4,
    records: {
      pending: (doc) => doc.outbox,
      seq: (doc) => doc.revision,
      parse: (value) => value as Doc,
    },
  });
}

const event = (subject: string, seq: number): OutboxEvent => ({
  id: `${subject}:${seq}`,
  type: 'changed',
  subject,
  time: new Date(seq * 1000).toISOString(),
  seq,
  data: { seq },
});

/** One write as TaskStore makes it: intent, save with the events the intent says may be pending, publish. */
async function write(outbox: Outbox<Doc>, dapr: FakeDaprGateway, key: string, seq: number, publish = true) {
  const current = dapr.state.get(key)?.value as Doc | undefined;
  const from = await outbox.intend(key, seq);
  const pending = [...(current?.outbox ?? []), event(key, seq)].filter((e) => e.seq >= from);
  const doc: Doc = { revision: seq, outbox: pending };
  await dapr.saveState('statestore', [{ key, value: doc }]);
  if (publish) await outbox.publish(key, doc.outbox);
}

const stored = (dapr: FakeDaprGateway, key: string) => dapr.state.get(key)?.value as Doc;
const publishedIds = (dapr: FakeDaprGateway) => dapr.published.map((p) => p.cloudEvent?.id);
const intents = outboxIntents;

describe('Outbox', () => {
  it('publishes a record’s events after its save, keyed by subject; the next write leaves the published out', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    await write(outbox, dapr, 'a', 1);
    await write(outbox, dapr, 'a', 2);
    await outbox.settled();
    expect(publishedIds(dapr)).toEqual(['a:1', 'a:2']);
    expect(dapr.published.every((p) => p.metadata.partitionKey === 'a')).toBe(true);
    expect(dapr.published[1]?.cloudEvent?.extensions).toEqual({ seq: '2' });
    // No write takes a published event out: the record keeps its newest until the next write drops it.
    expect(stored(dapr, 'a').outbox.map((e) => e.seq)).toEqual([2]);
    expect(intents(dapr)).toEqual([]);
  });

  it('a write that began before the previous publish was recorded does not publish that event again', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    // Two writes of one record in flight: the second announces itself while the first's event is still out.
    const from2 = await outbox.intend('a', 2);
    const from3 = await outbox.intend('a', 3);
    expect([from2, from3]).toEqual([2, 2]);
    await dapr.saveState('statestore', [{ key: 'a', value: { revision: 2, outbox: [event('a', 2)] } }]);
    expect(await outbox.publish('a', [event('a', 2)])).toBe(true);
    // The second save still holds event 2 (its intent said it may be pending); its publish skips it.
    const held = [event('a', 2), event('a', 3)];
    await dapr.saveState('statestore', [{ key: 'a', value: { revision: 3, outbox: held } }]);
    expect(await outbox.publish('a', held)).toBe(true);
    await outbox.settled();
    expect(publishedIds(dapr)).toEqual(['a:2', 'a:3']);
    expect(intents(dapr)).toEqual([]);
  });

  it('a crash after the save leaves the event to the sweep, which publishes it once the grace has passed', async () => {
    const dapr = new FakeDaprGateway();
    // The writer saves and dies before it publishes.
    await write(outboxOn(dapr), dapr, 'a', 1, false);
    expect(intents(dapr)).toEqual(['a']);
    // Another process (a restarted app) sweeps.
    const survivor = outboxOn(dapr);
    expect(await survivor.sweep(Date.now())).toEqual({ published: 0, released: 0 });
    expect(await survivor.sweep(Date.now() + 3000)).toEqual({ published: 1, released: 1 });
    expect(publishedIds(dapr)).toEqual(['a:1']);
    await survivor.settled();
    expect(intents(dapr)).toEqual([]);
    // A sweep finds nothing more to do.
    expect(await survivor.sweep(Date.now() + 6000)).toEqual({ published: 0, released: 0 });
  });

  it('a failed publish (daprd gone) keeps the event in the record; the next write publishes both, in order', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    dapr.failNext(
      'publishCloudEvent',
      new SidecarUnreachableError('daprd did not answer', new Error('ECONNREFUSED')),
    );
    await write(outbox, dapr, 'a', 1);
    expect(publishedIds(dapr)).toEqual([]);
    expect(stored(dapr, 'a').outbox.map((e) => e.seq)).toEqual([1]);
    await write(outbox, dapr, 'a', 2);
    expect(publishedIds(dapr)).toEqual(['a:1', 'a:2']);
  });

  it('an intent whose write never happened is kept until no store call can still be under way', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    await outbox.intend('ghost', 1);
    expect(await outbox.sweep(Date.now() + 60_000)).toEqual({ published: 0, released: 0 });
    expect(intents(dapr)).toEqual(['ghost']);
    expect(await outbox.sweep(Date.now() + 6 * 60_000)).toEqual({ published: 0, released: 1 });
    await outbox.settled();
    expect(intents(dapr)).toEqual([]);
  });

  it('an intent is never dropped while its record holds events the broker has not taken', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    // Saved, then the broker is away for longer than the abandon delay: every publish fails.
    const publish = dapr.publishCloudEvent.bind(dapr);
    dapr.publishCloudEvent = async () => {
      throw new SidecarUnreachableError('daprd did not answer', new Error('ECONNREFUSED'));
    };
    await write(outbox, dapr, 'a', 1);
    // A second write announced itself and died before its save: the intent's write never appears.
    await outbox.intend('a', 2);
    expect(await outbox.sweep(Date.now() + 6 * 60_000)).toEqual({ published: 0, released: 0 });
    expect(intents(dapr)).toEqual(['a']);
    // The broker is back: the sweep publishes event 1, and drops the intent of the write that never happened.
    dapr.publishCloudEvent = publish;
    expect(await outbox.sweep(Date.now() + 6 * 60_000)).toEqual({ published: 1, released: 1 });
    await outbox.settled();
    expect(publishedIds(dapr)).toEqual(['a:1']);
    expect(intents(dapr)).toEqual([]);
    // The next write finds no intent: event 1 is out, and stays out of the record.
    await write(outbox, dapr, 'a', 2);
    expect(stored(dapr, 'a').outbox.map((e) => e.seq)).toEqual([2]);
    expect(publishedIds(dapr)).toEqual(['a:1', 'a:2']);
  });

  it('a sweep publishes only what the index says may be pending, not the published events a record still holds', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    await write(outbox, dapr, 'a', 1);
    await outbox.settled();
    // A writer of revision 2 announced itself and stalls before its save; the record still holds event 1.
    expect(await outbox.intend('a', 2)).toBe(2);
    expect(await outbox.sweep(Date.now() + 3000)).toEqual({ published: 0, released: 0 });
    expect(publishedIds(dapr)).toEqual(['a:1']);
  });

  it('two replicas writing one record: first copies in seq order, later copies only duplicates', async () => {
    const dapr = new FakeDaprGateway();
    const [one, two] = [outboxOn(dapr), outboxOn(dapr)];
    // Replica one saves 1 and stalls before publishing; replica two saves 2 on top of it.
    const current: Doc = { revision: 1, outbox: [event('a', 1)] };
    await one.intend('a', 1);
    await dapr.saveState('statestore', [{ key: 'a', value: current }]);
    await write(two, dapr, 'a', 2);
    await one.publish('a', current.outbox);
    const ids = publishedIds(dapr);
    expect([...new Set(ids)]).toEqual(['a:1', 'a:2']);
    expect(ids).toEqual(['a:1', 'a:2', 'a:1']);
  });

  it('in one process a record’s publishes run one after another, each event once', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    const publish = dapr.publishCloudEvent.bind(dapr);
    dapr.publishCloudEvent = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return publish(...args);
    };
    // Three saves in a row, each publish started before the previous one is done.
    const publishing: Promise<boolean>[] = [];
    for (const seq of [1, 2, 3]) {
      const current = dapr.state.get('a')?.value as Doc | undefined;
      const doc: Doc = { revision: seq, outbox: [...(current?.outbox ?? []), event('a', seq)] };
      await outbox.intend('a', seq);
      await dapr.saveState('statestore', [{ key: 'a', value: doc }]);
      publishing.push(outbox.publish('a', doc.outbox));
    }
    await Promise.all(publishing);
    expect(publishedIds(dapr)).toEqual(['a:1', 'a:2', 'a:3']);
  });

  it('writers that arrive together share one save of an intent key (group commit)', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    await outbox.intend('warm-up', 1);
    const saves = dapr.calls.get('saveState') ?? 0;
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => outbox.intend(key, 1)));
    // 40 intents over 4 shards: at most two batches a shard (the first, then what queued behind it).
    expect((dapr.calls.get('saveState') ?? 0) - saves).toBeLessThanOrEqual(8);
    expect(intents(dapr).sort()).toEqual([...keys, 'warm-up'].sort());
  });

  it('the clean-up of a published intent rides along with the next save of its shard, or gets its own soon after', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    const saves = () => dapr.calls.get('saveState') ?? 0;
    await write(outbox, dapr, 'a', 1);
    // Published: its intent's removal waits for a save to ride along with.
    const afterFirst = saves();
    await write(outbox, dapr, 'a', 2, false);
    // One save of the shard took the second intent and the first one's removal: the intent and the record.
    expect(saves() - afterFirst).toBe(2);
    expect(intents(dapr)).toEqual(['a']);
    await outbox.publish('a', stored(dapr, 'a').outbox);
    const idle = saves();
    await new Promise((resolve) => setTimeout(resolve, LAZY_MS + 100));
    // Nothing came: the removal got a save of its own.
    expect(saves() - idle).toBe(1);
    expect(intents(dapr)).toEqual([]);
    expect(publishedIds(dapr)).toEqual(['a:1', 'a:2']);
  });

  it('an intent that cannot be saved fails the write before its record is touched', async () => {
    const dapr = new FakeDaprGateway();
    const outbox = outboxOn(dapr);
    dapr.failNext('getState', new DaprError(500, 'ERR_STATE_GET', 'store down'));
    await expect(outbox.intend('a', 1)).rejects.toThrow('store down');
  });
});
