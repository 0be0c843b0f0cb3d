import { describe, expect, it } from 'vitest';
import { EventBacklog } from './event-backlog.ts';

describe('EventBacklog', () => {
  it('admits writes up to its limit; the next waits for a release, or is refused after maxWaitMs', async () => {
    const backlog = new EventBacklog({ initial: 2, maxWaitMs: 30 });
    const a = await backlog.enter();
    const b = await backlog.enter();
    expect(a && b).toBeTypeOf('function');
    expect(await backlog.enter()).toBeUndefined();
    const waiting = backlog.enter();
    a?.();
    a?.(); // a second call gives nothing back twice
    expect(await waiting).toBeTypeOf('function');
    expect(backlog.taken).toBe(2);
  });

  it('cuts its limit by a tenth per slow publish, at most once per targetMs, down to min', () => {
    const backlog = new EventBacklog({ initial: 100, min: 80, targetMs: 50 });
    backlog.observe(60, 1000);
    expect(backlog.limit).toBe(90);
    backlog.observe(60, 1049);
    expect(backlog.limit).toBe(90);
    backlog.observe(60, 1050);
    expect(backlog.limit).toBe(81);
    backlog.observe(60, 1100);
    expect(backlog.limit).toBe(80);
  });

  it('raises its limit by one per fast publish while half of it is taken, up to max; not while fewer are', async () => {
    const backlog = new EventBacklog({ initial: 4, max: 5, targetMs: 50 });
    backlog.observe(1);
    expect(backlog.limit).toBe(4);
    await backlog.enter();
    await backlog.enter();
    backlog.observe(1);
    expect(backlog.limit).toBe(5);
    backlog.observe(1);
    expect(backlog.limit).toBe(5);
  });
});
