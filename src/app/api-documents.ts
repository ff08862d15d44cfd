import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { registerOpenApi } from '../platform/http/openapi.js';
import type { HttpServer } from '../platform/http/server.js';
import type { ServiceModule } from '../platform/service.js';
import { type AsyncApiDocument, buildAsyncApi } from './asyncapi.js';

export const ASYNCAPI_PATH = '/v1/asyncapi.json';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const API_DESCRIPTION = `The Syncopate HTTP API. Authenticate with your API key as \`Authorization: Bearer <key>\`.
Send an \`Idempotency-Key\` header with every POST that creates something (payments and refunds require it): a
retry with the same key and body is answered with the first answer (marked \`Idempotent-Replayed: true\`) and does
nothing twice. Every 4xx and 5xx answer has the one error shape (\`Error\`). The events are described by the
AsyncAPI document at ${ASYNCAPI_PATH}.

**Public routes only.** Every operation here is served on the public listener (\`HOST\`:\`PORT\`), and is all
that listener serves besides the dashboard's page and \`/metrics\`. The routes the services call on each other
(the payment gateway simulator, and sync mode's side-effect endpoints) are served only on the internal listener
(\`INTERNAL_HOST\`:\`INTERNAL_PORT\`, loopback by default) with secrets of their own, and are not part of this API.

**Limits.** Each API key may make \`RATE_LIMIT_MAX\` requests per \`RATE_LIMIT_WINDOW_MS\` (a client without a
live key, per address); every answer carries \`RateLimit-Limit\`, \`RateLimit-Remaining\` and \`RateLimit-Reset\`,
and one past the limit is a 429 (\`rate_limit_error\`) with \`Retry-After\`.`;

const TAGS = [
  { name: 'payments', description: 'Pay and refund: the critical path, answered synchronously.' },
  { name: 'webhooks', description: 'Endpoints that receive the payment events, signed.' },
  { name: 'events', description: 'The payment events, live.' },
  { name: 'reports', description: 'CSV reports, generated off the request path.' },
  { name: 'analytics', description: 'Counters of payments, by currency and over time.' },
  { name: 'operations', description: 'Liveness and readiness, for load balancers and orchestrators.' },
  { name: 'admin', description: 'Operator knobs (fault injection); need the admin key.' },
  { name: 'meta', description: 'These API documents.' },
];

/**
 * The API documents, generated from the schemas the code validates with: OpenAPI 3.1 for the HTTP
 * API (with its reference page) and AsyncAPI 3.0 for the events of the topology. Call right after
 * creating the server, before any route is added.
 */
export async function registerApiDocuments(server: HttpServer, topology: readonly ServiceModule[]): Promise<void> {
  await registerOpenApi(server, {
    info: { title: 'Syncopate API', version: pkg.version, description: API_DESCRIPTION },
    tags: TAGS,
    headers: {
      'idempotency-key':
        'A unique key per attempt (printable ASCII): a retry with the same key and body is answered with the first answer, marked `Idempotent-Replayed: true`, and does nothing twice; the same key with another body is refused.',
    },
  });
  const asyncapi = asyncApiDocument(topology);
  server.get(
    ASYNCAPI_PATH,
    {
      schema: {
        summary: 'The AsyncAPI 3.0 document of the events',
        tags: ['meta'],
        security: [],
        response: { 200: z.looseObject({ asyncapi: z.string() }).describe('The AsyncAPI document') },
      },
    },
    async () => asyncapi,
  );
}

export function asyncApiDocument(topology: readonly ServiceModule[]): AsyncApiDocument {
  return buildAsyncApi(topology, {
    title: 'Syncopate events',
    version: pkg.version,
    description:
      'The events Syncopate services publish and consume, as CloudEvents 1.0 in structured mode: the body of every message is the JSON envelope. Delivery is at least once; consumers deduplicate on the event id.',
  });
}
