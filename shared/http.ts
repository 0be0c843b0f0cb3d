import { z } from '@hono/zod-openapi';
import { Task } from './tasks.ts';

/** RFC 9457 problem details, as every error response carries them. */
export const ProblemDetails = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ in: z.string(), path: z.string(), message: z.string() })).optional(),
    taskId: z.string().optional().openapi({ description: 'On 404: the id of the task that does not exist' }),
  })
  .openapi('Problem');

const problemDescriptions = {
  400: 'The request is not valid; `detail` and `errors` say what to change',
  401: 'Missing or wrong bearer token',
  404: 'No such task',
  412: 'If-Match does not match the current ETag',
  413: 'Body too large',
  415: 'Body is not JSON',
  503: 'The sidecar or its store is unavailable; retry after Retry-After seconds',
} as const;

/** OpenAPI responses for the given error statuses. */
export function problemResponses<const S extends keyof typeof problemDescriptions>(...statuses: S[]) {
  const responses = {} as Record<S, ProblemResponse>;
  for (const status of statuses) {
    responses[status] = {
      description: problemDescriptions[status],
      content: { 'application/problem+json': { schema: ProblemDetails } },
    };
  }
  return responses;
}

interface ProblemResponse {
  description: string;
  content: { 'application/problem+json': { schema: typeof ProblemDetails } };
}

export const taskResponse = (description: string) => ({
  description,
  headers: z.object({ ETag: z.string().openapi({ description: 'Current version; send as If-Match' }) }),
  content: { 'application/json': { schema: Task } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const IfMatchHeader = z.object({
  'if-match': z
    .string()
    .max(200)
    .optional()
    .openapi({ description: 'ETag from a previous response; stale gives 412' }),
});

/** Dapr's etag as an HTTP entity tag. */
export const toEntityTag = (etag: string) => `"${etag}"`;

/** The state etag named by an If-Match header, or undefined for none or `*`. */
export function fromIfMatch(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value || value === '*') return undefined;
  return value.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
