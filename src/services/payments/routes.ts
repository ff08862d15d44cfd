import type { FastifyReply } from 'fastify';
import type { ApiKeyStore } from '../../platform/auth/api-keys.js';
import { authenticate, principalOf } from '../../platform/auth/authenticate.js';
import { errorBodySchema } from '../../platform/http/api-error.js';
import { encapsulate, type HttpServer } from '../../platform/http/server.js';
import { requestTrace } from '../../platform/telemetry/http-spans.js';
import type { Answer, Payments } from './payments.js';
import {
  createPaymentSchema,
  declinedSchema,
  idempotencyHeaderSchema,
  LIMITS,
  listQuerySchema,
  paymentIdParams,
  paymentListSchema,
  paymentSchema,
  refundRequestSchema,
  refundSchema,
  sideEffectListSchema,
} from './schemas.js';

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  422: errorBodySchema,
  503: errorBodySchema,
};

/** The payments API: schema-first routes; the payment logic itself lives in `Payments`. */
export function registerPaymentRoutes(app: HttpServer, parts: { payments: Payments; keys: ApiKeyStore }): void {
  const { payments } = parts;
  // An answer's body was shaped by `Payments` for its status; a replay is that same body.
  const send = (reply: FastifyReply, answer: Answer) => {
    reply
      .code(answer.status)
      .headers(answer.headers ?? {})
      .send(answer.body);
  };

  encapsulate(app, (scope) => {
    // Authentication before validation: an unknown caller learns nothing about what a valid body is.
    scope.addHook('onRequest', authenticate(parts.keys));

    scope.post(
      '/v1/payments',
      {
        bodyLimit: LIMITS.bodyBytes,
        schema: {
          summary: 'Pay: authorize the card with the gateway and answer with the confirmed (or declined) payment',
          tags: ['payments'],
          headers: idempotencyHeaderSchema,
          body: createPaymentSchema,
          response: { 201: paymentSchema, 202: paymentSchema, 402: declinedSchema, ...errors },
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        send(reply, await payments.create(principalOf(request), key, request.body, requestTrace(request)));
      },
    );

    scope.get(
      '/v1/payments/:id',
      {
        schema: {
          summary: 'Read one payment',
          tags: ['payments'],
          params: paymentIdParams,
          response: { 200: paymentSchema, ...errors },
        },
      },
      async (request) => payments.get(principalOf(request), request.params.id),
    );

    scope.get(
      '/v1/payments/:id/side_effects',
      {
        schema: {
          summary: "Where the payment's asynchronous side effects stand: per event and consumer group",
          tags: ['payments'],
          params: paymentIdParams,
          response: { 200: sideEffectListSchema, ...errors },
        },
      },
      async (request) => ({
        object: 'list' as const,
        data: await payments.sideEffects(principalOf(request), request.params.id),
      }),
    );

    scope.get(
      '/v1/payments',
      {
        schema: {
          summary: 'List payments, newest first',
          tags: ['payments'],
          querystring: listQuerySchema,
          response: { 200: paymentListSchema, ...errors },
        },
      },
      async (request) => ({
        object: 'list' as const,
        ...(await payments.list(principalOf(request), request.query.limit, request.query.starting_after)),
      }),
    );

    scope.post(
      '/v1/payments/:id/refunds',
      {
        bodyLimit: LIMITS.bodyBytes,
        schema: {
          summary: 'Refund all or part of a succeeded payment',
          tags: ['payments'],
          headers: idempotencyHeaderSchema,
          params: paymentIdParams,
          body: refundRequestSchema,
          response: { 201: refundSchema, ...errors },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        send(
          reply,
          await payments.refund(
            principalOf(request),
            request.headers['idempotency-key'],
            id,
            request.body?.amount,
            requestTrace(request),
          ),
        );
      },
    );
  });
}
