import { randomUUID } from 'node:crypto';
import {
  type DeadLetterQueue,
  type Envelope,
  type GroupQueue,
  type GroupQueueOptions,
  type GroupStats,
  type TransportCapabilities,
  TransportClosedError,
  type TransportDriver,
  UnroutableEventError,
} from '@syncopate/messaging';
import { encodeEnvelope } from '@syncopate/messaging/driver';
import type { ChannelModel } from 'amqplib';
import { ReconnectingConnection } from './connection.js';
import { RabbitMqDeadLetters } from './dead-letters.js';
import { RabbitMqGroupQueue } from './group-queue.js';
import { Names } from './names.js';
import { parseRabbitMqUrl, type RabbitMqOptions } from './options.js';
import { ConfirmPublisher } from './publisher.js';
import { RETRY_TIERS_MS } from './retry-tiers.js';
import { RoutingCheck } from './routing-check.js';
import { Topology } from './topology.js';
import { eventProperties } from './wire.js';

/** Opens the RabbitMQ transport of an `amqp://` or `amqps://` URL (see README.md for its options). */
export async function openRabbitMqDriver(url: string): Promise<RabbitMqDriver> {
  return RabbitMqDriver.open(parseRabbitMqUrl(url));
}

/**
 * Events go to one topic exchange (routing key = event type); each group has a quorum queue
 * bound to its event types, delay-tier retry queues and a dead-letter queue. See README.md.
 */
export class RabbitMqDriver implements TransportDriver {
  readonly name = 'rabbitmq';
  /**
   * perKeyOrder is false: while a same-key message waits in a retry queue, RabbitMQ keeps handing
   * the later ones to whichever consumer asks; holding them back would take a per-key lock
   * outside the broker (or single-active-consumer partitions), which this transport does not build.
   * leases is 'connection': an unacknowledged delivery stays with its consumer's channel, and
   * comes back when that closes; there is no per-message timer to renew.
   */
  readonly capabilities: TransportCapabilities = {
    durable: true,
    crossProcess: true,
    perKeyOrder: false,
    leases: 'connection',
    unknownStats: ['oldestWaitingAgeMs'],
  };
  readonly deadLetters: DeadLetterQueue;
  readonly names: Names;
  private readonly topology: Topology;
  private readonly publisher: ConfirmPublisher;
  private readonly routing: RoutingCheck;
  private readonly queues = new Set<RabbitMqGroupQueue>();
  private readonly current: () => Promise<ChannelModel>;
  /** Set by `open`, before anyone can use the driver. */
  private connection!: ReconnectingConnection;
  private closed = false;

  private constructor(options: RabbitMqOptions) {
    this.names = new Names(options.prefix);
    this.current = () => this.connection.current(options.reconnectWaitMs);
    this.topology = new Topology(this.names, this.current);
    this.publisher = new ConfirmPublisher(this.current, options.window);
    this.routing = new RoutingCheck(this.publisher, this.names);
    this.deadLetters = new RabbitMqDeadLetters({
      connection: this.current,
      publisher: this.publisher,
      names: this.names,
    });
  }

  static async open(options: RabbitMqOptions): Promise<RabbitMqDriver> {
    const driver = new RabbitMqDriver(options);
    driver.connection = await ReconnectingConnection.open({
      brokerUrl: options.brokerUrl,
      connectionName: `syncopate ${options.prefix} pid ${process.pid} ${randomUUID().slice(0, 8)}`,
      onReconnect: (model) => driver.topology.restore(model),
    });
    return driver;
  }

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    this.assertOpen();
    await this.topology.declareGroup(group, eventTypes);
  }

  async publish(events: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    await this.routing.assertRoutable(events.map((event) => event.type));
    const now = Date.now();
    await this.publisher.publish(
      events.map((event) => ({
        exchange: this.names.events,
        routingKey: event.type,
        content: Buffer.from(encodeEnvelope(event), 'utf8'),
        properties: eventProperties({ id: event.id, type: event.type, orderingKey: event.orderingkey }, now),
        // Only if a group's queue vanished between the routing check and the publish.
        unroutable: () => new UnroutableEventError(event.type),
      })),
    );
  }

  async openQueue(options: GroupQueueOptions): Promise<GroupQueue> {
    this.assertOpen();
    const queue = new RabbitMqGroupQueue(
      {
        connection: this.current,
        publisher: this.publisher,
        topology: this.topology,
        names: this.names,
        onClose: () => this.queues.delete(queue),
      },
      options,
    );
    this.queues.add(queue);
    return queue;
  }

  /**
   * Ready-message counts from passive declares, each on a channel of its own (a missing queue
   * closes its channel), all at once: the group's queue, its retry tiers (delayed) and its
   * dead-letter queue. AMQP tells no one how many messages a queue has handed out unacknowledged,
   * so `inFlight` is what this process's consumers hold; nor can a message be looked at without
   * taking it, so the oldest waiting message's age is unknown (null).
   */
  async stats(group: string): Promise<GroupStats> {
    this.assertOpen();
    const [ready = 0, deadLettered = 0, ...tiers] = await Promise.all([
      this.readyCount(this.names.group(group)),
      this.readyCount(this.names.deadLetters(group)),
      ...RETRY_TIERS_MS.map((tier) => this.readyCount(this.names.retryTier(group, tier))),
    ]);
    const delayed = tiers.reduce((sum, count) => sum + count, 0);
    let inFlight = 0;
    for (const queue of this.queues) if (queue.group === group) inFlight += queue.inFlight();
    const waiting = ready + delayed;
    return { group, waiting, delayed, inFlight, deadLettered, oldestWaitingAgeMs: waiting === 0 ? 0 : null };
  }

  /** A channel opened and closed: a round trip the broker answers, without waiting for a lost connection. */
  async ping(): Promise<void> {
    this.assertOpen();
    if (!this.connection.connected) throw new Error('RabbitMQ connection is down (reconnecting)');
    const channel = await (await this.current()).createChannel();
    channel.on('error', () => {});
    await channel.close();
  }

  /** Ready messages of one queue; 0 for a queue never declared. */
  private async readyCount(queue: string): Promise<number> {
    const channel = await (await this.current()).createChannel();
    channel.on('error', () => {});
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return 0;
      throw error;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** For tests of recovery: cuts the TCP connection the way a network failure would. */
  dropConnectionForTest(): void {
    this.connection.destroySocketForTest();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues].map((queue) => queue.close()));
    await this.publisher.close();
    await this.connection.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}
