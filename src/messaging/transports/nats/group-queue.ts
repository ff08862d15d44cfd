import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { DeadLetterRecord } from '../../dead-letters.js';
import type { Delivery, Failure, GroupQueue, GroupQueueOptions } from '../../transport.js';
import { ackProtocol, type DeliveryInfo, deliveryInfo } from './acks.js';
import type { AttemptLedger, AttemptRecord } from './attempt-ledger.js';
import type { Layout } from './layout.js';
import { PullRequest } from './pull-request.js';

/** What a group queue needs from its driver. */
export interface QueueContext {
  nc: NatsConnection;
  layout: Layout;
  ledger: AttemptLedger;
  storeDeadLetter(record: DeadLetterRecord): Promise<void>;
}

interface Token {
  msg: Msg;
  info: DeliveryInfo;
  type: string;
  /** The ledger's record when this delivery was claimed (only redeliveries are looked up). */
  record: AttemptRecord | undefined;
  claimedAt: number;
  /** Local clock; past it the server may have handed the message to someone else. 0 once settled. */
  leaseUntil: number;
}

interface Buffered {
  msg: Msg;
  receivedAt: number;
}

export const EVENT_ID_HEADER = 'Syncopate-Event-Id';
export const ORDERING_KEY_HEADER = 'Syncopate-Ordering-Key';

/** A server holds an idle pull this long; then the queue asks again (a cheap, rare request). */
const PULL_EXPIRES_MS = 30_000;
const PULL_HEARTBEAT_MS = 5_000;
/** After an empty early answer (others' requests cover the pending messages) before asking again. */
const EMPTY_PULL_PAUSE_MS = 25;
const FAILED_PULL_PAUSE_MS = 1_000;

/**
 * One member of a group: pulls from the group's consumers (one per bound event type, one for
 * replays), leases through JetStream's ack_wait, and settles with ack / nak(delay) / +WPI / term.
 */
export class NatsGroupQueue implements GroupQueue {
  /** Delivered by the server but not yet handed to the runner (several consumers answered at once). */
  private buffer: Buffered[] = [];
  private readonly requests = new Map<string, PullRequest>();
  private readonly pausedUntil = new Map<string, number>();
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly group: string;
  /** Local leases start this much before the server's, so a settle never lands after the server gave up. */
  private readonly leaseMarginMs: number;

  constructor(
    private readonly context: QueueContext,
    options: GroupQueueOptions,
    private readonly consumers: readonly string[],
    private readonly ackWaitMs: number,
    private readonly onClose: () => void,
  ) {
    this.group = options.group;
    this.leaseMarginMs = Math.min(1_000, Math.floor(ackWaitMs / 10));
  }

  async claim(max: number, signal: AbortSignal): Promise<Delivery[]> {
    while (!signal.aborted && !this.closed) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      if (this.buffer.length > 0) return this.take(max);
      const pauseMs = this.pull(max);
      await this.changed(signal, pauseMs);
      // The rest of a batch arrives in the same read: let it land before taking.
      if (this.buffer.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.cancelRequests();
    return [];
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const forget: Promise<void>[] = [];
    for (const delivery of deliveries) {
      const token = this.owned(delivery);
      if (!token) continue;
      token.leaseUntil = 0;
      ackProtocol.ack(token.msg);
      if (token.record) forget.push(this.context.ledger.forget(this.group, token.info.streamSequence));
    }
    await Promise.all([this.context.nc.flush(), ...forget]);
  }

  async retry(delivery: Delivery, delayMs: number, _failure: Failure): Promise<void> {
    const token = this.owned(delivery);
    if (!token) return;
    if (!token.record) {
      // The next delivery must know when the first attempt was: JetStream does not keep it.
      await this.context.ledger.write(this.group, token.info.streamSequence, {
        uncounted: 0,
        firstAttemptAt: delivery.firstAttemptAt.getTime(),
      });
    }
    if (!this.owned(delivery)) return;
    token.leaseUntil = 0;
    ackProtocol.nak(token.msg, delayMs);
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const token = this.owned(delivery);
    if (!token) return;
    await this.context.storeDeadLetter({
      group: this.group,
      eventId: delivery.eventId,
      type: token.type,
      orderingKey: delivery.orderingKey ?? null,
      body: delivery.body,
      reason,
      attempts: delivery.attempt,
      firstAttemptAt: delivery.firstAttemptAt.getTime(),
      lastAttemptAt: token.claimedAt,
      deadLetteredAt: Date.now(),
    });
    // Stored first: a crash in between leaves a copy in both places, never in neither.
    token.leaseUntil = 0;
    ackProtocol.term(token.msg);
    await Promise.all([
      this.context.nc.flush(),
      token.record ? this.context.ledger.forget(this.group, token.info.streamSequence) : undefined,
    ]);
  }

  async extendLeases(deliveries: readonly Delivery[]): Promise<void> {
    const now = Date.now();
    for (const delivery of deliveries) {
      const token = this.owned(delivery);
      if (!token) continue;
      ackProtocol.working(token.msg);
      token.leaseUntil = now + this.ackWaitMs;
    }
    for (const item of this.buffer) {
      ackProtocol.working(item.msg);
      item.receivedAt = now;
    }
  }

  async release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void> {
    const tokens = deliveries.map((delivery) => this.owned(delivery)).filter((token) => token !== undefined);
    await Promise.all(
      tokens.map((token) => {
        if (options.countAttempt && token.record) return undefined;
        const record = token.record ?? { uncounted: 0, firstAttemptAt: token.claimedAt };
        return this.context.ledger.write(this.group, token.info.streamSequence, {
          ...record,
          uncounted: record.uncounted + (options.countAttempt ? 0 : 1),
        });
      }),
    );
    for (const token of tokens) {
      token.leaseUntil = 0;
      ackProtocol.nak(token.msg, 0);
    }
    await this.context.nc.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelRequests();
    this.wake?.();
    const unclaimed = await this.take(this.buffer.length);
    if (unclaimed.length > 0) await this.release(unclaimed, { countAttempt: false });
    this.onClose();
  }

  /** After a reconnect the server may have lost the waiting requests: ask again. */
  resume(): void {
    this.cancelRequests();
    this.wake?.();
  }

  /** Starts a request on every consumer that has none; returns how long until a paused one may ask again. */
  private pull(max: number): number | undefined {
    const now = Date.now();
    let pauseMs: number | undefined;
    for (const consumer of this.consumers) {
      if (this.requests.has(consumer)) continue;
      const until = this.pausedUntil.get(consumer) ?? 0;
      if (until > now) {
        pauseMs = Math.min(pauseMs ?? Number.POSITIVE_INFINITY, until - now);
        continue;
      }
      const startedAt = now;
      const request = new PullRequest(this.context.nc, {
        stream: this.context.layout.stream,
        consumer,
        batch: max,
        expiresMs: PULL_EXPIRES_MS,
        heartbeatMs: PULL_HEARTBEAT_MS,
        wait: true,
        onMessage: (msg, receivedAt) => {
          this.buffer.push({ msg, receivedAt });
          this.wake?.();
        },
        onEnd: (end) => {
          if (this.requests.get(consumer) === request) this.requests.delete(consumer);
          if (end.error) {
            this.failure = end.error;
            this.pausedUntil.set(consumer, Date.now() + FAILED_PULL_PAUSE_MS);
          } else if (end.delivered === 0 && Date.now() - startedAt < PULL_EXPIRES_MS / 2) {
            this.pausedUntil.set(consumer, Date.now() + EMPTY_PULL_PAUSE_MS);
          }
          this.wake?.();
        },
      });
      this.requests.set(consumer, request);
    }
    return pauseMs;
  }

  private cancelRequests(): void {
    for (const request of this.requests.values()) request.cancel();
    this.requests.clear();
  }

  private changed(signal: AbortSignal, timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  private async take(max: number): Promise<Delivery[]> {
    const items = this.buffer.splice(0, max);
    return Promise.all(items.map((item) => this.toDelivery(item)));
  }

  private async toDelivery({ msg, receivedAt }: Buffered): Promise<Delivery> {
    const info = deliveryInfo(msg.reply ?? '');
    let record: AttemptRecord | undefined;
    if (info.deliveryCount > 1) {
      // Unreadable ledger: count every delivery. Over-counting can only dead-letter early, never loop forever.
      record = await this.context.ledger.read(this.group, info.streamSequence).catch(() => undefined);
    }
    const headers = msg.headers;
    const key = headers?.get(ORDERING_KEY_HEADER);
    const token: Token = {
      msg,
      info,
      type: this.context.layout.typeOfSubject(msg.subject),
      record,
      claimedAt: receivedAt,
      leaseUntil: receivedAt + this.ackWaitMs - this.leaseMarginMs,
    };
    return {
      eventId: headers?.get(EVENT_ID_HEADER) || headers?.get('Nats-Msg-Id') || '',
      body: msg.string(),
      orderingKey: key ? decodeURIComponent(key) : undefined,
      attempt: Math.max(1, info.deliveryCount - (record?.uncounted ?? 0)),
      // A redelivery with no record: its first consumer died before settling it; the store time is the best bound.
      firstAttemptAt: new Date(record?.firstAttemptAt ?? (info.deliveryCount > 1 ? info.storedAt : receivedAt)),
      token,
    };
  }

  /** The token while this delivery still holds its lease; a lapsed one must not touch a newer delivery. */
  private owned(delivery: Delivery): Token | undefined {
    const token = delivery.token as Token;
    return token.leaseUntil > Date.now() ? token : undefined;
  }
}
