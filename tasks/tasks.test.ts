import { describe, expect, it } from 'vitest';
import { INSTANT_PATTERN } from './tasks.ts';

describe('INSTANT_PATTERN', () => {
  it('takes exactly the calendar days of 1970 to 2999', () => {
    const pattern = new RegExp(INSTANT_PATTERN);
    const wrong: string[] = [];
    for (let year = 1969; year <= 3000; year++) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          const real = new Date(`${date}T00:00:00Z`).getUTCDate() === day;
          const expected = real && year >= 1970 && year <= 2999;
          if (pattern.test(`${date}T12:30:00Z`) !== expected) wrong.push(date);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    ['2026-12-01T09:00:00Z', true],
    ['2026-12-01T09:00:00.123456789+05:30', true],
    ['2026-12-01T23:59:59-23:59', true],
    ['2026-12-01T24:00:00Z', false],
    ['2026-12-01T09:00:60Z', false],
    ['2026-12-01T09:00:00', false],
    ['2026-12-01t09:00:00z', false],
    ['2026-12-01T09:00:00+24:00', false],
    ['2026-13-01T09:00:00Z', false],
  ])('%s: %s', (instant, valid) => {
    expect(new RegExp(INSTANT_PATTERN).test(instant)).toBe(valid);
  });
});
