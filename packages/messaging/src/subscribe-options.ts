import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import type { EventType } from './event-type.js';
import type { BackoffOptions, Handler, Middleware, SubscribeOptions, SubscriptionHooks } from './transport.js';

/** Group names travel into queue, stream and table names of every backend, so they stay plain. */
export const groupNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 lower-case letters, digits, "_" or "-"');

/** The limits and defaults of a subscription, written once. */
const tuningSchema = z.object({
  group: groupNameSchema,
  concurrency: z.number().int().min(1).max(256).default(8),
  maxAttempts: z.number().int().min(1).max(100).default(5),
  backoff: z
    .object({
      initialDelayMs: z.number().int().min(0).max(3_600_000).default(200),
      maxDelayMs: z.number().int().min(0).max(86_400_000).default(60_000),
    })
    .default({ initialDelayMs: 200, maxDelayMs: 60_000 }),
  handlerTimeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
  leaseMs: z.number().int().min(100).max(3_600_000).default(30_000),
});

export interface ResolvedSubscribeOptions {
  group: string;
  events: readonly EventType[];
  handler: Handler;
  concurrency: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  handlerTimeoutMs: number;
  leaseMs: number;
  middleware: readonly Middleware[];
  hooks: SubscriptionHooks;
}

export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  const parsed = tuningSchema.safeParse({
    group: options.group,
    concurrency: options.concurrency,
    maxAttempts: options.maxAttempts,
    backoff: options.backoff,
    handlerTimeoutMs: options.handlerTimeoutMs,
    leaseMs: options.leaseMs,
  });
  if (!parsed.success) throw new InvalidOptionsError(`subscription "${options.group}"`, parsed.error);
  if (options.events.length === 0) {
    throw new InvalidOptionsError(
      `subscription "${options.group}"`,
      new z.ZodError([
        { code: 'custom', path: ['events'], message: 'subscribe to at least one event type', input: [] },
      ]),
    );
  }
  return {
    ...parsed.data,
    events: options.events,
    handler: options.handler as Handler,
    middleware: options.middleware ?? [],
    hooks: options.hooks ?? {},
  };
}
