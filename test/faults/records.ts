import type { WriteKind } from './plan.ts';

/**
 * What the client saw of one request: a response (status, the headers the
 * checks read, the parsed body) or no response at all. The checks work on
 * these records only, so they can be unit-tested on hand-made ones.
 */
export interface Outcome {
  status?: number;
  /** Lower-cased: etag, retry-after, location. */
  headers: Record<string, string>;
  body?: unknown;
  /** No response: the client gave up (timeout), nothing listened (refused), or the connection broke (reset). */
  error?: 'timeout' | 'refused' | 'reset';
  detail?: string;
  /** When it was sent (epoch ms) and how long it took. */
  sentAt: number;
  ms: number;
}

export interface WriteRecord {
  kind: WriteKind;
  /** The JSON body sent (create and PATCH). */
  request?: Record<string, unknown>;
  outcome: Outcome;
}

/**
 * acked: a 2xx, the write is done. rejected: a 4xx, nothing was written.
 * ambiguous: it may or may not have committed (503, another 5xx, a timeout
 * or a connection lost mid-request). unsent: the connection was refused.
 */
export type Verdict = 'acked' | 'rejected' | 'ambiguous' | 'unsent';

export function verdict(outcome: Outcome): Verdict {
  if (outcome.error === 'refused') return 'unsent';
  if (outcome.error !== undefined || outcome.status === undefined) return 'ambiguous';
  if (outcome.status < 300) return 'acked';
  if (outcome.status < 500) return 'rejected';
  return 'ambiguous';
}

/** The revision an ETag carries (`"3"` is 3), or undefined when it is not a quoted whole number. */
export function revisionOf(etag: string | undefined): number | undefined {
  const match = etag === undefined ? null : /^(?:W\/)?"(\d+)"$/.exec(etag);
  return match ? Number(match[1]) : undefined;
}

/** The task a write's response carries (create, PATCH, complete), if any. */
export interface TaskBody {
  id: string;
  title: string;
  description?: string;
  status: 'open' | 'done';
  priority: string;
  dueAt?: string;
  remindAt?: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
}

export interface ActivityEntry {
  eventId: string;
  type: string;
  time: string;
  revision?: number;
}

/** A task as read back after the run: GET /tasks/{id} (200 with its ETag, or 404) and its activity. */
export interface Observed {
  id: string;
  final: { exists: true; body: TaskBody; etag?: string } | { exists: false };
  entries: ActivityEntry[];
  /** Files in `<dataDir>/notifications/` named `reminder-<id>-…`. */
  notifications: number;
}

const writeTypes = ['task.created', 'task.updated', 'task.completed', 'task.deleted'] as const;
/** The event each kind of write publishes (if it writes: see wrote()). */
export const eventOf: Record<WriteKind, (typeof writeTypes)[number]> = {
  create: 'task.created',
  patch: 'task.updated',
  'patch-if-match': 'task.updated',
  complete: 'task.completed',
  delete: 'task.deleted',
};
export const isWriteEvent = (entry: ActivityEntry) => (writeTypes as readonly string[]).includes(entry.type);

/**
 * Whether an acknowledged write wrote something. Completing a done task
 * changes nothing: its 200 carries the revision (and updatedAt) of whatever
 * write came last, maybe a PATCH, and no event of its own. A complete that
 * wrote sets completedAt to its updatedAt.
 */
export const wrote = (write: WriteRecord) => {
  if (write.kind !== 'complete') return true;
  const body = write.outcome.body as TaskBody | undefined;
  return body !== undefined && body.completedAt === body.updatedAt;
};
