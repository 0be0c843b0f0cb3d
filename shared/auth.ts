import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { Problem, SIDECAR_RETRY_AFTER_SECONDS } from './problem.ts';

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * `Authorization: Bearer <token>` for an app's HTTP functions; a refusal names
 * `realm` (the app-id) in WWW-Authenticate. `currentToken` is read on
 * every request, so a token loaded (or rotated) after start-up takes effect
 * at once; while none is loaded every request is refused with 503.
 */
export function bearerAuth(currentToken: () => string | undefined, realm: string): MiddlewareHandler {
  return async function bearer(c, next) {
    const expected = currentToken();
    if (expected === undefined) {
      throw new Problem(
        503,
        'Service Unavailable',
        'The API token has not been loaded from the secret store yet.',
        {
          headers: { 'retry-after': String(SIDECAR_RETRY_AFTER_SECONDS) },
        },
      );
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1] || !sameSecret(match[1], expected)) {
      throw new Problem(
        401,
        'Unauthorized',
        header ? 'The bearer token is not valid.' : 'Send the API token as "Authorization: Bearer <token>".',
        { headers: { 'www-authenticate': `Bearer realm="${realm}"` } },
      );
    }
    await next();
  };
}

/** Routes only daprd calls (subscriptions, jobs, bindings) carry daprd's `dapr-api-token`. */
export function daprAppToken(expected: string): MiddlewareHandler {
  return async function daprToken(c, next) {
    const given = c.req.header('dapr-api-token');
    if (!given || !sameSecret(given, expected)) {
      throw new Problem(
        401,
        'Unauthorized',
        'This route is called by the Dapr sidecar only (dapr-api-token).',
      );
    }
    await next();
  };
}
