import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Delivery, Failure, GroupQueue, GroupQueueOptions } from '@syncopate/messaging';
import { clipReason } from '@syncopate/messaging/driver';
import type { Redis } from 'ioredis';
import { BlockingReader } from './blocking-reader.js';
import { copyOf, type RawEntry, toDelivery, tokenOf } from './entries.js';
import type { NamespaceKeys } from './keys.js';
import {
  ackScript,
  deadLetterScript,
  extendScript,
  forgetConsumersScript,
  promoteScript,
  reclaimScript,
  requeueScript,
} from './scripts.js';

export interface RedisGroupQueueOptions extends GroupQueueOptions {
  redis: Redis;
  connectUrl: string;
  keys: NamespaceKeys;
  onClose: () => void;
}

/**
 * How often an idle consumer looks for lapsed leases and due retries another process scheduled:
 * a quarter of its lease, within these bounds. New entries and retries scheduled in this process
 * wake it at once; this only bounds how late a crashed consumer's message comes back.
 */
const MAINTAIN_EVERY_MS = { min: 100, max: 5_000 };
/** Pending entries one reclaim pass looks at, at most: bounds the script's time on the server. */
const RECLAIM_SCAN_BUDGET = 1_000;
const PROMOTE_BATCH = 500;
/** Consumers that hold nothing and were quiet this long died without saying goodbye. */
const FORGET_CONSUMERS = { everyMs: 60_000, quietMs: 3_600_000 };

/** One consumer of a group's stream (a Redis consumer named after this queue, its lease in the name). */
export class RedisGroupQueue implements GroupQueue {
  /** The lease travels in the name, so a reclaimer in any process knows when this consumer's leases lapse. */
  readonly consumer: string;
  readonly reader: BlockingReader;
  private readonly redis: Redis;
  private readonly stream: string;
  private readonly delayed: string;
  private readonly maintainEveryMs: number;
  private maintainAt = 0;
  private forgetAt = Date.now() + FORGET_CONSUMERS.everyMs;
  private promotion: { timer: NodeJS.Timeout; at: number } | undefined;
  private closed = false;

  constructor(private readonly options: RedisGroupQueueOptions) {
    this.redis = options.redis;
    this.consumer = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}~${options.leaseMs}`;
    this.stream = options.keys.stream(options.group);
    this.delayed = options.keys.delayed(options.group);
    this.maintainEveryMs = Math.min(
      MAINTAIN_EVERY_MS.max,
      Math.max(MAINTAIN_EVERY_MS.min, Math.floor(options.leaseMs / 4)),
    );
    this.reader = new BlockingReader({
      connectUrl: options.connectUrl,
      stream: this.stream,
      group: options.group,
      consumer: this.consumer,
      control: options.redis,
    });
  }

  async claim(max: number, signal: AbortSignal): Promise<Delivery[]> {
    while (!signal.aborted && !this.closed) {
      if (Date.now() >= this.maintainAt) {
        const reclaimed = await this.maintain(max);
        if (reclaimed.length > 0) return reclaimed;
      }
      let entries: RawEntry[];
      try {
        // No yield before the read to gather acks for it (measured: a setImmediate here cost a
        // fifth of the throughput in the transport benchmark); acks go on the control connection.
        entries = await this.reader.read(max, this.maintainAt - Date.now(), signal);
      } catch (error) {
        if (this.closed) break;
        throw error;
      }
      if (entries.length > 0) {
        const at = Date.now();
        return entries.map((entry) => toDelivery(entry, 1, at));
      }
    }
    return [];
  }

  /** One fenced script for the batch the runner hands over (acks finishing together are batched there). */
  async ack(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const args: (string | number)[] = [this.options.group, this.consumer, ...fences(deliveries)];
    await ackScript.run(this.redis, [this.stream], args);
  }

  async retry(delivery: Delivery, delayMs: number, _failure: Failure): Promise<void> {
    const delay = Math.max(0, Math.round(delayMs));
    await this.requeue([{ delivery, attemptsSoFar: delivery.attempt }], delay);
    if (delay > 0) this.schedulePromotion(delay);
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const { group, keys } = this.options;
    const token = tokenOf(delivery);
    await deadLetterScript.run(
      this.redis,
      [this.stream, keys.deadLetters(group), keys.deadLetterIndex(group), keys.deadLetterPosition(group)],
      [
        group,
        this.consumer,
        token.entryId,
        token.deliveries,
        delivery.eventId,
        token.type,
        delivery.orderingKey ?? '',
        delivery.body,
        clipReason(reason),
        delivery.attempt,
        delivery.firstAttemptAt.getTime(),
        token.claimedAt,
        Date.now(),
      ],
    );
  }

  async extendLeases(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await extendScript.run(this.redis, [this.stream], [this.options.group, this.consumer, ...fences(deliveries)]);
  }

  async release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void> {
    if (deliveries.length === 0) return;
    const uncounted = options.countAttempt ? 0 : 1;
    await this.requeue(
      deliveries.map((delivery) => ({ delivery, attemptsSoFar: delivery.attempt - uncounted })),
      0,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.promotion) clearTimeout(this.promotion.timer);
    this.reader.close();
    this.options.onClose();
    await forgetConsumersScript
      .run(this.redis, [this.stream], [this.options.group, this.consumer, FORGET_CONSUMERS.quietMs])
      .catch(() => {
        // Left behind, it is forgotten by a later consumer once it has been quiet long enough.
      });
  }

  /** Due retries into the stream, lapsed leases to this consumer: one round trip for both. */
  private async maintain(max: number): Promise<Delivery[]> {
    const { group } = this.options;
    const forget = Date.now() >= this.forgetAt;
    const [reclaimed, nextDueMs] = await Promise.all([
      reclaimScript.run(
        this.redis,
        [this.stream],
        [group, this.consumer, this.options.leaseMs, max, RECLAIM_SCAN_BUDGET],
      ) as Promise<[string, string[], number, number][]>,
      promoteScript.run(this.redis, [this.stream, this.delayed], [PROMOTE_BATCH]) as Promise<number>,
      forget
        ? forgetConsumersScript.run(this.redis, [this.stream], [group, this.consumer, FORGET_CONSUMERS.quietMs])
        : undefined,
    ]);
    const at = Date.now();
    this.maintainAt = at + this.maintainEveryMs;
    if (forget) this.forgetAt = at + FORGET_CONSUMERS.everyMs;
    if (nextDueMs >= 0) this.schedulePromotion(nextDueMs);
    return reclaimed.map(([id, flat, deliveries, idle]) => toDelivery([id, flat], deliveries, at, at - idle));
  }

  private async requeue(
    copies: readonly { delivery: Delivery; attemptsSoFar: number }[],
    delayMs: number,
  ): Promise<void> {
    const args: (string | number)[] = [this.options.group, this.consumer, delayMs];
    for (const { delivery, attemptsSoFar } of copies) {
      const token = tokenOf(delivery);
      args.push(token.entryId, token.deliveries, copyOf(delivery, attemptsSoFar));
    }
    await requeueScript.run(this.redis, [this.stream, this.delayed], args);
  }

  /**
   * Moves due retries into the stream when the earliest is due: the XADD wakes every blocked
   * consumer of the group, in any process. Other processes' consumers learn of retries scheduled
   * here at their next maintenance pass, which is also the fallback if this process dies.
   */
  private schedulePromotion(inMs: number): void {
    if (this.closed) return;
    const at = Date.now() + inMs;
    if (this.promotion && this.promotion.at <= at) return;
    if (this.promotion) clearTimeout(this.promotion.timer);
    const timer = setTimeout(() => {
      this.promotion = undefined;
      promoteScript.run(this.redis, [this.stream, this.delayed], [PROMOTE_BATCH]).then(
        (next) => {
          if ((next as number) >= 0) this.schedulePromotion(next as number);
        },
        () => {
          // The next maintenance pass promotes them instead.
        },
      );
    }, inMs);
    timer.unref();
    this.promotion = { timer, at };
  }
}

function fences(deliveries: readonly Delivery[]): (string | number)[] {
  return deliveries.flatMap((delivery) => {
    const token = tokenOf(delivery);
    return [token.entryId, token.deliveries];
  });
}
