import { z } from 'zod';
import type { DaprGateway } from './dapr.ts';
import { saveWithEtag } from './guarded-save.ts';
import { Problem } from './problem.ts';

/**
 * An append-only, paged index of task ids in the order they were created,
 * kept in the same Dapr state store as the tasks (Dapr's state API has no
 * range scans that work on every store).
 *
 * - `task-index|head` holds the open page: its number and up to PAGE_SIZE ids.
 * - `task-index|<n>` holds page n once it is sealed; sealed pages never change.
 *
 * Appending costs one read and one etag-guarded write whatever the number of
 * tasks. A full head page is first copied to its sealed key, then the head
 * moves on; a crash in between leaves the head as it was, so a reader never
 * sees an id twice. Readers take pages below the head's number from their
 * sealed keys and the head's page from the head.
 *
 * An id is appended before the task's own transaction, so the index may name
 * a task that was never written (the transaction failed) or was deleted
 * since; readers skip ids with no task. The index is a list of candidates,
 * the task records are the truth.
 */
export const PAGE_SIZE = 200;
const HEAD_KEY = 'task-index|head';
const pageKey = (page: number) => `task-index|${page}`;

const Head = z.object({ page: z.number().int().min(0), ids: z.array(z.string()) });
type Head = z.infer<typeof Head>;
const SealedPage = z.object({ ids: z.array(z.string()) });

/** Where a listing stopped: the page and the position within it. */
const Position = z.object({ p: z.number().int().min(0), i: z.number().int().min(0) });
export type IndexPosition = z.infer<typeof Position>;

/**
 * A cursor is `<page>.<position>`: every string of that shape (the
 * document's pattern, CURSOR_PATTERN) is a place in the index, one past the
 * end included, so the document and the server agree on which are valid.
 */
export const CURSOR_PATTERN = /^\d{1,9}\.\d{1,9}$/;

export function encodeCursor(position: IndexPosition): string {
  return `${position.p}.${position.i}`;
}

export function decodeCursor(cursor: string): IndexPosition {
  const [p, i] = cursor.split('.').map(Number);
  const position = Position.safeParse({ p, i });
  if (!CURSOR_PATTERN.test(cursor) || !position.success)
    throw new Problem(
      400,
      'Bad Request',
      'The cursor is not one this API returned. Start again without a cursor.',
    );
  return position.data;
}

export interface IndexChunk {
  ids: string[];
  /** Position of the first id of this chunk (a later page than asked for when that page was used up). */
  start: IndexPosition;
  /** Position after the last id of this chunk. */
  next: IndexPosition;
  /** True when nothing follows `next` (yet). */
  atEnd: boolean;
}

export class TaskIndex {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #maxAttempts: number;

  constructor(dapr: DaprGateway, store: string, maxAttempts = 50) {
    this.#dapr = dapr;
    this.#store = store;
    this.#maxAttempts = maxAttempts;
  }

  async append(id: string): Promise<void> {
    await saveWithEtag<Head>(
      this.#dapr,
      this.#store,
      HEAD_KEY,
      async (stored) => {
        const head = stored ? Head.parse(stored.value) : { page: 0, ids: [] };
        // Already there: an earlier try was applied but its answer lost (the store died before it answered).
        if (head.ids.includes(id)) return undefined;
        if (head.ids.length < PAGE_SIZE) return { page: head.page, ids: [...head.ids, id] };
        await this.#dapr.saveState(this.#store, [{ key: pageKey(head.page), value: { ids: head.ids } }]);
        return { page: head.page + 1, ids: [id] };
      },
      { maxAttempts: this.#maxAttempts },
    );
  }

  /** Up to `max` ids from `from` on, in creation order, within one page. */
  async read(from: IndexPosition, max: number): Promise<IndexChunk> {
    const stored = await this.#dapr.getState(this.#store, HEAD_KEY);
    if (!stored) return { ids: [], start: from, next: from, atEnd: true };
    const head = Head.parse(stored.value);
    let { p, i } = from;
    while (p <= head.page) {
      const ids = p === head.page ? head.ids : await this.#sealedPage(p);
      if (i < ids.length) {
        const chunk = ids.slice(i, i + max);
        const next = { p, i: i + chunk.length };
        const atEnd = p === head.page && next.i >= ids.length;
        return { ids: chunk, start: { p, i }, next, atEnd };
      }
      if (p === head.page) break;
      p += 1;
      i = 0;
    }
    return { ids: [], start: { p, i }, next: { p, i }, atEnd: true };
  }

  async #sealedPage(page: number): Promise<string[]> {
    const stored = await this.#dapr.getState(this.#store, pageKey(page));
    if (!stored) throw new Error(`task index page ${page} is missing below head page`);
    return SealedPage.parse(stored.value).ids;
  }
}
