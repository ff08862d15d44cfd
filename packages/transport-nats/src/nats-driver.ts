import {
  AckPolicy,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import {
  type Envelope,
  type GroupQueue,
  type GroupQueueOptions,
  type GroupStats,
  InvalidOptionsError,
  type TransportCapabilities,
  TransportClosedError,
  type TransportDriver,
  UnroutableEventError,
} from '@syncopate/messaging';
import { encodeEnvelope, groupNameSchema } from '@syncopate/messaging/driver';
import { AttemptLedger } from './attempt-ledger.js';
import { isApiError, NatsDeadLetters } from './dead-letters.js';
import { NatsGroupQueue, ORDERING_KEY_HEADER } from './group-queue.js';
import { Layout, ROUTABLE_TYPE } from './layout.js';
import { type NatsUrlOptions, parseNatsUrl } from './nats-url.js';
import { type Outgoing, publishWindowed } from './publish-window.js';
import { Routes } from './routes.js';

/** How long JetStream remembers an event id to drop a re-published duplicate (a publisher retry). */
const DEDUP_WINDOW_MS = 120_000;
/** The lease of a consumer no subscription has opened yet; a subscription sets its own. */
const DEFAULT_ACK_WAIT_MS = 30_000;

export async function openNatsDriver(url: string): Promise<NatsDriver> {
  const options = parseNatsUrl(url);
  const nc = await connect({
    servers: options.servers,
    ...(options.user === undefined ? {} : { user: options.user, pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
    name: `syncopate:${options.stream}`,
    // A service outlives a broker restart: keep trying, and the queues pull again once back.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  try {
    const driver = new NatsDriver(nc, await jetstreamManager(nc), options);
    await driver.ensureStreams();
    return driver;
  } catch (error) {
    await nc.close();
    throw error;
  }
}

/**
 * NATS JetStream: one limits-retention stream per namespace, one durable pull consumer per
 * (group, event type), dead letters and attempt bookkeeping in streams of their own.
 */
export class NatsDriver implements TransportDriver {
  readonly name = 'nats';
  /**
   * perKeyOrder is false: a JetStream consumer hands the next message to whichever puller asks,
   * and a nak'd message is redelivered after later ones, so same-key order holds only inside one
   * claimed batch of one consumer.
   */
  readonly capabilities: TransportCapabilities = {
    durable: true,
    crossProcess: true,
    perKeyOrder: false,
    leases: 'timed',
    unknownStats: ['delayed', 'oldestWaitingAgeMs'],
  };
  readonly deadLetters: NatsDeadLetters;
  readonly layout: Layout;
  private readonly js: JetStreamClient;
  private readonly routes: Routes;
  private readonly ledger: AttemptLedger;
  private readonly declared = new Set<string>();
  private readonly queues = new Set<NatsGroupQueue>();
  private closed = false;

  constructor(
    readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsUrlOptions,
  ) {
    this.layout = new Layout(options.stream);
    this.js = jetstream(nc);
    this.routes = new Routes(jsm, this.layout);
    this.ledger = new AttemptLedger(this.js, jsm, this.layout);
    this.deadLetters = new NatsDeadLetters(nc, this.js, jsm, this.layout, options.replicas);
    void this.watchConnection();
  }

  async ensureStreams(): Promise<void> {
    await this.ensureStream({
      name: this.layout.stream,
      subjects: this.layout.streamSubjects,
      // Limits retention, not interest: on nats-server 2.9 an interest-retention stream lost events
      // still wanted by other groups when the server restarted mid-run (measured: 7 of 400, in
      // test/restarts). Every group's consumer keeps its own position; events age out after maxAgeHours.
      retention: 'limits',
      max_age: nanos(this.options.maxAgeHours * 3_600_000),
      storage: 'file',
      num_replicas: this.options.replicas,
      duplicate_window: nanos(DEDUP_WINDOW_MS),
    });
    await this.ensureStream({
      name: this.layout.attemptsStream,
      subjects: [`${this.layout.namespace}.att.>`],
      retention: 'limits',
      storage: 'file',
      num_replicas: this.options.replicas,
      max_msgs_per_subject: 1,
    });
  }

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    this.assertOpen();
    const parsed = groupNameSchema.safeParse(group);
    if (!parsed.success) throw new InvalidOptionsError('group', parsed.error);
    const fresh = eventTypes.filter((type) => !this.declared.has(`${group}\n${type}`));
    for (const type of fresh) {
      if (!ROUTABLE_TYPE.test(type)) {
        throw new TypeError(
          `event type "${type}" cannot be a NATS subject: use dotted names of letters, digits, _ and -`,
        );
      }
    }
    if (fresh.length === 0 && this.declared.has(group)) return;
    await Promise.all([
      ...fresh.map((type) =>
        this.ensureConsumer(this.layout.eventConsumer(group, type), this.layout.eventSubject(type)),
      ),
      this.declared.has(group)
        ? undefined
        : this.ensureConsumer(this.layout.replayConsumer(group), this.layout.replayFilter(group)),
      this.declared.has(group) ? undefined : this.deadLetters.ensureStream(group),
    ]);
    this.declared.add(group);
    for (const type of fresh) {
      this.declared.add(`${group}\n${type}`);
      this.routes.add(type);
    }
  }

  async publish(events: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    // Checked for the whole batch before anything is sent: an unroutable event stores none of it.
    const types = events.map((event) => event.type);
    if (!this.routes.knows(types)) {
      const unroutable = await this.routes.unroutable(types);
      if (unroutable !== undefined) throw new UnroutableEventError(unroutable);
    }
    const messages = events.map((event): Outgoing => {
      const options: Outgoing['options'] = { msgID: event.id };
      if (event.orderingkey !== undefined) {
        const h = headers();
        h.set(ORDERING_KEY_HEADER, encodeURIComponent(event.orderingkey));
        options.headers = h;
      }
      return { subject: this.layout.eventSubject(event.type), data: encodeEnvelope(event), options };
    });
    await publishWindowed(this.js, messages);
  }

  async openQueue(options: GroupQueueOptions): Promise<GroupQueue> {
    this.assertOpen();
    const consumers = [
      ...options.eventTypes.map((type) => this.layout.eventConsumer(options.group, type)),
      this.layout.replayConsumer(options.group),
    ];
    // ack_wait is the lease, and it belongs to the consumer: the last member to open sets it for the group.
    await Promise.all(consumers.map((consumer) => this.setAckWait(consumer, options.leaseMs)));
    const queue = new NatsGroupQueue(
      {
        nc: this.nc,
        js: this.js,
        layout: this.layout,
        ledger: this.ledger,
        storeDeadLetter: (record) => this.deadLetters.store(record),
      },
      options,
      consumers,
      options.leaseMs,
      () => this.queues.delete(queue),
    );
    this.queues.add(queue);
    return queue;
  }

  /**
   * From the group's consumers' info (one listing) and the dead-letter stream's. JetStream counts a
   * message waiting for a delayed retry (a nak with delay) as ack-pending, like one a consumer
   * holds, and cannot tell them apart: `inFlight` is what this process's members hold, and the
   * rest of the ack-pending messages count as waiting (so other processes' in-flight ones too).
   * `delayed` is therefore unknown (null). The oldest waiting message is read by sequence: the
   * first undelivered one and the oldest unacknowledged one this process does not hold, per consumer.
   */
  async stats(group: string): Promise<GroupStats> {
    this.assertOpen();
    const parsed = groupNameSchema.safeParse(group);
    if (!parsed.success) throw new InvalidOptionsError('group', parsed.error);
    const [consumers, deadLettered] = await Promise.all([this.groupConsumers(group), this.deadLetters.count(group)]);
    const held = new Set<string>();
    for (const queue of this.queues) {
      if (queue.group !== group) continue;
      for (const { consumer, streamSequence } of queue.held()) held.add(`${consumer}\n${streamSequence}`);
    }
    let undelivered = 0;
    let unacked = 0;
    for (const info of consumers) {
      undelivered += info.num_pending;
      unacked += info.num_ack_pending;
    }
    const inFlight = Math.min(held.size, unacked);
    const waiting = undelivered + unacked - inFlight;
    const now = Date.now();
    const firsts = await Promise.all(
      consumers.flatMap((info) => {
        const filter = info.config.filter_subject ?? '';
        const reads: Promise<number | undefined>[] = [];
        if (info.num_pending > 0) reads.push(this.firstStoredAt(filter, info.delivered.stream_seq + 1));
        if (info.num_ack_pending > 0) {
          reads.push(
            this.firstStoredAt(filter, info.ack_floor.stream_seq + 1, (seq) => held.has(`${info.name}\n${seq}`)),
          );
        }
        return reads;
      }),
    );
    const times = firsts.filter((time): time is number => time !== undefined);
    let oldestWaitingAgeMs: number | null = 0;
    if (waiting > 0) oldestWaitingAgeMs = times.length > 0 ? Math.max(0, now - Math.min(...times)) : null;
    return { group, waiting, delayed: null, inFlight, deadLettered, oldestWaitingAgeMs };
  }

  /** Resolves when JetStream answers (a request with the client's timeout), not just the server. */
  async ping(): Promise<void> {
    this.assertOpen();
    await this.jsm.getAccountInfo();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues].map((queue) => queue.close()));
    await this.nc.drain();
  }

  private async ensureStream(config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
    try {
      await this.jsm.streams.info(config.name);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
      try {
        await this.jsm.streams.add(config);
      } catch (addError) {
        // Another process created it in the meantime.
        await this.jsm.streams.info(config.name).catch(() => Promise.reject(addError));
      }
    }
  }

  private async ensureConsumer(name: string, filter: string): Promise<void> {
    try {
      await this.jsm.consumers.info(this.layout.stream, name);
      return;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    }
    try {
      await this.jsm.consumers.add(this.layout.stream, {
        durable_name: name,
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
        // The group gets what is published from its declaration on; earlier events went to the groups that existed.
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(DEFAULT_ACK_WAIT_MS),
        // Syncopate counts attempts and dead-letters; a server-side limit would park messages where no one sees them.
        max_deliver: -1,
        // Messages waiting for a delayed retry count as pending acks: no cap, or a run of failures stalls the group.
        max_ack_pending: -1,
      });
    } catch (error) {
      await this.jsm.consumers.info(this.layout.stream, name).catch(() => Promise.reject(error));
    }
  }

  /** The group's consumers: one per bound event type (from any process) and its replay consumer. */
  private async groupConsumers(group: string): Promise<ConsumerInfo[]> {
    const replay = this.layout.replayConsumer(group);
    const events = this.layout.eventConsumer(group, '');
    const found: ConsumerInfo[] = [];
    for await (const info of this.jsm.consumers.list(this.layout.stream)) {
      if (info.name === replay || info.name.startsWith(events)) found.push(info);
    }
    return found;
  }

  /** When the stream stored the first message on `filter` from `seq` on; undefined if none, or if `skip` says so. */
  private async firstStoredAt(
    filter: string,
    seq: number,
    skip?: (seq: number) => boolean,
  ): Promise<number | undefined> {
    // The server has long taken next_by_subj with seq; the client's type only lists seq and last_by_subj.
    const query = { seq, next_by_subj: filter } as unknown as { seq: number };
    const stored = await this.jsm.streams.getMessage(this.layout.stream, query).catch((error: unknown) => {
      if (isApiError(error, JetStreamApiCodes.NoMessageFound)) return null;
      throw error;
    });
    if (!stored || skip?.(stored.seq)) return undefined;
    return stored.time.getTime();
  }

  private async setAckWait(consumer: string, leaseMs: number): Promise<void> {
    const info = await this.jsm.consumers.info(this.layout.stream, consumer);
    if (info.config.ack_wait !== nanos(leaseMs)) {
      await this.jsm.consumers.update(this.layout.stream, consumer, { ack_wait: nanos(leaseMs) });
    }
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      // Pull requests waiting on the server may not have survived: every queue asks again.
      if (status.type === 'reconnect') for (const queue of this.queues) queue.resume();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}
