import { z } from 'zod';
import { defineFunction } from '../../tasks/app.ts';

/** The cron input binding component (components/common/outbox-sweep.yaml) holds the schedule. */
export const OUTBOX_SWEEP_BINDING = 'outbox-sweep';

/**
 * The outbox's recovery, triggered by a cron input binding: publishes the
 * events that a crash (of the app, of daprd, of the broker) left in task
 * records after their save, in order and keyed by task id, and forgets the
 * writes that are done. It reads the outbox's intent index, a fixed handful
 * of keys, and only the records named there, so an idle sweep costs one bulk
 * read. A throw is a failed trigger; the next one tries again.
 */
export const outboxSweep = defineFunction({
  name: 'outboxSweep',
  trigger: { kind: 'binding', binding: OUTBOX_SWEEP_BINDING, data: z.unknown() },
  handler: async (_input, { deps, log }) => {
    const outcome = await deps.tasks.sweepOutbox();
    if (outcome.published > 0 || outcome.released > 0) log.info('outbox sweep', { ...outcome });
  },
});
