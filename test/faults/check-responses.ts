import type { WriteRecord } from './records.ts';

export interface ResponseCheck {
  /** 5xx other than a 503 with Retry-After. */
  serverErrors: number;
  timeouts: number;
  /** Connections refused or broken: only expected while the app itself is down. */
  connectionErrors: number;
  unavailable: number;
  notes: string[];
}

/** (d) Every response is a 2xx, a 4xx or a 503 with Retry-After; no request times out. */
export function checkResponses(writes: WriteRecord[]): ResponseCheck {
  const result: ResponseCheck = {
    serverErrors: 0,
    timeouts: 0,
    connectionErrors: 0,
    unavailable: 0,
    notes: [],
  };
  for (const { kind, outcome } of writes) {
    if (outcome.error === 'timeout') result.timeouts += 1;
    else if (outcome.error) result.connectionErrors += 1;
    else if (outcome.status === 503 && outcome.headers['retry-after'] !== undefined) result.unavailable += 1;
    else if ((outcome.status ?? 0) >= 500) {
      result.serverErrors += 1;
      result.notes.push(`${kind} answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    }
  }
  return result;
}
