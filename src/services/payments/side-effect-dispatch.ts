import type { Context } from '@opentelemetry/api';
import type { Envelope, Outbox, SqlExecutor } from '@syncopate/messaging';
import type { Logger } from 'pino';
import { ApiError } from '../../platform/http/api-error.js';
import { SideEffectFailedError, type SyncEffectCaller } from '../../platform/sync-effects.js';

/**
 * How a committed change's side effects happen. Async (the design): its events go into the outbox
 * inside the change's own transaction and are handled later. Sync (kept for the lab): nothing is
 * queued; the services are called one by one after the commit, before the client hears back, and
 * the first that fails fails the request — though the payment itself is already made.
 */
export interface SideEffectDispatch {
  readonly mode: 'async' | 'sync';
  /** Inside the change's transaction. */
  within(tx: SqlExecutor, events: readonly Envelope[]): Promise<void>;
  /** After the commit, before the answer; `trace` is the context the calls join (the request's). */
  after(events: readonly Envelope[], trace: Context): Promise<void>;
  close(): Promise<void>;
}

export function asyncDispatch(outbox: Outbox): SideEffectDispatch {
  return {
    mode: 'async',
    within: (tx, events) => outbox.append(tx, events),
    after: async () => {},
    close: async () => {},
  };
}

export function syncDispatch(caller: SyncEffectCaller, logger: Logger): SideEffectDispatch {
  return {
    mode: 'sync',
    within: async () => {},
    async after(events, trace) {
      for (const event of events) {
        try {
          await caller.run(event, trace);
        } catch (error) {
          if (!(error instanceof SideEffectFailedError)) throw error;
          // The client learns which service failed; why (its error text) stays in the log.
          logger.warn({ err: error, eventId: event.id, subject: event.subject }, 'a sync side effect failed');
          throw new ApiError(
            502,
            'api_error',
            'side_effect_failed',
            `${event.subject ?? 'The change'} is done, but a side effect called before answering failed: ${error.service} failed`,
          );
        }
      }
    },
    close: () => caller.close(),
  };
}
