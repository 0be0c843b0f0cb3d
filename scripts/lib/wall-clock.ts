/**
 * Wall-clock time in ms with sub-ms precision, comparable between processes
 * on one machine, also across a step of the wall clock.
 *
 * `performance.timeOrigin + performance.now()` alone reads the monotonic
 * clock from where the wall clock stood when the process started: after a
 * step (NTP, a virtual machine paused and resumed), a process started before
 * it and one started after it disagree by the step. In one `npm run bench`
 * (2026-12-07) every event cell of its last profile read 25.4 s between a
 * publish and its handler, p99 within 6 ms of p50 (a constant, not a queue),
 * and the end-to-end tables "did not keep up", while Kafka took 36.8 s to
 * start by Date.now() (about 6 s otherwise). So the origin follows
 * Date.now() whenever the two part by a ms or more.
 */
export function wallClock(now = () => performance.now(), wall = () => Date.now()): () => number {
  let origin = wall() - now();
  return () => {
    const monotonic = now();
    const wallMs = wall();
    // Date.now() is whole ms, so in step the two differ by less than one.
    if (Math.abs(wallMs - (origin + monotonic)) >= 1) origin = wallMs - monotonic;
    return origin + monotonic;
  };
}

/** This process's clock (see wallClock). */
export const nowMs: () => number = wallClock();
