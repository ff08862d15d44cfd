import { ConsumerRunner } from './consumer-runner.js';
import type { Envelope } from './envelope.js';
import { TransportClosedError } from './errors.js';
import type { EventType } from './event-type.js';
import type { Outbox } from './outbox.js';
import type { SqlDatabase } from './sql-database.js';
import { resolveSubscribeOptions } from './subscribe-options.js';
import { traceSend } from './tracing.js';
import type {
  CloseOptions,
  DeadLetterQueue,
  GroupStats,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportDriver,
} from './transport.js';

/**
 * The `Transport` services use, over a backend's driver: every backend gets the same consumer
 * runner, so retries, timeouts, ordering and shutdown behave the same on each.
 */
export function createTransport(driver: TransportDriver): Transport {
  return new DrivenTransport(driver);
}

/** Turns a backend's driver into the `Transport` services use; every backend gets the same runner. */
export class DrivenTransport implements Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  readonly deadLetters: DeadLetterQueue;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(private readonly driver: TransportDriver) {
    this.name = driver.name;
    this.capabilities = driver.capabilities;
    this.deadLetters = driver.deadLetters;
  }

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    this.assertOpen();
    await this.driver.declareGroup(group, eventTypes);
  }

  async publish(events: Envelope | readonly Envelope[]): Promise<void> {
    this.assertOpen();
    const batch = Array.isArray(events) ? (events as readonly Envelope[]) : [events as Envelope];
    if (batch.length > 0) await traceSend(this.name, batch, () => this.driver.publish(batch));
  }

  async subscribe<E extends EventType>(options: SubscribeOptions<E>): Promise<Subscription> {
    this.assertOpen();
    const resolved = resolveSubscribeOptions(options as unknown as SubscribeOptions);
    const eventTypes = [...new Set(resolved.events.map((e) => e.type))];
    await this.driver.declareGroup(resolved.group, eventTypes);
    const queue = await this.driver.openQueue({ group: resolved.group, eventTypes, leaseMs: resolved.leaseMs });
    const runner = new ConsumerRunner(queue, resolved, this.name);
    const subscription: Subscription = {
      group: runner.group,
      close: async (closeOptions?: CloseOptions) => {
        await runner.close(closeOptions);
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async stats(group: string): Promise<GroupStats> {
    this.assertOpen();
    return this.driver.stats(group);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.driver.ping();
  }

  async queueDatabase(): Promise<SqlDatabase | undefined> {
    this.assertOpen();
    return this.driver.queueDatabase?.();
  }

  async sameDatabaseOutbox(db: SqlDatabase): Promise<Outbox | undefined> {
    this.assertOpen();
    return this.driver.sameDatabaseOutbox?.(db);
  }

  async close(options?: CloseOptions): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close(options)));
    await this.driver.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}
