import type { DeliveryJournal } from '@syncopate/messaging';
import type { ServiceModule, SideEffect, SideEffects } from './service.js';

/**
 * Side effects read from the delivery journal: for each event, every group bound to its type,
 * with the journal's record of that group's attempts, or `pending` when none has settled yet.
 */
export function journalSideEffects(
  journal: DeliveryJournal,
  groupsOf: (eventType: string) => readonly string[],
): SideEffects {
  return {
    async of(events) {
      const records = await journal.forEvents(events.map((event) => event.id));
      const byKey = new Map(records.map((record) => [`${record.group}\0${record.eventId}`, record]));
      return events.flatMap((event) =>
        groupsOf(event.type).map((group): SideEffect => {
          const record = byKey.get(`${group}\0${event.id}`);
          if (!record) {
            return {
              eventId: event.id,
              eventType: event.type,
              group,
              state: 'pending',
              attempts: 0,
              lastError: null,
              nextAttemptAt: null,
              updatedAt: null,
            };
          }
          return {
            eventId: event.id,
            eventType: event.type,
            group,
            state: record.state === 'replayed' ? 'pending' : record.state,
            attempts: record.attempts,
            lastError: record.lastError,
            nextAttemptAt: record.nextAttemptAt,
            updatedAt: record.updatedAt,
          };
        }),
      );
    },
  };
}

/** For each event type, the consumer groups of the topology bound to it. */
export function groupsByEventType(topology: readonly ServiceModule[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { group, events } of topology.flatMap((module) => module.groups)) {
    for (const event of events) groups.set(event.type, [...(groups.get(event.type) ?? []), group]);
  }
  return groups;
}
