import { describe, expect, it } from 'vitest';
import { wallClock } from './wall-clock.ts';

/** A fake pair of clocks the test moves by hand: monotonic ms (fractional) and whole wall ms. */
function fakeClocks(mono: number, wall: number) {
  const clocks = { mono, wall };
  const clock = wallClock(
    () => clocks.mono,
    () => clocks.wall,
  );
  return { clocks, clock };
}

describe('wallClock', () => {
  it('keeps the monotonic clock’s sub-ms steps while the wall clock agrees', () => {
    const { clocks, clock } = fakeClocks(100.25, 1_000_000);
    expect(clock()).toBeCloseTo(1_000_000, 6);
    clocks.mono += 0.5; // Date.now() has not moved yet
    expect(clock()).toBeCloseTo(1_000_000.5, 6);
    clocks.mono += 0.75;
    clocks.wall = 1_000_001;
    expect(clock()).toBeCloseTo(1_000_001.25, 6);
  });

  it('follows a step of the wall clock, as a process started after it would read', () => {
    const { clocks, clock } = fakeClocks(5_000, 2_000_000);
    clock();
    // The machine is paused for 25 s: the monotonic clock stops, the wall clock is stepped on resume.
    clocks.mono += 10;
    clocks.wall += 10 + 25_000;
    const fresh = fakeClocks(0, clocks.wall).clock;
    expect(clock()).toBe(clocks.wall);
    expect(Math.abs(clock() - fresh())).toBeLessThan(1);
  });
});
