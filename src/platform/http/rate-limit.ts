import fastifyRateLimit from '@fastify/rate-limit';
import type { ApiKeyStore } from '../auth/api-keys.js';
import { callerOf } from '../auth/authenticate.js';
import { ApiError } from './api-error.js';
import type { HttpServer } from './server.js';

export interface RateLimitOptions {
  keys: ApiKeyStore;
  /** Requests one key (or one client address, for requests without a live key) may make per window. */
  max: number;
  windowMs: number;
}

/**
 * A fixed-window rate limit on every request of the public listener (@fastify/rate-limit, kept in
 * this process's memory): per API key, and per client address for requests without a live key, so
 * guessing keys is limited too. Every answer carries the IETF `RateLimit-Limit`, `-Remaining` and
 * `-Reset` headers; one past the limit is a 429 in the error shape, with `Retry-After`.
 *
 * It runs as a server-wide onRequest hook, before any route's own authentication, so a flood of
 * bad keys is counted like anything else.
 */
export async function registerRateLimit(app: HttpServer, options: RateLimitOptions): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    max: options.max,
    timeWindow: options.windowMs,
    enableDraftSpec: true,
    keyGenerator: (request) => {
      const caller = callerOf(request, options.keys);
      return caller.kind === 'key' ? `key:${caller.principal.keyId}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        429,
        'rate_limit_error',
        'rate_limited',
        `Too many requests: at most ${context.max} per ${options.windowMs} ms for one key; retry in ${context.after}`,
      ),
  });
  app.addHook('onRequest', app.rateLimit());
}
