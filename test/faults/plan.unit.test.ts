import { describe, expect, it } from 'vitest';
import { planIndexOfTitle, planLoad } from './plan.ts';
import { Random, seedFromEnv } from './prng.ts';

describe('the seeded load plan', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(planLoad(42)).toEqual(planLoad(42));
    expect(planLoad(43).tasks).not.toEqual(planLoad(42).tasks);
    expect(new Random(7).next()).toBe(new Random(7).next());
  });

  it('plans about the requests asked for, and two fault points inside the load, one per half', () => {
    for (const seed of [1, 2, 3, 1234, 99_999]) {
      const plan = planLoad(seed, 200);
      expect(plan.requests).toBeGreaterThanOrEqual(200);
      expect(plan.requests).toBeLessThan(205);
      expect(plan.requests).toBe(plan.tasks.reduce((n, t) => n + 1 + t.ops.length, 0));
      const [first, second] = plan.faultsAt as [number, number];
      expect(first).toBeGreaterThanOrEqual(plan.requests * 0.1 - 1);
      expect(first).toBeLessThanOrEqual(plan.requests * 0.3 + 1);
      expect(second).toBeGreaterThanOrEqual(plan.requests * 0.6 - 1);
      expect(second).toBeLessThanOrEqual(plan.requests * 0.8 + 1);
    }
  });

  it('gives each role the ops its checks assume', () => {
    const tasks = [1, 2, 3, 4, 5].flatMap((seed) => planLoad(seed).tasks);
    for (const task of tasks) {
      expect(planIndexOfTitle(task.title)).toBe(task.index);
      const deletes = task.ops.findIndex((op) => op.kind === 'delete');
      if (deletes >= 0) expect(deletes).toBe(task.ops.length - 1);
      expect(task.ops.length).toBeLessThanOrEqual(3);
      for (const op of task.ops)
        if (op.kind.startsWith('patch')) {
          expect(op.body?.title).toMatch(new RegExp(`^f${task.index} `));
          expect(op.body).not.toHaveProperty('remindAt');
          expect(op.body).not.toHaveProperty('dueAt');
        }
      if (task.role === 'remind') {
        expect(task.remindInMs).toBeGreaterThanOrEqual(3000);
        expect(task.remindInMs).toBeLessThanOrEqual(8000);
        expect(task.ops.every((op) => op.kind.startsWith('patch'))).toBe(true);
      }
      if (task.role === 'remind-cancelled') {
        expect(task.remindInMs).toBe(8000);
        expect(task.ops.map((op) => op.kind)).toEqual([expect.stringMatching(/^(complete|delete)$/)]);
      }
      if (task.role === 'overdue') expect(task.dueAgoMs).toBeGreaterThan(0);
    }
    const roles = new Set(tasks.map((t) => t.role));
    expect(roles).toEqual(new Set(['remind', 'remind-cancelled', 'overdue', 'plain']));
  });

  it('reads FAULT_SEED as a whole number', () => {
    expect(seedFromEnv('123')).toBe(123);
    expect(seedFromEnv(undefined)).toBeUndefined();
    expect(() => seedFromEnv('abc')).toThrow(/FAULT_SEED/);
    expect(() => seedFromEnv('abc', 'FUZZ_SEED')).toThrow(/FUZZ_SEED/);
  });
});
