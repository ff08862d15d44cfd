import { z } from 'zod';
import { principalOf } from '../../platform/auth/authenticate.js';
import type { StreamAdmission } from '../../platform/http/event-stream.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { LiveHub } from './live-hub.js';

/** The live stream of the caller's payment events; `scope` already authenticates the caller. */
export function registerLiveRoutes(scope: HttpServer, options: { hub: LiveHub; admission: StreamAdmission }): void {
  scope.get(
    '/v1/events/stream',
    {
      // EventSource cannot set headers: this route alone takes the key as ?key= too.
      config: { keyInQuery: true },
      schema: {
        summary: "Server-Sent Events of the account's payment events, as they happen",
        tags: ['events'],
        // EventSource cannot set headers, so the key may come in the query instead.
        querystring: z.object({ key: z.string().max(256).optional() }),
      },
    },
    async (request, reply) => {
      const { accountId, keyId } = principalOf(request);
      options.admission.admit(keyId, reply.raw);
      // The stream outlives the handler: Fastify lets go of the response and the hub writes to it.
      reply.hijack();
      options.hub.attach({ accountId, response: reply.raw });
    },
  );
}
