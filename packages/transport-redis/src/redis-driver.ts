import {
  type DeadLetterQueue,
  type Envelope,
  errorMessage,
  type GroupQueue,
  type GroupQueueOptions,
  type GroupStats,
  MessagingError,
  type TransportCapabilities,
  TransportClosedError,
  type TransportDriver,
  UnroutableEventError,
} from '@syncopate/messaging';
import { encodeEnvelope } from '@syncopate/messaging/driver';
import { Redis } from 'ioredis';
import { RedisGroupQueue } from './group-queue.js';
import { type NamespaceKeys, namespaceKeys } from './keys.js';
import { RedisDeadLetters } from './redis-dead-letters.js';
import { parseRedisUrl, type RedisTransportOptions } from './redis-url.js';
import { declareScript, publishScript, statsScript } from './scripts.js';

/** Opens the Redis Streams transport: `redis://host:6379[/db]?prefix=syncopate` (see the README beside this file). */
export async function openRedisDriver(url: string): Promise<RedisDriver> {
  const options = parseRedisUrl(url);
  const redis = new Redis(options.connectUrl, { lazyConnect: true });
  let lastError: unknown;
  // Failures surface through the commands that hit them; unheard, the event would crash the process.
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(options.connectUrl, lastError ?? error);
  }
  return new RedisDriver(redis, options);
}

/** The server did not answer when the transport opened. */
export class RedisUnavailableError extends MessagingError {
  constructor(connectUrl: string, cause: unknown) {
    const { host } = new URL(connectUrl);
    super('transport_unavailable', `cannot reach Redis at ${host}: ${errorMessage(cause)}`, { cause });
  }
}

/** A publish that reached the primary but not the replicas the URL asked for. */
export class ReplicationTimeoutError extends MessagingError {
  constructor(wanted: number, reached: number, timeoutMs: number) {
    super(
      'replication_timeout',
      `the publish reached ${reached} of ${wanted} replicas within ${timeoutMs} ms; it is stored on the primary, but a failover now could lose it`,
    );
  }
}

/**
 * Redis Streams: one stream per group, written at publish time for every group bound to the
 * event's type, each with a Redis consumer group of the same name. Claims are XREADGROUP … BLOCK,
 * leases are the pending list's idle times, and every settle is one fenced Lua script.
 */
export class RedisDriver implements TransportDriver {
  readonly name = 'redis';
  /**
   * Durable across restarts of the transport's processes; across a restart of the Redis server
   * only as far as its AOF / RDB settings go (see the README). Streams give no order across a
   * group's consumers, so per-key order holds only within one claimed batch.
   */
  readonly capabilities: TransportCapabilities = {
    durable: true,
    crossProcess: true,
    perKeyOrder: false,
    leases: 'timed',
    unknownStats: ['oldestWaitingAgeMs'],
  };
  readonly deadLetters: DeadLetterQueue;
  readonly keys: NamespaceKeys;
  private readonly queues = new Set<RedisGroupQueue>();
  private closed = false;

  constructor(
    readonly redis: Redis,
    private readonly options: RedisTransportOptions,
  ) {
    this.keys = namespaceKeys(options.prefix);
    this.deadLetters = new RedisDeadLetters(redis, this.keys);
  }

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    this.assertOpen();
    await declareScript.run(this.redis, [this.keys.stream(group)], [this.keys.base, group, ...eventTypes]);
  }

  async publish(events: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    const args: string[] = [this.keys.base];
    for (const event of events) args.push(event.type, event.id, event.orderingkey ?? '', encodeEnvelope(event));
    const published = publishScript.run(this.redis, [], args);
    // Sent right behind the script, so waiting for replicas adds their lag, not another round trip.
    const replicated =
      this.options.replicas > 0
        ? (this.redis.call('WAIT', [this.options.replicas, this.options.replicaTimeoutMs]) as Promise<number>)
        : undefined;
    try {
      await published;
    } catch (error) {
      await replicated?.catch(() => {});
      const unroutable = error instanceof Error ? /^UNROUTABLE (.*)$/s.exec(error.message) : null;
      if (unroutable) throw new UnroutableEventError(unroutable[1] as string);
      throw error;
    }
    if (replicated) {
      const reached = await replicated;
      if (reached < this.options.replicas) {
        throw new ReplicationTimeoutError(this.options.replicas, reached, this.options.replicaTimeoutMs);
      }
    }
  }

  async openQueue(options: GroupQueueOptions): Promise<GroupQueue> {
    this.assertOpen();
    const queue = new RedisGroupQueue({
      ...options,
      redis: this.redis,
      connectUrl: this.options.connectUrl,
      keys: this.keys,
      onClose: () => this.queues.delete(queue),
    });
    await queue.reader.connect();
    this.queues.add(queue);
    return queue;
  }

  /**
   * One script: the stream's length less the group's pending entries is what waits undelivered,
   * the delayed set what waits for a retry's delay. A leased entry counts as in flight until
   * another consumer reclaims it, even once its lease lapsed. The oldest waiting message's age is
   * that of the oldest undelivered entry (a retried or released copy counts from when it was put
   * back); null when only retries wait, whose copies keep no publish time.
   */
  async stats(group: string): Promise<GroupStats> {
    this.assertOpen();
    const [length, pending, delayed, deadLettered, oldest, now] = (await statsScript.run(
      this.redis,
      [this.keys.stream(group), this.keys.delayed(group), this.keys.deadLetters(group)],
      [group],
    )) as number[] as [number, number, number, number, number, number];
    const ready = Math.max(0, length - pending);
    let oldestWaitingAgeMs: number | null = 0;
    if (oldest >= 0) oldestWaitingAgeMs = Math.max(0, now - oldest);
    else if (delayed > 0) oldestWaitingAgeMs = null;
    return { group, waiting: ready + delayed, delayed, inFlight: pending, deadLettered, oldestWaitingAgeMs };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues].map((queue) => queue.close()));
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}
