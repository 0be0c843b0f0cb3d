import { z } from '@hono/zod-openapi';
import type { DaprGateway } from '../shared/dapr.ts';
import { saveWithEtag } from '../shared/guarded-save.ts';

export const DeadLetter = z
  .object({
    eventId: z.string(),
    type: z.string(),
    subject: z.string().optional(),
    time: z.string().optional().openapi({ description: 'When the event was published' }),
    receivedAt: z.string().openapi({ description: 'When it reached the dead-letter topic' }),
    traceId: z
      .string()
      .optional()
      .openapi({ description: 'The trace the event belongs to: Jaeger shows it at /trace/<traceId>' }),
    data: z.string().openapi({ description: 'The event data as JSON, cut at 2 KiB' }),
  })
  .openapi('DeadLetter');
export type DeadLetter = z.infer<typeof DeadLetter>;

export const DeadLetters = z.object({ items: z.array(DeadLetter) }).openapi('DeadLetters');

const KEY = 'dead-letters';
/** The newest dead letters kept; older ones go first. */
export const MAX_DEAD_LETTERS = 100;
const MAX_DATA_CHARS = 2048;

/** Keeps a dead letter for operators to read; the same event id is kept once. */
export async function recordDeadLetter(
  dapr: DaprGateway,
  store: string,
  letter: Omit<DeadLetter, 'data'> & { data: unknown },
): Promise<boolean> {
  const entry: DeadLetter = { ...letter, data: dataAsJson(letter.data).slice(0, MAX_DATA_CHARS) };
  return saveWithEtag<{ items: DeadLetter[] }>(dapr, store, KEY, (current) => {
    const items = current ? DeadLetters.parse(current.value).items : [];
    if (items.some((item) => item.eventId === entry.eventId)) return undefined;
    return { items: [...items, entry].slice(-MAX_DEAD_LETTERS) };
  });
}

/**
 * The data as JSON. Data nested deeper than JSON.stringify can recurse (a
 * hostile publisher's) is kept as a note saying so: it cannot be written, and
 * a throw here would have the dead letter redelivered until daprd gives up.
 */
function dataAsJson(data: unknown): string {
  try {
    return JSON.stringify(data) ?? 'undefined';
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return JSON.stringify('(not shown: the data is nested too deep to write as JSON)');
  }
}

export async function readDeadLetters(dapr: DaprGateway, store: string): Promise<DeadLetter[]> {
  const stored = await dapr.getState(store, KEY);
  return stored ? DeadLetters.parse(stored.value).items : [];
}
