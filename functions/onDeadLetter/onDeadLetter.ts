import { z } from 'zod';
import { traceIds } from '../../shared/telemetry.ts';
import { defineFunction } from '../../tasks/app.ts';
import { recordDeadLetter } from '../../tasks/dead-letters.ts';
import { TASK_EVENTS_DLQ } from '../../tasks/events.ts';
import { countDeadLetter } from '../../tasks/metrics.ts';

/**
 * Consumes the dead-letter topic of `task-events`: every event onTaskEvent
 * dropped (its data can never be handled) lands here, is logged as an error
 * and kept, newest 100, for `GET /dead-letters` with its trace id.
 */
export const onDeadLetter = defineFunction({
  name: 'onDeadLetter',
  trigger: { kind: 'topic', topic: TASK_EVENTS_DLQ, data: z.unknown() },
  handler: async (event, { deps, log }) => {
    log.error('dead letter on task-events', { eventId: event.id, type: event.type, subject: event.subject });
    countDeadLetter();
    // This invocation continues the event's trace: its id leads from GET /dead-letters to the trace.
    const { trace_id: traceId } = traceIds();
    await recordDeadLetter(deps.dapr, deps.config.STATE_STORE, {
      eventId: event.id,
      type: event.type,
      ...(event.subject === undefined ? {} : { subject: event.subject }),
      ...(event.time === undefined ? {} : { time: event.time }),
      receivedAt: deps.now().toISOString(),
      ...(traceId ? { traceId } : {}),
      data: event.data,
    });
    return 'SUCCESS';
  },
});
