import { afterEach, describe, expect, it, vi } from 'vitest';
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
    backlog.observe(60, true, 1000);
    expect(backlog.limit).toBe(90);
    backlog.observe(60, true, 1049);
    expect(backlog.limit).toBe(90);
    backlog.observe(60, true, 1050);
    expect(backlog.limit).toBe(81);
    backlog.observe(60, true, 1100);
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

  it('lifts its limit while the broker is away (a failed publish, a slot held past holdMs) until a publish succeeds', async () => {
    const backlog = new EventBacklog({ initial: 1, maxWaitMs: 10, holdMs: 40 });
    const first = await backlog.enter();
    expect(await backlog.enter()).toBeUndefined();
    backlog.observe(5000, false);
    expect(backlog.limit).toBe(Number.POSITIVE_INFINITY);
    const during = await backlog.enter();
    expect(during).toBeTypeOf('function');
    backlog.observe(5);
    expect(backlog.limit).toBe(2);
    first?.();
    during?.();

    const stuck = await backlog.enter();
    await backlog.enter();
    expect(await backlog.enter()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(backlog.limit).toBe(Number.POSITIVE_INFINITY);
    expect(backlog.taken).toBe(0);
    stuck?.(); // released already, by its hold: nothing given back twice
    expect(backlog.taken).toBe(0);
  });

  describe('with fake timers', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('gives back a slot held past holdMs but keeps its limit while other publishes are answered (slow, not away)', async () => {
      vi.useFakeTimers();
      const backlog = new EventBacklog({ initial: 2, max: 2, maxWaitMs: 10, holdMs: 40 });
      const slow = await backlog.enter();
      const other = await backlog.enter();
      for (let t = 0; t < 25; t += 5) {
        backlog.observe(5);
        vi.advanceTimersByTime(5);
      }
      vi.advanceTimersByTime(35); // both holds end 20 ms after the last answer
      expect(backlog.taken).toBe(0);
      expect(backlog.limit).toBe(2);
      slow?.(); // released already, by its hold
      other?.();
      expect(backlog.taken).toBe(0);

      // No answer for holdMs while a write holds its slot: the broker is away.
      await backlog.enter();
      vi.advanceTimersByTime(40);
      expect(backlog.limit).toBe(Number.POSITIVE_INFINITY);
    });
  });
});
