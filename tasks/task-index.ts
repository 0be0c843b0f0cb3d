import { z } from 'zod';
import type { DaprGateway } from '../shared/dapr.ts';
import { GroupCommit, shardOf } from '../shared/group-commit.ts';
import { Problem } from '../shared/problem.ts';

/**
 * An append-only index of task ids, kept in the same Dapr state store as
 * the tasks (Dapr's state API has no range scans that work on every store),
 * spread over SHARDS shards so that no key is written by every create.
 *
 * - `task-index|<s>` is shard s's open page: its number and its ids, in the
 *   order they were appended.
 * - `task-index|<s>|<n>` is shard s's page n once sealed; sealed pages never change.
 *
 * An id goes to the shard its hash names. Appends of one process to one
 * shard share a save (GroupCommit), so a create costs a fraction of a read
 * and a write, whatever the number of tasks. A page that holds PAGE_SIZE ids
 * or more is sealed by the next save of its shard: the stored page, exactly
 * as read, is copied to its sealed key, then the open page moves on; a crash
 * in between leaves the open page as it was, so a reader never sees an id
 * twice. Readers take pages below the open page's number from their sealed keys.
 *
 * A listing merges the shards by id (ids are UUIDv7: creation time first),
 * and a cursor is a position in every shard, so a walk returns every id that
 * was in the index when it started exactly once, and each id appended since
 * at most once.
 *
 * Sealed pages never change and an open page's number only grows, so each
 * process keeps the sealed pages it last read (SealedPages) and, per shard,
 * the open page number it last read (OpenPageNumbers): for OPEN_PAGE_TRUST_MS
 * every page below it counts as sealed without a read. A walk reads a
 * shard's open page only when it reaches a page not known to be sealed, so a
 * listing's first page, which starts in every shard's page 0, costs one bulk
 * get of the tasks while the process has lately seen those pages sealed.
 *
 * An id is appended before the task's own save, so the index may name a task
 * that was never written (the save failed) or was deleted since; readers
 * skip ids with no task. The index is a list of candidates, the task records
 * are the truth.
 */
export const SHARDS = 8;
export const PAGE_SIZE = 50;
const openKey = (shard: number) => `task-index|${shard}`;
const sealedKey = (shard: number, page: number) => `task-index|${shard}|${page}`;

const OpenPage = z.object({ page: z.number().int().min(0), ids: z.array(z.string()) });
type OpenPage = z.infer<typeof OpenPage>;
const SealedPage = z.object({ ids: z.array(z.string()) });
/** Sealed pages one process keeps: about 3 KiB each, so well under a MiB; page 0 of every shard among them. */
export const CACHED_SEALED_PAGES = 256;

/**
 * The sealed pages last read, the least recently used dropped first. A
 * sealed page is written once with the open page's ids exactly as stored,
 * and an open page with PAGE_SIZE ids or more takes no more appends (it is
 * sealed first), so every write of a sealed key holds the same ids.
 */
class SealedPages {
  readonly #pages = new Map<string, string[]>();

  get(key: string): string[] | undefined {
    const ids = this.#pages.get(key);
    if (ids) {
      this.#pages.delete(key);
      this.#pages.set(key, ids);
    }
    return ids;
  }

  set(key: string, ids: string[]): void {
    this.#pages.delete(key);
    this.#pages.set(key, ids);
    for (const oldest of this.#pages.keys()) {
      if (this.#pages.size <= CACHED_SEALED_PAGES) break;
      this.#pages.delete(oldest);
    }
  }

  /** Forgets shard `shard`'s pages: its open page went back, so the store was emptied under this process. */
  dropShard(shard: number): void {
    const prefix = sealedKey(shard, 0).replace(/0$/, '');
    for (const key of [...this.#pages.keys()]) if (key.startsWith(prefix)) this.#pages.delete(key);
  }
}

/** How long a shard's open page number, once read, vouches for the pages below it without another read. */
export const OPEN_PAGE_TRUST_MS = 1000;

/**
 * Per shard, the open page number this process read last: every page below
 * it is sealed. Page numbers only grow, so this holds for as long as the
 * store keeps its keys; it is trusted for OPEN_PAGE_TRUST_MS, so a store
 * emptied under a running process (its open pages back at 0) is noticed
 * within that time, and its sealed pages in memory are dropped then. (Two
 * reads answered out of order across a sealing look the same and drop them
 * too: a few more reads, never a wrong page.)
 */
class OpenPageNumbers {
  readonly #below = new Array<number>(SHARDS).fill(0);
  readonly #readAt = new Array<number>(SHARDS).fill(Number.NEGATIVE_INFINITY);
  readonly #sealed: SealedPages;
  readonly #now: () => number;

  constructor(sealed: SealedPages, now: () => number) {
    this.#sealed = sealed;
    this.#now = now;
  }

  /** True when page `page` of `shard` is known to be sealed without reading its open page. */
  sealed(shard: number, page: number): boolean {
    return page < (this.#below[shard] ?? 0) && this.#now() - (this.#readAt[shard] ?? 0) < OPEN_PAGE_TRUST_MS;
  }

  /** Shard `shard`'s open page was read with number `page`. */
  read(shard: number, page: number): void {
    if (page < (this.#below[shard] ?? 0)) this.#sealed.dropShard(shard);
    this.#below[shard] = page;
    this.#readAt[shard] = this.#now();
  }

  /** A page this knew to be sealed is not in the store: read the open page before trusting it again. */
  forget(shard: number): void {
    this.#readAt[shard] = Number.NEGATIVE_INFINITY;
  }
}

/** Where a walk stands in one shard: the page and the position within it. */
export interface ShardPosition {
  p: number;
  i: number;
}

const position = String.raw`\d{1,9}\.\d{1,9}`;
/**
 * A cursor is `<page>.<position>` for each shard, joined by `_`: every string
 * of that shape (the document's pattern) is a place in the index, one past
 * the end included, so the document and the server agree on which are valid.
 */
export const CURSOR_PATTERN = new RegExp(`^${position}(_${position}){${SHARDS - 1}}$`);

export const startOfIndex = (): ShardPosition[] => Array.from({ length: SHARDS }, () => ({ p: 0, i: 0 }));

export function encodeCursor(positions: readonly ShardPosition[]): string {
  return positions.map(({ p, i }) => `${p}.${i}`).join('_');
}

export function decodeCursor(cursor: string): ShardPosition[] {
  const positions = cursor.split('_').map((part) => {
    const [p, i] = part.split('.').map(Number);
    return { p: p ?? Number.NaN, i: i ?? Number.NaN };
  });
  if (!CURSOR_PATTERN.test(cursor) || positions.some(({ p, i }) => !Number.isSafeInteger(p + i)))
    throw new Problem(
      400,
      'Bad Request',
      'The cursor is not one this API returned. Start again without a cursor.',
    );
  return positions;
}

/** An id the walk gives out, and where its shard stands once it is taken. */
export interface Candidate {
  id: string;
  shard: number;
  after: ShardPosition;
}

export class TaskIndex {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #commits: GroupCommit<OpenPage>;
  readonly #sealed = new SealedPages();
  readonly #openPages: OpenPageNumbers;

  /** `now`: a clock in ms, for how long an open page number read is trusted. */
  constructor(
    dapr: DaprGateway,
    store: string,
    maxAttempts = 50,
    now: () => number = () => performance.now(),
  ) {
    this.#dapr = dapr;
    this.#store = store;
    this.#openPages = new OpenPageNumbers(this.#sealed, now);
    this.#commits = new GroupCommit<OpenPage>({
      dapr,
      store,
      parse: (value) => OpenPage.parse(value),
      empty: () => ({ page: 0, ids: [] }),
      maxAttempts,
      prepare: async (key, open) => {
        if (open.ids.length < PAGE_SIZE) return open;
        const shard = Number(key.slice(key.indexOf('|') + 1));
        await dapr.saveState(store, [{ key: sealedKey(shard, open.page), value: { ids: open.ids } }]);
        return { page: open.page + 1, ids: [] };
      },
    });
  }

  append(id: string): Promise<void> {
    return this.#commits.apply(openKey(shardOf(id, SHARDS)), (open, stored) => {
      // Already there: an earlier try was applied but its answer lost (the store died before it answered).
      if (open.ids.includes(id) || stored?.ids.includes(id)) return;
      open.ids.push(id);
    });
  }

  /** A walk of every shard from `positions` on, merged by id; it reads nothing until asked for ids. */
  walk(positions: readonly ShardPosition[]): IndexWalk {
    return new IndexWalk(this.#dapr, this.#store, this.#sealed, this.#openPages, positions);
  }
}

interface Cursor {
  /** The shard's open page once this walk has read it: at most once, when it reaches a page not known to be sealed. */
  open: OpenPage | undefined;
  p: number;
  i: number;
  /** Page p's ids once read; undefined until then. */
  ids: string[] | undefined;
}

/**
 * Gives out the ids of every shard from a position on, the smallest front
 * id first; pages are read as the walk reaches them, one bulk get for every
 * shard that needs one.
 */
export class IndexWalk {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #sealed: SealedPages;
  readonly #openPages: OpenPageNumbers;
  readonly #cursors: Cursor[];

  constructor(
    dapr: DaprGateway,
    store: string,
    sealed: SealedPages,
    openPages: OpenPageNumbers,
    positions: readonly ShardPosition[],
  ) {
    this.#dapr = dapr;
    this.#store = store;
    this.#sealed = sealed;
    this.#openPages = openPages;
    this.#cursors = positions.map(({ p, i }) => ({ open: undefined, p, i, ids: undefined }));
  }

  /** Up to `max` ids, merged by id; fewer only at the end of the index. */
  async next(max: number): Promise<Candidate[]> {
    const taken: Candidate[] = [];
    while (taken.length < max) {
      await this.#load();
      let best: Cursor | undefined;
      let shard = -1;
      for (const [n, cursor] of this.#cursors.entries()) {
        const id = cursor.ids?.[cursor.i];
        if (id !== undefined && (best === undefined || id < (best.ids?.[best.i] as string))) {
          best = cursor;
          shard = n;
        }
      }
      const id = best?.ids?.[best.i];
      if (best === undefined || id === undefined) break;
      best.i += 1;
      taken.push({ id, shard, after: { p: best.p, i: best.i } });
    }
    return taken;
  }

  /** True when no shard has an id left (as of the open pages this walk read). */
  async atEnd(): Promise<boolean> {
    await this.#load();
    return this.#cursors.every((cursor) => cursor.ids?.[cursor.i] === undefined);
  }

  /**
   * Brings every shard whose page is used up to its next page that has ids
   * left: sealed pages from memory where it can, the rest (sealed pages and
   * the open pages of shards that reach one not known to be sealed) in one
   * bulk get a pass.
   */
  async #load(): Promise<void> {
    for (;;) {
      const wanted: Array<[shard: number, key: string]> = [];
      let cached = false;
      for (const [shard, cursor] of this.#cursors.entries()) {
        if (cursor.ids && cursor.i < cursor.ids.length) continue;
        // Below the open page this walk read, or known to be sealed without reading it.
        const sealed = (page: number) =>
          cursor.open ? page < cursor.open.page : this.#openPages.sealed(shard, page);
        if (cursor.ids) {
          // Used up: on to the next page, if there is one (a page above a sealed one always is).
          if (!sealed(cursor.p)) {
            // The open page itself, or not known to be sealed: the open page says whether more follows.
            if (!cursor.open) wanted.push([shard, openKey(shard)]);
            continue;
          }
          cursor.p += 1;
          cursor.i = 0;
          cursor.ids = undefined;
        }
        if (sealed(cursor.p)) {
          const key = sealedKey(shard, cursor.p);
          cursor.ids = this.#sealed.get(key);
          if (cursor.ids) cached = true;
          else wanted.push([shard, key]);
        } else if (!cursor.open) wanted.push([shard, openKey(shard)]);
        else cursor.ids = cursor.p === cursor.open.page ? cursor.open.ids : [];
      }
      // A page from memory may be used up at the cursor's position too: another pass moves it on.
      if (wanted.length === 0) {
        if (cached) continue;
        return;
      }
      const found = await this.#dapr.getBulkState(
        this.#store,
        wanted.map(([, key]) => key),
      );
      for (const [shard, key] of wanted) {
        const cursor = this.#cursors[shard] as Cursor;
        const stored = found.get(key);
        if (key === openKey(shard)) {
          // The next pass places the cursor with it.
          cursor.open = stored ? OpenPage.parse(stored.value) : { page: 0, ids: [] };
          this.#openPages.read(shard, cursor.open.page);
          continue;
        }
        if (!stored && !cursor.open) {
          // Sealed by this process's memory only, and not in the store (it was emptied): read the open page.
          this.#openPages.forget(shard);
          continue;
        }
        if (!stored) throw new Error(`task index page ${key} is missing below its shard's open page`);
        const { ids } = SealedPage.parse(stored.value);
        this.#sealed.set(key, ids);
        cursor.ids = ids;
      }
    }
  }
}
