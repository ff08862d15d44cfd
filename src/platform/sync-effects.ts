import type { Context } from '@opentelemetry/api';
import {
  checkEventData,
  type Envelope,
  type EventType,
  envelopeSchema,
  errorMessage,
  type Handler,
} from '@syncopate/messaging';
import pLimit from 'p-limit';
import { Agent, request } from 'undici';
import { requireSharedSecret } from './auth/shared-secret.js';
import { ApiError, errorBodySchema } from './http/api-error.js';
import type { HttpServer } from './http/server.js';
import type { Service, ServiceContext } from './service.js';
import { tracedCall } from './telemetry/client-spans.js';
import { requestTrace } from './telemetry/http-spans.js';

/**
 * Sync mode (`SIDE_EFFECTS=sync`), kept so the lab can measure it: the payments service calls each
 * side effect over HTTP before it answers. A consumer service exposes its handlers at
 * `POST /v1/internal/effects/<service>` on its internal listener (never the public one), and only
 * in sync mode; they do the very same work (and the same idempotency) as when the event comes from
 * the queue; only the way the work arrives differs.
 */

export const SYNC_EFFECT_SERVICES = ['email', 'analytics', 'notifications', 'reports'] as const;
export type SyncEffectService = (typeof SYNC_EFFECT_SERVICES)[number];

export interface EffectGroup {
  group: string;
  events: readonly EventType[];
  handler: Handler;
}

export interface EffectEndpointOptions {
  service: SyncEffectService;
  /** The secret payments presents (INTERNAL_KEY). */
  internalKey: string;
  groups: readonly EffectGroup[];
  /** Handlers running at once; the rest wait their turn, as queued messages would. Default 8. */
  concurrency?: number;
  /** Default 30 s. */
  handlerTimeoutMs?: number;
}

const EFFECT_DEFAULTS = { concurrency: 8, handlerTimeoutMs: 30_000 };

const effectPath = (service: string) => `/v1/internal/effects/${service}`;

/**
 * The service's effect endpoint as its `internalRoutes`, in sync mode only: in async mode (the
 * default) the work comes from the queue, and no endpoint exists that could take it another way.
 */
export function syncEffectRoutes(
  context: Pick<ServiceContext, 'config' | 'secrets'>,
  options: Omit<EffectEndpointOptions, 'internalKey'>,
): Pick<Service, 'internalRoutes'> {
  if (context.config.SIDE_EFFECTS !== 'sync') return {};
  return {
    internalRoutes: (app) => registerEffectEndpoint(app, { ...options, internalKey: context.secrets.internalKey }),
  };
}

/** Registers the service's synchronous entry point: the envelope in, 204 once every group's handler has done its work. */
export function registerEffectEndpoint(app: HttpServer, options: EffectEndpointOptions): void {
  const { concurrency, handlerTimeoutMs } = { ...EFFECT_DEFAULTS, ...options };
  const limit = pLimit(concurrency);
  app.post(
    effectPath(options.service),
    {
      bodyLimit: 300 * 1024,
      schema: { hide: true, body: envelopeSchema },
      onRequest: requireSharedSecret(options.internalKey, {
        code: 'invalid_internal_key',
        message: 'This endpoint is for services only',
      }),
    },
    async (request, reply) => {
      const event = request.body as Envelope;
      const trace = requestTrace(request);
      await limit(async () => {
        for (const { group, events, handler } of options.groups) {
          const checked = checkEventData(event, events);
          if (checked.kind === 'undeclared') continue;
          if (checked.kind === 'invalid')
            throw new ApiError(400, 'invalid_request_error', 'invalid_event', checked.reason);
          const signal = AbortSignal.timeout(handlerTimeoutMs);
          try {
            await handler({ event: { ...event, data: checked.data }, group, attempt: 1, signal, trace });
          } catch (error) {
            throw new ApiError(500, 'api_error', 'side_effect_failed', `${group}: ${errorMessage(error)}`);
          }
        }
      });
      return reply.code(204).send();
    },
  );
}

export class SideEffectFailedError extends Error {
  constructor(
    readonly service: string,
    reason: string,
  ) {
    super(`${service} failed: ${reason}`);
  }
}

/** The payments side of sync mode: calls each service in turn and throws at the first that fails. */
export class SyncEffectCaller {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

  constructor(
    private readonly options: {
      services: readonly SyncEffectService[];
      urlOf: (service: SyncEffectService) => string;
      internalKey: string;
      timeoutMs: number;
    },
  ) {}

  /** `trace`: the context each call's client span is a child of (the payment request's). */
  async run(event: Envelope, trace: Context): Promise<void> {
    const body = JSON.stringify(event);
    for (const service of this.options.services) {
      let answer: { statusCode: number; text: string };
      try {
        const url = new URL(`${this.options.urlOf(service)}${effectPath(service)}`);
        const headers = { authorization: `Bearer ${this.options.internalKey}`, 'content-type': 'application/json' };
        answer = await tracedCall(trace, 'POST', url, headers, async () => {
          const response = await request(url, {
            method: 'POST',
            dispatcher: this.agent,
            headers,
            body,
            signal: AbortSignal.timeout(this.options.timeoutMs),
          });
          return { statusCode: response.statusCode, text: await response.body.text() };
        });
      } catch (error) {
        throw new SideEffectFailedError(service, errorMessage(error));
      }
      if (answer.statusCode !== 204) {
        throw new SideEffectFailedError(service, reasonOf(answer.statusCode, answer.text));
      }
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function reasonOf(status: number, text: string): string {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) return `${status}: ${parsed.data.error.message}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return `HTTP ${status}`;
}
