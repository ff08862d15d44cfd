import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ApiError } from '../http/api-error.js';

/**
 * An onRequest hook for internal routes: admits a request carrying `Authorization: Bearer <secret>`
 * (compared in constant time), and refuses every other before its body is even read.
 */
export function requireSharedSecret(secret: string, refusal: { code: string; message: string }) {
  const expected = Buffer.from(`Bearer ${secret}`);
  // Callback style: it runs on every call, and an async hook costs promises for nothing.
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const given = Buffer.from(request.headers.authorization ?? '');
    const admitted = given.length === expected.length && timingSafeEqual(given, expected);
    done(admitted ? undefined : new ApiError(401, 'authentication_error', refusal.code, refusal.message));
  };
}
