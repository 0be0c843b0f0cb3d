export interface BurstOptions {
  /** The Task API's base URL. */
  url: string;
  token: string;
  count: number;
  concurrency: number;
  /** Each task's title, from its number (1-based). */
  title?: (n: number) => string;
  /** Attempts per create: a 503 (the sidecar busy, the replica full) is retried up to this many. */
  attempts?: number;
}

export interface BurstResult {
  /** The ids of the tasks created. */
  ids: string[];
  /** Creates answered 503 and sent again. */
  retried: number;
  /** Creates that got no 201: another status, or a 503 on every attempt. */
  failed: number;
}

/**
 * `count` creates through the Task API, `concurrency` at a time, as a
 * well-behaved client sends them: a 503 is retried after a short back-off,
 * any other status than 201 counts as failed.
 */
export async function createTasks({
  url,
  token,
  count,
  concurrency,
  title = (n) => `burst ${n}`,
  attempts = 5,
}: BurstOptions): Promise<BurstResult> {
  const result: BurstResult = { ids: [], retried: 0, failed: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const body = JSON.stringify({ title: title(next) });
        for (let attempt = 1; ; attempt++) {
          const response = await fetch(`${url}/tasks`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          });
          if (response.status === 201) {
            result.ids.push(((await response.json()) as { id: string }).id);
            break;
          }
          await response.body?.cancel();
          if (response.status !== 503 || attempt === attempts) {
            result.failed += 1;
            break;
          }
          result.retried += 1;
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }
    }),
  );
  return result;
}
