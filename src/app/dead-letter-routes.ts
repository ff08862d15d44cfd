import { type DeadLetter, DeadLetterNotFoundError, MAX_DEAD_LETTER_PAGE, type Transport } from '@syncopate/messaging';
import { z } from 'zod';
import type { ApiKeyStore } from '../platform/auth/api-keys.js';
import { authenticate } from '../platform/auth/authenticate.js';
import { notFound } from '../platform/http/api-error.js';
import { encapsulate, type HttpServer } from '../platform/http/server.js';
import type { Metrics } from '../platform/telemetry/metrics.js';

export interface QueueParts {
  keys: ApiKeyStore;
  /** The transport the services get (the observed one): replays and purges are journaled. */
  transport: Transport;
  /** Every consumer group of the topology. */
  groups: readonly string[];
  metrics: Metrics;
}

/** One group's queue as the dashboard shows it: the backend's figures, and what this process's consumers did. */
export interface QueueRow {
  group: string;
  waiting: number;
  delayed: number | null;
  in_flight: number;
  dead_lettered: number;
  /** Consumer lag: how long the oldest waiting message has waited, ms. */
  oldest_waiting_age_ms: number | null;
  this_process: { handled: number; failed_attempts: number; retries: number; dead_lettered: number };
}

/** Every group's queue figures; a group whose backend read fails is left out rather than failing them all. */
export async function readQueues(parts: Pick<QueueParts, 'transport' | 'groups' | 'metrics'>): Promise<QueueRow[]> {
  const [stats, counts] = await Promise.all([
    Promise.all(parts.groups.map((group) => parts.transport.stats(group).catch(() => undefined))),
    parts.metrics.consumerCounts(),
  ]);
  return stats.flatMap((s) => {
    if (!s) return [];
    const c = counts.get(s.group);
    return [
      {
        group: s.group,
        waiting: s.waiting,
        delayed: s.delayed,
        in_flight: s.inFlight,
        dead_lettered: s.deadLettered,
        oldest_waiting_age_ms: s.oldestWaitingAgeMs === null ? null : Math.round(s.oldestWaitingAgeMs),
        this_process: {
          handled: c?.handled ?? 0,
          failed_attempts: c?.failedAttempts ?? 0,
          retries: c?.retries ?? 0,
          dead_lettered: c?.deadLettered ?? 0,
        },
      },
    ];
  });
}

function deadLetterJson(letter: DeadLetter) {
  return {
    object: 'dead_letter' as const,
    group: letter.group,
    event_id: letter.eventId,
    type: letter.type,
    /** The last error: why it was dead-lettered. */
    reason: letter.reason,
    attempts: letter.attempts,
    first_attempt_at: letter.firstAttemptAt?.toISOString() ?? null,
    last_attempt_at: letter.lastAttemptAt?.toISOString() ?? null,
    dead_lettered_at: letter.deadLetteredAt.toISOString(),
    event: letter.event,
    /** The stored body, only when it is not a valid envelope. */
    body: letter.event === null ? letter.body : null,
  };
}

/**
 * The queues and their dead letters, for an operator (admin key): each group's figures; list,
 * inspect, replay one or all, and purge one or all of a group's dead letters.
 */
export function registerDeadLetterRoutes(app: HttpServer, parts: QueueParts): void {
  const dlq = parts.transport.deadLetters;
  encapsulate(app, (admin) => {
    // On request, before validation: a caller without the admin key learns nothing about the parameters.
    admin.addHook('onRequest', authenticate(parts.keys, 'admin'));
    const operator = { tags: ['admin'], security: [{ adminKey: [] }] };
    const groupParam = z.object({ group: z.string().min(1).max(128) });
    const letterParams = groupParam.extend({ eventId: z.string().min(1).max(128) });
    const known = (group: string) => {
      if (!parts.groups.includes(group)) throw notFound('consumer group', group, 'group');
      return group;
    };
    const missing = (error: unknown, eventId: string) => {
      if (error instanceof DeadLetterNotFoundError) return notFound('dead letter', eventId, 'eventId');
      return error;
    };

    admin.get(
      '/v1/admin/queues',
      {
        schema: {
          ...operator,
          summary:
            'Every consumer group: waiting, delayed, in flight, dead-lettered, lag, and what the consumers of this process did',
        },
      },
      async () => ({ object: 'list', data: await readQueues(parts) }),
    );

    admin.get(
      '/v1/admin/dead_letters/:group',
      {
        schema: {
          ...operator,
          summary: "A page of a group's dead letters, oldest first, each with its last error",
          params: groupParam,
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50),
            after: z.string().min(1).max(256).optional(),
          }),
        },
      },
      async (request) => {
        const group = known(request.params.group);
        const { limit, after } = request.query;
        const [page, total] = await Promise.all([
          dlq.list(group, after === undefined ? { limit } : { limit, after }),
          dlq.count(group),
        ]);
        return {
          object: 'list',
          group,
          total,
          data: page.items.map(deadLetterJson),
          has_more: page.nextCursor !== null,
          next_cursor: page.nextCursor,
        };
      },
    );

    admin.get(
      '/v1/admin/dead_letters/:group/:eventId',
      {
        schema: {
          ...operator,
          summary: 'One dead letter: the event, its attempts and last error',
          params: letterParams,
        },
      },
      async (request) => {
        const { group, eventId } = request.params;
        try {
          return deadLetterJson(await dlq.get(known(group), eventId));
        } catch (error) {
          throw missing(error, eventId);
        }
      },
    );

    admin.post(
      '/v1/admin/dead_letters/:group/:eventId/replay',
      {
        schema: {
          ...operator,
          summary: 'Put one dead letter back on its group, attempts reset (journaled)',
          params: letterParams,
        },
      },
      async (request) => {
        const { group, eventId } = request.params;
        try {
          await dlq.replay(known(group), eventId);
        } catch (error) {
          throw missing(error, eventId);
        }
        return { object: 'replay', group, replayed: 1 };
      },
    );

    admin.post(
      '/v1/admin/dead_letters/:group/replay_all',
      {
        schema: {
          ...operator,
          summary: "Put every one of a group's dead letters back on it (journaled)",
          params: groupParam,
        },
      },
      async (request) => {
        const group = known(request.params.group);
        return { object: 'replay', group, replayed: await dlq.replayAll(group) };
      },
    );

    admin.delete(
      '/v1/admin/dead_letters/:group/:eventId',
      { schema: { ...operator, summary: 'Discard one dead letter for good (journaled)', params: letterParams } },
      async (request) => {
        const { group, eventId } = request.params;
        const purged = await dlq.purge(known(group), eventId);
        if (purged === 0) throw notFound('dead letter', eventId, 'eventId');
        return { object: 'purge', group, purged };
      },
    );

    admin.delete(
      '/v1/admin/dead_letters/:group',
      {
        schema: { ...operator, summary: "Discard every one of a group's dead letters (journaled)", params: groupParam },
      },
      async (request) => {
        const group = known(request.params.group);
        return { object: 'purge', group, purged: await dlq.purge(group) };
      },
    );
  });
}
