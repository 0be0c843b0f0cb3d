import { describe, expect, it } from 'vitest';
import { Task } from '../tasks/tasks.ts';
import { uuidv7 } from './uuid.ts';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID the Task schema accepts, with the milliseconds first', () => {
    const id = uuidv7(Date.UTC(2026, 11, 2, 10, 0, 0, 123));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(
      Date.UTC(2026, 11, 2, 10, 0, 0, 123),
    );
    expect(Task.shape.id.safeParse(id).success).toBe(true);
  });

  it('sorts by the time it was made, and never repeats', () => {
    const ids = Array.from({ length: 5000 }, (_, n) => uuidv7(1_700_000_000_000 + Math.floor(n / 10)));
    expect([...ids].sort().map((id) => id.slice(0, 13))).toEqual(ids.map((id) => id.slice(0, 13)));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
