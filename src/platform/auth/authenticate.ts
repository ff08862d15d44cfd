import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ApiError } from '../http/api-error.js';
import type { ApiKeyStore, KeyRole, Principal } from './api-keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route takes the key as `?key=` too: only the Server-Sent Events routes, for the one client
     * that cannot set headers (the browser's EventSource). Everywhere else a key in the URL is ignored,
     * as URLs end up in proxies' logs and browsers' histories.
     */
    keyInQuery?: boolean;
  }
}

/** Who a request says it is, worked out once per request (the rate limiter asks first, then the route). */
export type Caller =
  | { kind: 'anonymous'; keyInUrlIgnored: boolean }
  | { kind: 'malformed' }
  | { kind: 'unknown' }
  | { kind: 'key'; principal: Principal };

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller of a request, from its `Authorization: Bearer` header (or `?key=` where the route allows it). */
export function callerOf(request: FastifyRequest, store: ApiKeyStore): Caller {
  let caller = callers.get(request);
  if (!caller) {
    caller = identify(request, store);
    callers.set(request, caller);
  }
  return caller;
}

function identify(request: FastifyRequest, store: ApiKeyStore): Caller {
  const header = request.headers.authorization;
  const fromQuery = (request.query as { key?: unknown } | undefined)?.key;
  let secret: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { kind: 'malformed' };
    secret = match[1];
  } else if (typeof fromQuery === 'string' && request.routeOptions.config?.keyInQuery) {
    secret = fromQuery;
  }
  if (!secret) return { kind: 'anonymous', keyInUrlIgnored: fromQuery !== undefined };
  const principal = store.verify(secret);
  return principal ? { kind: 'key', principal } : { kind: 'unknown' };
}

/**
 * A hook that admits a request carrying a live key of the given role, and answers 401 to every
 * other. Register it on `onRequest`, so a caller without a key learns nothing about the route's
 * parameters from its validation errors.
 */
export function authenticate(store: ApiKeyStore, role: KeyRole = 'api') {
  // Callback style: it runs on every request, and an async hook costs promises for nothing.
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const caller = callerOf(request, store);
    done(caller.kind === 'key' && caller.principal.role === role ? undefined : refusal(caller, role));
  };
}

function refusal(caller: Caller, role: KeyRole): ApiError {
  switch (caller.kind) {
    case 'malformed':
      return new ApiError(
        401,
        'authentication_error',
        'invalid_authorization',
        'Use the header "Authorization: Bearer <key>"',
      );
    case 'anonymous':
      return new ApiError(
        401,
        'authentication_error',
        'missing_api_key',
        caller.keyInUrlIgnored
          ? 'Send your key as "Authorization: Bearer <key>"; only the event stream routes take it as ?key='
          : 'Send your key as "Authorization: Bearer <key>"',
        undefined,
        { 'www-authenticate': 'Bearer' },
      );
    default:
      // An unknown, revoked or other-role key: the answer does not say which.
      return new ApiError(
        401,
        'authentication_error',
        'invalid_api_key',
        `Invalid ${role === 'admin' ? 'admin' : 'API'} key`,
      );
  }
}

/** The caller admitted by `authenticate`; calling it on an unauthenticated route is a bug. */
export function principalOf(request: FastifyRequest): Principal {
  const caller = callers.get(request);
  if (caller?.kind !== 'key') {
    throw new Error(`route ${request.routeOptions.url} reads the caller but does not authenticate`);
  }
  return caller.principal;
}
