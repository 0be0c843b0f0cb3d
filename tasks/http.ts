import { z } from '@hono/zod-openapi';
import { ProblemDetails, problemResponsesWith } from '../shared/http.ts';
import { Task } from './tasks.ts';

/** The runtime's problem details, and the id of the task a 404 is about. */
export const TaskProblem = ProblemDetails.extend({
  taskId: z.string().optional().openapi({ description: 'On 404: the id of the task that does not exist' }),
}).openapi('Problem');

/** OpenAPI responses for the given error statuses, as the Task API answers them. */
export const problemResponses = problemResponsesWith(TaskProblem, { 404: 'No such task' });

export const taskResponse = (description: string) => ({
  description,
  headers: z.object({ ETag: z.string().openapi({ description: 'Current version; send as If-Match' }) }),
  content: { 'application/json': { schema: Task } },
});
