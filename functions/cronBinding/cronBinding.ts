import { z } from 'zod';
import { ONCE_TTL_SECONDS, once } from '../../shared/once.ts';
import { defineFunction } from '../../tasks/app.ts';
import { DueIndex } from '../../tasks/due-index.ts';
import { publishTaskEvent } from '../../tasks/events.ts';

/** The cron input binding component (components/<profile>/overdue-sweep.yaml) holds the schedule. */
export const OVERDUE_SWEEP_BINDING = 'overdue-sweep';

/**
 * The overdue sweep, triggered by the cron input binding: finds open tasks
 * whose `dueAt` has passed and publishes `task.overdue` once per task and
 * due date, however many sweeps (or replicas of this function) run.
 *
 * It reads only the due index's buckets from its cursor up to now (see
 * tasks/due-index.ts), so its cost follows the tasks that came due, not the
 * number of tasks. Each candidate is checked against the task itself, read
 * through the Task API; an overdue-record per task and due date is written
 * after the publish, whose CloudEvent id is derived from the same pair (or
 * once the task is found not to exist, so it is not read again).
 */
export const cronBinding = defineFunction({
  name: 'cronBinding',
  trigger: { kind: 'binding', binding: OVERDUE_SWEEP_BINDING, data: z.unknown() },
  handler: async (_input, { deps, log }) => {
    const { dapr, config } = deps;
    const now = deps.now();
    let published = 0;
    const result = await new DueIndex(dapr, config.STATE_STORE).sweep(now, async (entry) => {
      if (Date.parse(entry.dueAt) > now.getTime()) return;
      try {
        await once(
          dapr,
          config.STATE_STORE,
          `overdue|${entry.id}|${entry.dueAt}`,
          ONCE_TTL_SECONDS,
          async () => {
            const task = await deps.tasksApi.getTask(entry.id);
            // A task that does not exist (deleted, or never created) never falls due: the check is
            // done. Read again on every sweep, its 404s would open daprd's circuit breaker on its
            // route, and the failed reads would hold the sweep's cursor there.
            if (!task) return true;
            if (task.status !== 'open' || task.dueAt !== entry.dueAt) return false;
            await publishTaskEvent(deps, 'task.overdue', task, entry.dueAt);
            published += 1;
            log.info('task.overdue published', { taskId: task.id, dueAt: entry.dueAt });
            return true;
          },
        );
      } catch (error) {
        log.error('overdue check failed; the next sweep tries again', { taskId: entry.id, error });
        throw error;
      }
    });
    if (result.visited > 0) log.info('overdue sweep', { ...result, published });
  },
});
