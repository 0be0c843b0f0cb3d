import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeDaprGateway } from '../shared/fake-dapr.ts';
import { silentLogger } from '../shared/log.ts';
import { Problem } from '../shared/problem.ts';
import { EventBacklog } from './event-backlog.ts';
import { TaskStore } from './task-store.ts';
import type { Task } from './tasks.ts';

/** A fake daprd whose publishes wait until the test lets them through, as a broker that is behind. */
class SlowBrokerFake extends FakeDaprGateway {
  #held: Array<() => void> | undefined = [];
  override async publishCloudEvent(...args: Parameters<FakeDaprGateway['publishCloudEvent']>) {
    const held = this.#held;
    if (held) await new Promise<void>((resolve) => held.push(resolve));
    return super.publishCloudEvent(...args);
  }
  /** The broker catches up: what waits goes through, and so does every later publish. */
  catchUp() {
    for (const resolve of this.#held ?? []) resolve();
    this.#held = undefined;
  }
}

const newTask = (): Task => {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    title: 't',
    status: 'open',
    priority: 'low',
    tags: [],
    createdAt: now,
    updatedAt: now,
  };
};

describe('TaskStore behind a broker that is behind', () => {
  it('refuses a write with 503 and Retry-After, nothing written, while the backlog has no room; takes it once the events are out', async () => {
    const dapr = new SlowBrokerFake();
    const backlog = new EventBacklog({ initial: 1, min: 1, maxWaitMs: 30 });
    const store = new TaskStore({
      dapr,
      store: 'statestore',
      pubsub: 'pubsub',
      topic: 'task-events',
      source: 'test',
      log: silentLogger,
      backlog,
    });
    const first = newTask();
    await store.create(first);
    const before = [...dapr.state.keys()];

    const refused = newTask();
    const error = await store.create(refused).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Problem);
    expect((error as Problem).status).toBe(503);
    expect((error as Problem).headers?.['retry-after']).toBe('1');
    expect([...dapr.state.keys()]).toEqual(before);
    expect(JSON.stringify([...dapr.state.values()])).not.toContain(refused.id);

    dapr.catchUp();
    await store.create(refused);
    await store.settled();
    expect((await store.get(refused.id))?.task).toEqual(refused);
    expect(dapr.published.map((p) => p.cloudEvent?.subject)).toEqual([first.id, refused.id]);
  });
});
