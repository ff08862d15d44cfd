import type { Delivery, Failure, GroupQueue, GroupQueueOptions } from '@syncopate/messaging';
import { clipReason } from '@syncopate/messaging/driver';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { nextDeadLetterPosition } from './dead-letter-records.js';
import type { Names } from './names.js';
import type { ConfirmPublisher, Outgoing } from './publisher.js';
import { isDue, tierFor } from './retry-tiers.js';
import type { Topology } from './topology.js';
import { copyProperties, factsOf, HEADER, type WireFacts } from './wire.js';

export interface GroupQueueDeps {
  /** The live connection, waiting a while for a lost one to come back. */
  connection: () => Promise<ChannelModel>;
  publisher: ConfirmPublisher;
  topology: Topology;
  names: Names;
  onClose: () => void;
}

/** The delivery tag is only meaningful on the channel that received it: the channel is the fence. */
interface Token {
  channel: Channel;
  message: ConsumeMessage;
  facts: WireFacts;
  deliveredAt: number;
}

const MAX_LAST_ERROR = 1_000;

/**
 * One consumer on a group's quorum queue: a channel with manual acks and a prefetch of the
 * subscription's concurrency (the runner's first claim asks for exactly that many). The broker
 * pushes deliveries; `claim` hands out what has arrived, or waits for the next one.
 *
 * Leases: RabbitMQ keeps an unacknowledged delivery with its consumer for as long as the channel
 * lives, and gives it back (counting the delivery in `x-delivery-count`) when the channel or the
 * connection closes, which happens at once when the consumer's process dies. So there is no lease
 * to extend, and a settle on a delivery from a channel that has since closed is ignored: the broker
 * has already given that message to someone else.
 */
export class RabbitMqGroupQueue implements GroupQueue {
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private starting: Promise<void> | undefined;
  private readonly ready: Delivery[] = [];
  /** Handed to the runner and not settled yet: with `ready`, what this consumer holds unacknowledged. */
  private readonly claimed = new Set<Token>();
  private wake: (() => void) | undefined;
  private prefetch = 0;
  /** Whether the runner is claiming; the consumer runs only while it is. */
  private wanted = false;
  private closed = false;
  private readonly parking = new Set<Promise<void>>();

  constructor(
    private readonly deps: GroupQueueDeps,
    private readonly options: GroupQueueOptions,
  ) {}

  async claim(max: number, signal: AbortSignal): Promise<Delivery[]> {
    if (this.prefetch === 0) this.prefetch = max;
    this.wanted = true;
    while (!signal.aborted && !this.closed) {
      if (this.ready.length > 0) {
        const batch = this.ready.splice(0, max);
        for (const delivery of batch) this.claimed.add(delivery.token as Token);
        return batch;
      }
      if (this.channel && this.consumerTag) await this.nextDelivery(signal);
      else await untilAborted(this.start(), signal);
    }
    // Nobody claims any more (the runner is shutting down): stop the broker from pushing more
    // now, before the runner releases what it holds, or a requeued message would be pushed
    // straight back to this consumer and counted again when it cancels.
    await this.stopConsuming();
    return [];
  }

  get group(): string {
    return this.options.group;
  }

  /** Messages this consumer holds unacknowledged (RabbitMQ tells no one else how many a queue has). */
  inFlight(): number {
    let held = this.ready.length;
    for (const token of this.claimed) {
      if (this.owns(token)) held += 1;
      else this.claimed.delete(token);
    }
    return held;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const token = delivery.token as Token;
      this.claimed.delete(token);
      if (this.owns(token)) settleQuietly(() => token.channel.ack(token.message));
    }
  }

  async retry(delivery: Delivery, delayMs: number, failure: Failure): Promise<void> {
    const token = delivery.token as Token;
    this.claimed.delete(token);
    if (!this.owns(token)) return;
    const now = Date.now();
    await this.move([token], async () => {
      const queue = await this.deps.topology.retryTier(this.options.group, tierFor(delayMs));
      return this.copy(token, queue, {
        [HEADER.attempts]: delivery.attempt,
        [HEADER.firstAttemptAt]: delivery.firstAttemptAt.getTime(),
        [HEADER.dueAt]: now + delayMs,
        [HEADER.delayMs]: delayMs,
        [HEADER.lastError]: failure.error.slice(0, MAX_LAST_ERROR),
      });
    });
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const token = delivery.token as Token;
    this.claimed.delete(token);
    if (!this.owns(token)) return;
    const now = Date.now();
    await this.move([token], async () =>
      this.copy(token, this.deps.names.deadLetters(this.options.group), {
        [HEADER.reason]: clipReason(reason),
        [HEADER.attempts]: delivery.attempt,
        [HEADER.firstAttemptAt]: delivery.firstAttemptAt.getTime(),
        [HEADER.lastAttemptAt]: token.deliveredAt,
        [HEADER.deadLetteredAt]: now,
        [HEADER.position]: nextDeadLetterPosition(now),
        [HEADER.dueAt]: undefined,
        [HEADER.delayMs]: undefined,
      }),
    );
  }

  /** Nothing to do (`leases: 'connection'`): the broker holds a delivery for as long as this channel lives. */
  async extendLeases(_deliveries: readonly Delivery[]): Promise<void> {}

  async release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void> {
    for (const delivery of deliveries) this.claimed.delete(delivery.token as Token);
    const owned = deliveries.filter((delivery) => this.owns(delivery.token as Token));
    if (owned.length === 0) return;
    const tokens = owned.map((delivery) => delivery.token as Token);
    if (options.countAttempt) {
      // A requeue is counted by the quorum queue itself (x-delivery-count), and keeps the message's place.
      for (const token of tokens) settleQuietly(() => token.channel.nack(token.message, false, true));
      return;
    }
    // A requeue would count; a copy that carries the attempts so far, minus this one, does not.
    await this.move(tokens, async () =>
      owned.map((delivery) => {
        const previous = delivery.attempt - 1;
        return this.copy(delivery.token as Token, this.deps.names.group(this.options.group), {
          [HEADER.attempts]: previous,
          [HEADER.firstAttemptAt]: previous > 0 ? delivery.firstAttemptAt.getTime() : undefined,
          [HEADER.dueAt]: undefined,
          [HEADER.delayMs]: undefined,
        });
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.onClose();
    this.wake?.();
    await this.stopConsuming();
    const channel = this.channel;
    if (!channel) return;
    // After cancel-ok nothing more arrives: what was delivered but never claimed goes back uncounted.
    await Promise.all(this.parking);
    const unclaimed = this.ready.splice(0);
    await this.release(unclaimed, { countAttempt: false }).catch(() => {});
    this.channel = undefined;
    await channel.close().catch(() => {});
  }

  private start(): Promise<void> {
    this.starting ??= this.consume().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Consumes on the current channel, opening one first if there is none (at start, after a drop). */
  private async consume(): Promise<void> {
    const channel = this.channel ?? (await this.openChannel());
    let consumerTag: string;
    try {
      const reply = await channel.consume(
        this.deps.names.group(this.options.group),
        (message) => this.receive(channel, message),
        { noAck: false },
      );
      consumerTag = reply.consumerTag;
      if (this.channel !== channel) return;
      this.consumerTag = consumerTag;
    } catch (error) {
      this.lost(channel);
      await channel.close().catch(() => {});
      throw error;
    }
    // Claiming stopped while the consumer was starting (stopConsuming waits for this very start).
    if (!this.wanted || this.closed) {
      this.consumerTag = undefined;
      await channel.cancel(consumerTag).catch(() => {});
    }
  }

  private async openChannel(): Promise<Channel> {
    const model = await this.deps.connection();
    const channel = await model.createChannel();
    channel.on('error', () => {});
    channel.once('close', () => this.lost(channel));
    // Deliveries can arrive before consume() resolves: the channel must be current by then.
    this.channel = channel;
    try {
      await channel.prefetch(this.prefetch);
    } catch (error) {
      this.lost(channel);
      throw error;
    }
    return channel;
  }

  private async stopConsuming(): Promise<void> {
    this.wanted = false;
    await this.starting?.catch(() => {});
    const { channel, consumerTag } = this;
    if (!channel || !consumerTag) return;
    this.consumerTag = undefined;
    await channel.cancel(consumerTag).catch(() => {});
  }

  private receive(channel: Channel, message: ConsumeMessage | null): void {
    if (channel !== this.channel) return;
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): start over on a new channel.
      void channel.close().catch(() => {});
      return;
    }
    const facts = factsOf(message);
    const now = Date.now();
    if (facts.dueAt !== undefined && !isDue(facts.dueAt, facts.delayMs, now)) {
      this.park({ channel, message, facts, deliveredAt: now }, facts.dueAt - now);
      return;
    }
    this.ready.push({
      eventId: facts.eventId,
      body: message.content.toString('utf8'),
      orderingKey: facts.orderingKey,
      attempt: facts.attempt,
      // A first delivery to a consumer that died left no time behind; its publish time is the bound below.
      firstAttemptAt: new Date(facts.firstAttemptAt ?? (facts.attempt > 1 ? (facts.publishedAt ?? now) : now)),
      token: { channel, message, facts, deliveredAt: now } satisfies Token,
    });
    this.wake?.();
  }

  /** A retry back before its due time (a long delay takes several tiers): into the next tier, uncounted. */
  private park(token: Token, remainingMs: number): void {
    const parked = this.move([token], async () => {
      const queue = await this.deps.topology.retryTier(this.options.group, tierFor(remainingMs));
      return this.copy(token, queue, { [HEADER.attempts]: token.facts.attempt - 1 });
    }).catch(() => {
      // move() gave it back to the queue; the next consumer parks it again.
    });
    this.parking.add(parked);
    void parked.finally(() => this.parking.delete(parked));
  }

  /**
   * Publishes copies (confirmed), then acknowledges the originals. If the publish fails the
   * originals are requeued at once, so a failed settle never leaves a message stuck with a live
   * consumer. A channel lost between the two leaves both copies: a duplicate, never a loss.
   */
  private async move(tokens: Token[], copies: () => Promise<Outgoing | Outgoing[]>): Promise<void> {
    try {
      const outgoing = await copies();
      await this.deps.publisher.publish(Array.isArray(outgoing) ? outgoing : [outgoing]);
    } catch (error) {
      for (const token of tokens) {
        if (this.owns(token)) settleQuietly(() => token.channel.nack(token.message, false, true));
      }
      throw error;
    }
    for (const token of tokens) {
      if (this.owns(token)) settleQuietly(() => token.channel.ack(token.message));
    }
  }

  private copy(token: Token, queue: string, changes: Record<string, unknown>): Outgoing {
    return {
      exchange: '',
      routingKey: queue,
      content: token.message.content,
      properties: copyProperties(token.message, token.facts, changes),
      unroutable: () => new Error(`RabbitMQ queue "${queue}" does not exist`),
    };
  }

  private owns(token: Token): boolean {
    return token.channel === this.channel;
  }

  private lost(channel: Channel): void {
    if (this.channel !== channel) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    // The broker gives these back itself when the channel closes.
    this.ready.length = 0;
    this.claimed.clear();
    this.wake?.();
  }

  private nextDelivery(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** amqplib throws when the channel is already closing; the broker then requeues the message anyway. */
function settleQuietly(settle: () => void): void {
  try {
    settle();
  } catch {
    // See above.
  }
}

/** Waits for `work` unless `signal` aborts first; the work itself carries on. */
function untilAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
