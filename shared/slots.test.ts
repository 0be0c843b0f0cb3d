import { describe, expect, it } from 'vitest';
import { Slots } from './slots.ts';

describe('Slots', () => {
  it('gives slots up to the limit, then hands freed ones to the waiting takers oldest first', async () => {
    const slots = new Slots(2);
    expect(slots.take(100)).toBeUndefined();
    expect(slots.take(100)).toBeUndefined();
    const order: string[] = [];
    const first = Promise.resolve(slots.take(1000)).then((r) => order.push(`first ${r}`));
    const second = Promise.resolve(slots.take(1000)).then((r) => order.push(`second ${r}`));
    expect(slots.waiting).toBe(2);
    slots.release();
    await first;
    expect(order).toEqual(['first undefined']);
    slots.release();
    await second;
    expect(order).toEqual(['first undefined', 'second undefined']);
    expect(slots.taken).toBe(2);
  });

  it('refuses at once past maxQueued or without a wait, and after the wait when nothing is freed', async () => {
    const slots = new Slots(1, 1);
    expect(slots.take(0)).toBeUndefined();
    expect(slots.take(0)).toBe('full');
    const waited = slots.take(20);
    expect(slots.take(20)).toBe('full');
    expect(await waited).toBe('waited');
    expect(slots.waiting).toBe(0);
    expect(slots.taken).toBe(1);
  });

  it('hands out slots when the limit rises, and none while a lowered limit is still exceeded', async () => {
    const slots = new Slots(2);
    slots.take(0);
    slots.take(0);
    slots.limit = 1;
    const waiting = slots.take(1000);
    slots.release();
    expect(slots.waiting).toBe(1);
    slots.limit = 2;
    expect(await waiting).toBeUndefined();
    expect(slots.taken).toBe(2);
  });
});
