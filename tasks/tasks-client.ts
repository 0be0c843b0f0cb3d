import type { DaprGateway } from '../shared/dapr.ts';
import { Task } from './tasks.ts';

/** The Task API as the functions that do not own task state see it. */
export interface TasksApi {
  /** The task, or undefined when the Task API says it does not exist. */
  getTask(id: string): Promise<Task | undefined>;
}

/** Reading a task through the Task API failed; the caller's delivery should be retried. */
export class TasksApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TasksApiError';
  }
}

/**
 * Reads tasks through Dapr service invocation on the Task API app
 * (`GET /v1.0/invoke/<appId>/method/tasks/<id>`), with the API's bearer
 * token from the secret store, like any other client of the API.
 */
export function createTasksApi(dapr: DaprGateway, appId: string, token: () => string | undefined): TasksApi {
  return {
    async getTask(id) {
      const bearer = token();
      if (bearer === undefined)
        throw new TasksApiError('the API token is not loaded from the secret store yet');
      const response = await dapr.invokeMethod(appId, `tasks/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      const body = response.body as { taskId?: unknown } | undefined;
      // Only the API's own "no such task" counts as absent; a 404 for an unknown route is a misconfiguration.
      if (response.status === 404 && body?.taskId === id) return undefined;
      if (response.status !== 200)
        throw new TasksApiError(`GET tasks/${id} on app ${appId} answered ${response.status}`);
      return Task.parse(response.body);
    },
  };
}
