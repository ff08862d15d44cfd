import type {
  CloseOptions,
  DeadLetterQueue,
  DeliveryJournal,
  Envelope,
  EventType,
  GroupStats,
  Outbox,
  SqlDatabase,
  SubscribeOptions,
  Subscription,
  SubscriptionHooks,
  Transport,
} from '@syncopate/messaging';

/**
 * The transport as the composition root hands it to services: every subscription also reports
 * to the process's metrics, attempt log and delivery journal, and a replay or purge of a dead
 * letter is written to the journal. Services see the plain contract and know none of it.
 */
export class ObservedTransport implements Transport {
  readonly deadLetters: DeadLetterQueue;

  constructor(
    private readonly inner: Transport,
    private readonly observers: readonly SubscriptionHooks[],
    journal: DeliveryJournal,
  ) {
    this.deadLetters = journaledDeadLetters(inner.deadLetters, journal);
  }

  get name() {
    return this.inner.name;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    return this.inner.declareGroup(group, eventTypes);
  }

  publish(events: Envelope | readonly Envelope[]): Promise<void> {
    return this.inner.publish(events);
  }

  subscribe<E extends EventType>(options: SubscribeOptions<E>): Promise<Subscription> {
    return this.inner.subscribe({
      ...options,
      hooks: allOf([...(options.hooks ? [options.hooks] : []), ...this.observers]),
    });
  }

  stats(group: string): Promise<GroupStats> {
    return this.inner.stats(group);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  queueDatabase(): Promise<SqlDatabase | undefined> {
    return this.inner.queueDatabase();
  }

  sameDatabaseOutbox(db: SqlDatabase): Promise<Outbox | undefined> {
    return this.inner.sameDatabaseOutbox(db);
  }

  close(options?: CloseOptions): Promise<void> {
    return this.inner.close(options);
  }
}

/** Calls every hook in turn; one that throws does not keep the others from hearing. */
function allOf(hooks: readonly SubscriptionHooks[]): SubscriptionHooks {
  return {
    onSettled(report) {
      for (const hook of hooks) {
        try {
          hook.onSettled?.(report);
        } catch {
          // Observers must not break the consumer.
        }
      }
    },
    onError(error, operation) {
      for (const hook of hooks) {
        try {
          hook.onError?.(error, operation);
        } catch {
          // As above.
        }
      }
    },
  };
}

function journaledDeadLetters(queue: DeadLetterQueue, journal: DeliveryJournal): DeadLetterQueue {
  return {
    list: (group, options) => queue.list(group, options),
    get: (group, eventId) => queue.get(group, eventId),
    count: (group) => queue.count(group),
    async replay(group, eventId) {
      await queue.replay(group, eventId);
      await journal.markReplayed(group, eventId);
    },
    async replayAll(group) {
      const replayed = await queue.replayAll(group);
      await journal.markReplayed(group);
      return replayed;
    },
    async purge(group, eventId) {
      const purged = await queue.purge(group, eventId);
      await journal.markPurged(group, eventId);
      return purged;
    },
  };
}
