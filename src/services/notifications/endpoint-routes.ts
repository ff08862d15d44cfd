import { z } from 'zod';
import { paymentEvents } from '../../contracts/payment-events.js';
import { principalOf } from '../../platform/auth/authenticate.js';
import { ApiError, notFound } from '../../platform/http/api-error.js';
import type { HttpServer } from '../../platform/http/server.js';
import { type IdempotentRequests, optionalIdempotencyHeader } from '../../platform/idempotent-requests.js';
import { EndpointLimitError, type EndpointStore, type WebhookEndpoint } from './endpoint-store.js';
import { checkWebhookUrl, WebhookUrlError, type WebhookUrlPolicy } from './webhook-url-policy.js';

const MAX_URL_LENGTH = 2_048;
const ALL_EVENTS = '*';

const enabledEventSchema = z.enum([ALL_EVENTS, ...paymentEvents.map((e) => e.type)] as [string, ...string[]]);

const createEndpointSchema = z.strictObject({
  url: z
    .url({
      protocol: /^https?$/,
      // Only the format message is ours: a missing url keeps the default one, which reads as "missing".
      // Whether http:// is taken, and which hosts, is the URL policy's to say, after the schema.
      error: (issue) => (issue.code === 'invalid_format' ? 'must be an https:// URL' : undefined),
    })
    .max(MAX_URL_LENGTH),
  enabled_events: z
    .array(enabledEventSchema)
    .min(1, 'name at least one event type, or "*" for all of them')
    .max(32)
    .refine(
      (events) => !events.includes(ALL_EVENTS) || events.length === 1,
      '"*" stands for every event type and goes alone',
    ),
});

const endpointSchema = z
  .object({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    enabled_events: z.array(z.string()),
    created_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

const createdEndpointSchema = endpointSchema
  .extend({ secret: z.string().describe('Signs every request to this endpoint; shown only in this answer.') })
  .meta({ id: 'CreatedWebhookEndpoint' });

const endpointListSchema = z.object({
  object: z.literal('list'),
  data: z.array(endpointSchema),
  has_more: z.boolean(),
});

const deletedEndpointSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  deleted: z.literal(true),
});

function toEndpoint(endpoint: WebhookEndpoint): z.infer<typeof endpointSchema> {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    url: endpoint.url,
    enabled_events: endpoint.enabledEvents,
    created_at: endpoint.createdAt,
  };
}

export interface EndpointRoutesOptions {
  endpoints: EndpointStore;
  /** Where webhooks may go: checked when an endpoint is created, and again at every delivery. */
  policy: WebhookUrlPolicy;
  requests: IdempotentRequests;
}

/** The merchant's webhook endpoints; `scope` already authenticates the caller. */
export function registerEndpointRoutes(scope: HttpServer, options: EndpointRoutesOptions): void {
  const { endpoints } = options;

  scope.post(
    '/v1/webhook_endpoints',
    {
      schema: {
        summary: 'Create a webhook endpoint (an https:// URL on a public address)',
        tags: ['webhooks'],
        headers: optionalIdempotencyHeader,
        body: createEndpointSchema,
        response: { 201: createdEndpointSchema },
      },
    },
    async (request, reply) => {
      const { accountId } = principalOf(request);
      try {
        await checkWebhookUrl(new URL(request.body.url), options.policy);
      } catch (error) {
        if (error instanceof WebhookUrlError)
          throw new ApiError(400, 'invalid_request_error', error.code, error.message, 'url');
        throw error;
      }
      const answer = await options.requests.run(
        { accountId, key: request.headers['idempotency-key'], request: request.body },
        async (tx) => {
          let endpoint: WebhookEndpoint;
          try {
            endpoint = await endpoints.create(tx, {
              accountId,
              url: request.body.url,
              enabledEvents: [...new Set(request.body.enabled_events)],
            });
          } catch (error) {
            if (error instanceof EndpointLimitError) {
              throw new ApiError(400, 'invalid_request_error', error.code, error.message);
            }
            throw error;
          }
          return { status: 201, body: { ...toEndpoint(endpoint), secret: endpoint.secret } };
        },
      );
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(answer.body as z.infer<typeof createdEndpointSchema>);
    },
  );

  scope.get(
    '/v1/webhook_endpoints',
    {
      schema: {
        summary: "List the account's webhook endpoints (without their secrets)",
        tags: ['webhooks'],
        response: { 200: endpointListSchema },
      },
    },
    async (request) => ({
      object: 'list' as const,
      data: (await endpoints.list(principalOf(request).accountId)).map(toEndpoint),
      has_more: false,
    }),
  );

  scope.delete(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        summary: 'Delete a webhook endpoint',
        tags: ['webhooks'],
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: deletedEndpointSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      // Another account's endpoint is answered like a missing one: ids reveal nothing across accounts.
      if (!(await endpoints.delete({ accountId: principalOf(request).accountId, id }))) {
        throw notFound('webhook endpoint', id);
      }
      return { id, object: 'webhook_endpoint' as const, deleted: true as const };
    },
  );
}
