import { randomUUID } from 'node:crypto';
import type { ChannelModel } from 'amqplib';
import { type Envelope, encodeEnvelope } from '../../envelope.js';
import { TransportClosedError, UnroutableEventError } from '../../errors.js';
import type {
  DeadLetterQueue,
  GroupQueue,
  GroupQueueOptions,
  TransportCapabilities,
  TransportDriver,
} from '../../transport.js';
import { ReconnectingConnection } from './connection.js';
import { RabbitMqDeadLetters } from './dead-letters.js';
import { RabbitMqGroupQueue } from './group-queue.js';
import { Names } from './names.js';
import { parseRabbitMqUrl, type RabbitMqOptions } from './options.js';
import { ConfirmPublisher } from './publisher.js';
import { RoutingCheck } from './routing-check.js';
import { Topology } from './topology.js';
import { eventProperties } from './wire.js';

/** Opens the RabbitMQ transport of an `amqp://` or `amqps://` URL (see README.md for its options). */
export async function openRabbitMqDriver(url: string): Promise<TransportDriver> {
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
   */
  readonly capabilities: TransportCapabilities = { durable: true, crossProcess: true, perKeyOrder: false };
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
