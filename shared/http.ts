import { z } from '@hono/zod-openapi';

/** RFC 9457 problem details, as every error response carries them. */
export const ProblemDetails = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ in: z.string(), path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const problemDescriptions = {
  400: 'The request is not valid; `detail` and `errors` say what to change',
  401: 'Missing or wrong bearer token',
  404: 'Not found',
  412: 'If-Match does not match the current ETag',
  413: 'Body too large',
  415: 'Body is not JSON',
  503: 'The sidecar or its store is unavailable; retry after Retry-After seconds',
} as const;

export type ProblemStatus = keyof typeof problemDescriptions;

interface ProblemResponse<P extends z.ZodType> {
  description: string;
  content: { 'application/problem+json': { schema: P } };
}

/**
 * `problemResponses(...statuses)`, the OpenAPI responses for those error
 * statuses, with an app's own problem schema (ProblemDetails extended) and
 * descriptions where it says more than the runtime's.
 */
export function problemResponsesWith<P extends z.ZodType>(
  schema: P,
  descriptions: Partial<Record<ProblemStatus, string>> = {},
) {
  return <const S extends ProblemStatus>(...statuses: S[]) => {
    const responses = {} as Record<S, ProblemResponse<P>>;
    for (const status of statuses) {
      responses[status] = {
        description: descriptions[status] ?? problemDescriptions[status],
        content: { 'application/problem+json': { schema } },
      };
    }
    return responses;
  };
}

/** OpenAPI responses for the given error statuses. */
export const problemResponses = problemResponsesWith(ProblemDetails);

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
