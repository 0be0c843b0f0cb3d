import { TASK_EVENTS_DLQ, TaskEventData } from '../../shared/events.ts';
import { defineFunction } from '../../shared/function.ts';
import { relayWrite, TASK_WRITES_TOPIC, WriteEvent } from '../../shared/write-relay.ts';

/**
 * Consumes `task-writes`, where the state store's transactional outbox
 * publishes every task write, and forwards each write's event to
 * `task-events` keyed by task id, in the order of the task's writes (see
 * relayWrite). An event that is not a write of a task is dropped to
 * `task-events-dlq`; a failure throws, which daprd answers with a redelivery.
 */
export const relayTaskWrite = defineFunction({
  name: 'relayTaskWrite',
  trigger: { kind: 'topic', topic: TASK_WRITES_TOPIC, data: TaskEventData, deadLetterTopic: TASK_EVENTS_DLQ },
  handler: async (event, { deps, log }) => {
    const write = WriteEvent.safeParse({ ...event, prevtime: event.extensions.prevtime });
    if (!write.success || write.data.data.id !== write.data.subject) {
      log.warn('event dropped: not the event of a task write', { eventId: event.id, type: event.type });
      return 'DROP';
    }
    const outcome = await relayWrite(deps, write.data);
    if (outcome.dropped.length > 0)
      log.info('write events dropped: redelivered, or of writes that did not commit', {
        taskId: write.data.subject,
        eventIds: outcome.dropped,
      });
    if (outcome.held > 0)
      log.info('write events held for an earlier one', { taskId: write.data.subject, held: outcome.held });
    return 'SUCCESS';
  },
});
