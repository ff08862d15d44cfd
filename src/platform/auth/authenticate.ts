import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ApiError } from '../http/api-error.js';
import type { ApiKeyStore, KeyRole, Principal } from './api-keys.js';

const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * A preHandler that admits a request carrying `Authorization: Bearer <key>` of the given role.
 * `?key=` is accepted too, for the one client that cannot set headers: the browser's EventSource.
 */
export function authenticate(store: ApiKeyStore, role: KeyRole = 'api') {
  // Callback style: it runs on every request, and an async hook costs promises for nothing.
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    let refused: Error | undefined;
    try {
      admit(request, store, role);
    } catch (error) {
      refused = error as Error;
    }
    done(refused);
  };
}

function admit(request: FastifyRequest, store: ApiKeyStore, role: KeyRole): void {
  const header = request.headers.authorization;
  const fromQuery = (request.query as { key?: unknown } | undefined)?.key;
  let secret: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ApiError(
        401,
        'authentication_error',
        'invalid_authorization',
        'Use the header "Authorization: Bearer <key>"',
      );
    }
    secret = match[1];
  } else if (typeof fromQuery === 'string') {
    secret = fromQuery;
  }
  if (!secret) {
    throw new ApiError(
      401,
      'authentication_error',
      'missing_api_key',
      'Send your key as "Authorization: Bearer <key>"',
      undefined,
      {
        'www-authenticate': 'Bearer',
      },
    );
  }
  const principal = store.verify(secret);
  if (!principal || principal.role !== role) {
    throw new ApiError(
      401,
      'authentication_error',
      'invalid_api_key',
      `Invalid ${role === 'admin' ? 'admin' : 'API'} key`,
    );
  }
  principals.set(request, principal);
}

/** The caller admitted by `authenticate`; calling it on an unauthenticated route is a bug. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error(`route ${request.routeOptions.url} reads the caller but does not authenticate`);
  return principal;
}
