import { type Observed, revisionOf, type TaskBody, verdict, type WriteRecord } from './records.ts';

/**
 * (a) Acknowledged writes are there afterwards. A write the client got a 2xx
 * for committed; one that got a 503, a timeout or a broken connection is
 * ambiguous: it may have committed. The check accepts exactly the final
 * states some choice of the ambiguous writes explains, and nothing else.
 */

/** The fields a client set and reads back; updatedAt and completedAt are the server's. */
type View = Pick<TaskBody, 'title' | 'description' | 'status' | 'priority' | 'dueAt' | 'remindAt' | 'tags'>;

const viewOf = (task: TaskBody): View => ({
  title: task.title,
  description: task.description,
  status: task.status,
  priority: task.priority,
  dueAt: task.dueAt,
  remindAt: task.remindAt,
  tags: task.tags,
});

const sameView = (a: View, b: View) =>
  JSON.stringify(viewOf(a as TaskBody)) === JSON.stringify(viewOf(b as TaskBody));

/** The same JSON whatever the order of its keys: a PATCH may answer with its fields in another order than GET. */
const canonical = (value: object) =>
  JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));

/** The state after a write that committed: undefined once deleted; `effective` says whether it changed anything. */
function apply(view: View, write: WriteRecord): { view: View | undefined; effective: boolean } {
  if (write.kind === 'delete') return { view: undefined, effective: true };
  if (write.kind === 'complete')
    return { view: { ...view, status: 'done' }, effective: view.status !== 'done' };
  const next: Record<string, unknown> = { ...view };
  for (const [field, value] of Object.entries(write.request ?? {})) {
    if (field === 'tags') next.tags = [...new Set(value as string[])];
    else next[field] = value === null ? undefined : value;
  }
  return { view: next as unknown as View, effective: true };
}

/** Every subsequence of `items`, in order (the writes are few: at most three follow an acknowledged one). */
function* subsequences<T>(items: T[]): Generator<T[]> {
  for (let mask = 0; mask < 1 << items.length; mask++) yield items.filter((_, i) => mask & (1 << i));
}

export interface StateCheck {
  /** Writes answered 2xx. */
  acked: number;
  /** 1 when the final state is not the last acknowledged write's result nor explained by later ambiguous ones. */
  lost: number;
  note?: string;
}

/**
 * (a) The final GET equals the last 2xx response (404 after a DELETE),
 * unless later ambiguous writes committed: then it must be what some of
 * them, applied in order, make of it (with as many more revisions, or a
 * later updatedAt where ETags carry no revision).
 */
export function checkState(writes: WriteRecord[], final: Observed['final']): StateCheck {
  const acked = writes.filter((w) => verdict(w.outcome) === 'acked');
  const lastIndex = writes.findLastIndex((w) => verdict(w.outcome) === 'acked');
  const last = writes[lastIndex];
  if (!last) return { acked: 0, lost: 0 };
  const base = last.kind === 'delete' ? undefined : (last.outcome.body as TaskBody);
  const baseRevision = revisionOf(last.outcome.headers.etag);
  const later = writes.slice(lastIndex + 1).filter((w) => verdict(w.outcome) === 'ambiguous');
  const finalRevision = final.exists ? revisionOf(final.etag) : undefined;

  for (const committed of subsequences(later)) {
    let view: View | undefined = base && viewOf(base);
    let revisions = 0;
    let possible = true;
    for (const write of committed) {
      // Nothing commits on a deleted task.
      if (!view) possible = false;
      else {
        const step = apply(view, write);
        view = step.view;
        if (step.effective) revisions += 1;
      }
    }
    if (!possible) continue;
    if (!view || !final.exists) {
      if (!view && !final.exists) return { acked: acked.length, lost: 0 };
      continue;
    }
    if (!sameView(view, final.body)) continue;
    if (revisions === 0) {
      if (base && canonical(final.body) === canonical(base)) return { acked: acked.length, lost: 0 };
      continue;
    }
    const advanced =
      baseRevision !== undefined && finalRevision !== undefined
        ? finalRevision === baseRevision + revisions
        : base !== undefined && final.body.updatedAt > base.updatedAt;
    if (advanced) return { acked: acked.length, lost: 0 };
  }
  const seen = final.exists ? `${JSON.stringify(final.body)} (ETag ${final.etag})` : '404';
  const after = writes
    .slice(lastIndex + 1)
    .map((w) => `${w.kind} ${w.outcome.status ?? w.outcome.error}`)
    .join(', ');
  return {
    acked: acked.length,
    lost: 1,
    note: `the last acknowledged write (${last.kind}, ${last.outcome.status}) is not what GET returns: ${seen}; after it: ${after || 'nothing'}`,
  };
}
