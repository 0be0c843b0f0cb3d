import { recordActivity } from '../../shared/activity.ts';
import { TaskEventData, TaskEventType } from '../../shared/events.ts';
import { defineFunction } from '../../shared/function.ts';

/**
 * Consumes `task-events`: records each event in its task's activity history,
 * once per CloudEvent id however often it is delivered. A type this function
 * does not know is dropped (it can never succeed); a failure to record throws,
 * which daprd answers with a redelivery.
 */
export const onTaskEvent = defineFunction({
  name: 'onTaskEvent',
  trigger: { kind: 'topic', topic: 'task-events', data: TaskEventData, deadLetterTopic: 'task-events-dlq' },
  handler: async (event, { deps, log }) => {
    const type = TaskEventType.safeParse(event.type);
    if (!type.success) {
      log.warn('event dropped: unknown type', { eventId: event.id, type: event.type });
      return 'DROP';
    }
    const time = event.time ?? deps.now().toISOString();
    const added = await recordActivity(deps.dapr, deps.config.STATE_STORE, event.data.id, {
      eventId: event.id,
      type: type.data,
      time,
    });
    if (!added) log.info('duplicate event ignored', { eventId: event.id, taskId: event.data.id });
    return 'SUCCESS';
  },
});
