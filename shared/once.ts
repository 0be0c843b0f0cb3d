import { createHash } from 'node:crypto';
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

/**
 * A free-form string (a CloudEvent id) as a part of a state key: as it is
 * when it is printable ASCII of up to 200 characters, as its SHA-256
 * otherwise. Every store takes the result: daprd closes the connection on a
 * key with NUL, a lone surrogate cannot be put in a URL, and PostgreSQL
 * indexes keys of about 2,700 bytes at most.
 */
export function keyPart(text: string): string {
  if (/^[\x20-\x7e]{1,200}$/.test(text)) return text;
  // Of the UTF-16 code units: ids that differ only in their lone surrogates stay apart.
  return `sha256:${createHash('sha256').update(text, 'utf16le').digest('hex')}`;
}
