import type { FunctionDefinition } from '../shared/function.ts';
import { instrumentsOf } from '../shared/telemetry.ts';

/**
 * The Task API's counters. Prometheus names: tasks_created_total,
 * task_events_processed_total (by type), task_events_dead_lettered_total,
 * outbox_publish_failures_total, outbox_swept_total, outbox_backlog_refusals_total.
 */
const instruments = instrumentsOf((meter) => ({
  created: meter.createCounter('tasks.created', { description: 'Tasks created' }),
  processed: meter.createCounter('task_events.processed', { description: 'Task events handled' }),
  deadLettered: meter.createCounter('task_events.dead_lettered', { description: 'Events dead-lettered' }),
  outboxFailed: meter.createCounter('outbox.publish_failures', {
    description: 'Publishes of a record’s events that failed after its save (left to the sweep)',
  }),
  outboxSwept: meter.createCounter('outbox.swept', {
    description: 'Records whose events the outbox sweep published (a crash or a failed publish left them)',
  }),
  backlogRefusals: meter.createCounter('outbox.backlog_refusals', {
    description: 'Writes refused with 503 before they began: the broker was too far behind their events',
  }),
}));

/** Counts a task created (createTask). */
export const countTaskCreated = () => instruments().created.add(1);
/** Counts an event onTaskEvent handled, by CloudEvent type. */
export const countEventProcessed = (type: string) => instruments().processed.add(1, { type });
/** Counts an event that reached the dead-letter topic. */
export const countDeadLetter = () => instruments().deadLettered.add(1);
/** Counts a publish of a record's events that failed after the record's save. */
export const countOutboxPublishFailure = () => instruments().outboxFailed.add(1);
/** Counts a write refused because the events of earlier writes were not leaving fast enough. */
export const countBacklogRefusal = () => instruments().backlogRefusals.add(1);
/** Counts records whose events the outbox sweep published. */
export const countOutboxSwept = (records: number) => instruments().outboxSwept.add(records);

/** The counters these functions can move, at 0 before the first invocation (see zeroCounters in shared/telemetry.ts). */
export function zeroTaskCounters(fns: readonly Pick<FunctionDefinition, 'name'>[]) {
  const { created, deadLettered, outboxFailed, outboxSwept, backlogRefusals } = instruments();
  if (fns.some((fn) => fn.name === 'createTask')) {
    created.add(0);
    backlogRefusals.add(0);
  }
  if (fns.some((fn) => fn.name === 'onDeadLetter')) deadLettered.add(0);
  if (fns.some((fn) => fn.name === 'outboxSweep')) {
    outboxFailed.add(0);
    outboxSwept.add(0);
  }
}
