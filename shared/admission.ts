import type { Context, MiddlewareHandler } from 'hono';
import type { RuntimeConfig } from './config.ts';
import { Problem } from './problem.ts';

export interface AdmissionLimits {
  /** Client requests that run at once; 0 turns admission control off. */
  maxInflight: number;
  /** Requests that may wait for a slot while all are taken; past it a request is shed at once. */
  maxQueued: number;
  /** How long a request waits for a slot before it is shed. */
  maxWaitMs: number;
}

/** The limits an app's configuration sets. */
export const admissionLimits = (config: RuntimeConfig): AdmissionLimits => ({
  maxInflight: config.MAX_INFLIGHT_REQUESTS,
  maxQueued: config.MAX_QUEUED_REQUESTS,
  maxWaitMs: config.MAX_QUEUE_WAIT_MS,
});

/** Why a request was shed: no slot and no room to wait, or no slot in time. */
export type ShedReason = 'full' | 'waited';
export const shedReasons: readonly ShedReason[] = ['full', 'waited'];

/** Seconds a shed client should wait: a slot frees in well under that at the sustainable rate. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/**
 * Admission control for clients' requests: at most `maxInflight` run at once,
 * up to `maxQueued` more wait (first come, first served) at most `maxWaitMs`
 * for a slot, and any other is answered at once with 503, Retry-After and a
 * problem document, before it has done anything, so it is always safe to
 * repeat. Without it a burst past what the sidecar and its store can take
 * queues in the app, every request slows down together, memory grows with
 * the queue, and clients time out on writes that may or may not have happened.
 *
 * 503, not 429: the limit is this replica's capacity, shared by every client,
 * not a quota one client went over; 503 + Retry-After is what load balancers
 * and clients already take for "try again, maybe elsewhere".
 *
 * A slot is released when the request's work ends, not when it is answered:
 * behind REQUEST_TIMEOUT_MS's early 503 the work goes on, and still counts.
 */
export function admission(
  limits: AdmissionLimits,
  onShed: (reason: ShedReason) => void = () => {},
): MiddlewareHandler {
  const { maxInflight, maxQueued, maxWaitMs } = limits;
  let running = 0;
  /** Waiting requests, oldest first; each is given a slot by the request that frees one. */
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  /** A slot (undefined), or why there is none. */
  const acquire = (): Promise<ShedReason | undefined> | ShedReason | undefined => {
    if (running < maxInflight) {
      running += 1;
      return undefined;
    }
    if (waiting.length >= maxQueued || maxWaitMs === 0) return 'full';
    return new Promise((resolve) => {
      const admit = () => {
        clearTimeout(timer);
        resolve(undefined);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(admit), 1);
        resolve('waited');
      }, maxWaitMs);
      waiting.push(admit);
    });
  };
  const shed = (c: Context, reason: ShedReason) => {
    onShed(reason);
    const why = `${maxInflight} requests are running${maxQueued > 0 ? ` and ${waiting.length} waiting` : ''}`;
    return new Problem(
      503,
      'Service Unavailable',
      `The API is at capacity (${why}). Nothing was done: retry after ${OVERLOAD_RETRY_AFTER_SECONDS} s.`,
      { headers: { 'retry-after': String(OVERLOAD_RETRY_AFTER_SECONDS) } },
    ).toResponse(c.req.path);
  };

  return async function admit(c, next) {
    if (maxInflight === 0) return next();
    const refused = await acquire();
    if (refused) return shed(c, refused);
    try {
      await next();
    } finally {
      release();
    }
  };
}
