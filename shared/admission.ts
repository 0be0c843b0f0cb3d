import type { Context, MiddlewareHandler } from 'hono';
import type { RuntimeConfig } from './config.ts';
import { Problem } from './problem.ts';
import { type Refusal, Slots } from './slots.ts';

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
export type ShedReason = Refusal;
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
  const slots = new Slots(maxInflight, maxQueued);
  const shed = (c: Context, reason: ShedReason) => {
    onShed(reason);
    const why = `${maxInflight} requests are running${maxQueued > 0 ? ` and ${slots.waiting} waiting` : ''}`;
    return new Problem(
      503,
      'Service Unavailable',
      `The API is at capacity (${why}). Nothing was done: retry after ${OVERLOAD_RETRY_AFTER_SECONDS} s.`,
      { headers: { 'retry-after': String(OVERLOAD_RETRY_AFTER_SECONDS) } },
    ).toResponse(c.req.path);
  };

  return async function admit(c, next) {
    if (maxInflight === 0) return next();
    const refused = await slots.take(maxWaitMs);
    if (refused) return shed(c, refused);
    try {
      await next();
    } finally {
      slots.release();
    }
  };
}
