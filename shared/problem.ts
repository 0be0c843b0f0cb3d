import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ProblemOptions {
  /** Extra members of the problem document (RFC 9457 §3.2), e.g. `errors`. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The one error type the router turns into an `application/problem+json`
 * response (RFC 9457). Anything else that escapes a handler is a 500.
 *
 * @example
 * throw new Problem(404, 'Not Found', `No order has the id ${id}.`);
 */
export class Problem extends Error {
  readonly status: ContentfulStatusCode;
  readonly title: string;
  readonly detail: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, title: string, detail: string, options: ProblemOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = 'Problem';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toResponse(instance: string): Response {
    const body = {
      type: 'about:blank',
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance,
      ...this.extensions,
    };
    return new Response(JSON.stringify(body), {
      status: this.status,
      headers: { ...this.headers, 'content-type': 'application/problem+json' },
    });
  }
}

/** Seconds a client should wait before retrying when the sidecar is unavailable. */
export const SIDECAR_RETRY_AFTER_SECONDS = 2;

export function sidecarUnavailable(cause: unknown): Problem {
  return new Problem(
    503,
    'Service Unavailable',
    'The Dapr sidecar or the store behind it did not answer; retry shortly. A write answered so may or may not have been made: read it back before repeating a change that is not safe to repeat.',
    { cause, headers: { 'retry-after': String(SIDECAR_RETRY_AFTER_SECONDS) } },
  );
}
