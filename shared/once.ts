import type { DaprGateway } from './dapr.ts';

export type OnceOutcome = 'done' | 'duplicate' | 'not-yet';

/**
 * Runs `work` at most once to completion per `key`: a record under `key`
 * (with a TTL) says it has been done. The record is written after `work`
 * succeeds, so a crash or a throw in between means the next attempt runs
 * `work` again: `work` must itself be safe to repeat (overwrite a job, use a
 * deterministic event id or file name), and this record is what keeps the
 * repeats from piling up. Two deliveries in flight at once may both find no
 * record and both run `work`; that is why it must be repeatable. `work`
 * returns false when there is nothing to do yet; then no record is written.
 */
export async function once(
  dapr: DaprGateway,
  store: string,
  key: string,
  ttlSeconds: number,
  work: () => Promise<boolean>,
): Promise<OnceOutcome> {
  if (await dapr.getState(store, key)) return 'duplicate';
  if (!(await work())) return 'not-yet';
  await dapr.saveState(store, [
    { key, value: { at: new Date().toISOString() }, metadata: { ttlInSeconds: String(ttlSeconds) } },
  ]);
  return 'done';
}

/** How long "done" records are kept: longer than any redelivery or re-sweep window. */
export const ONCE_TTL_SECONDS = 7 * 24 * 3600;
