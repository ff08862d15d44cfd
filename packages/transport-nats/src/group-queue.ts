import type { JetStreamClient } from '@nats-io/jetstream';
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { Delivery, Failure, GroupQueue, GroupQueueOptions } from '@syncopate/messaging';
import type { DeadLetterRecord } from '@syncopate/messaging/driver';
import { ackProtocol, type DeliveryInfo, deliveryInfo } from './acks.js';
import type { AttemptLedger } from './attempt-ledger.js';
import type { Layout } from './layout.js';
import { publishWindowed } from './publish-window.js';
import { PullRequest } from './pull-request.js';

/** What a group queue needs from its driver. */
export interface QueueContext {
  nc: NatsConnection;
  js: JetStreamClient;
  layout: Layout;
  ledger: AttemptLedger;
  storeDeadLetter(record: DeadLetterRecord): Promise<void>;
}

interface Token {
  msg: Msg;
  info: DeliveryInfo;
  type: string;
  /** Attempts made before this copy of the message was published (a released message is a new copy). */
  priorAttempts: number;
  /** Whether the next delivery can find the first attempt's time (in a header or the ledger). */
  firstAttemptKept: boolean;
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
const ATTEMPTS_HEADER = 'Syncopate-Attempts';
const FIRST_ATTEMPT_HEADER = 'Syncopate-First-Attempt';

/** A server holds an idle pull this long; then the queue asks again (a cheap, rare request). */
const PULL_EXPIRES_MS = 30_000;
const PULL_HEARTBEAT_MS = 5_000;
/** After a request ended early with nothing, before asking again. */
const EMPTY_PULL_PAUSE_MS = 25;
const FAILED_PULL_PAUSE_MS = 1_000;

/**
 * One member of a group: pulls from the group's consumers (one per bound event type, one for
 * replays), leases through JetStream's ack_wait, and settles with ack / nak(delay) / +WPI / term.
 */
export class NatsGroupQueue implements GroupQueue {
  /** Delivered by the server but not yet handed to the runner (several consumers answered at once). */
  private buffer: Buffered[] = [];
  /** The open requests of each consumer; what they may still deliver is what the queue has asked for. */
  private readonly requests = new Map<string, Set<PullRequest>>();
  /** Requests from before a reconnect: still listened to, no longer counted. */
  private readonly orphans = new Set<PullRequest>();
  private readonly pausedUntil = new Map<string, number>();
  /** Handed to the runner and not settled yet (a lapsed one is dropped when counted). */
  private readonly claimed = new Set<Token>();
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  readonly group: string;
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
      this.dropLapsed();
      if (this.buffer.length > 0) return this.take(max);
      const pauseMs = this.pull(max);
      await this.changed(signal, pauseMs);
      // The rest of a batch arrives in the same read: let it land before taking.
      if (this.buffer.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // Outstanding requests stay until close: withdrawing one makes the server misreport the
    // delivery count of the next message it tries to hand to it (see release).
    return [];
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const forget: Promise<void>[] = [];
    for (const delivery of deliveries) {
      const token = this.owned(delivery);
      if (!token) continue;
      this.settled(token);
      ackProtocol.ack(token.msg);
      if (token.info.deliveryCount > 1) forget.push(this.forgetFirstAttempt(token));
    }
    await Promise.all([this.context.nc.flush(), ...forget]);
  }

  async retry(delivery: Delivery, delayMs: number, _failure: Failure): Promise<void> {
    const token = this.owned(delivery);
    if (!token) return;
    if (!token.firstAttemptKept) {
      // The next delivery must know when the first attempt was: JetStream does not keep it.
      await this.context.ledger.write(this.group, token.info.streamSequence, {
        firstAttemptAt: delivery.firstAttemptAt.getTime(),
      });
    }
    if (!this.owned(delivery)) return;
    this.settled(token);
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
    this.settled(token);
    ackProtocol.term(token.msg);
    await Promise.all([this.context.nc.flush(), this.forgetFirstAttempt(token)]);
  }

  async extendLeases(deliveries: readonly Delivery[]): Promise<void> {
    const now = Date.now();
    for (const delivery of deliveries) {
      const token = this.owned(delivery);
      if (!token) continue;
      ackProtocol.working(token.msg);
      token.leaseUntil = now + this.ackWaitMs - this.leaseMarginMs;
    }
    this.dropLapsed(now);
    for (const item of this.buffer) {
      ackProtocol.working(item.msg);
      item.receivedAt = now;
    }
  }

  /**
   * Publishes a copy carrying the attempts counted so far to the group's own replay subject, then
   * terminates the original. A nak would be simpler, but JetStream counts every delivery and
   * cannot un-count one, and (2.9) misreports the count of a message nak'd while a withdrawn pull
   * request of its consumer is still registered; a copy starts a fresh count that the header offsets.
   */
  async release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void> {
    const owned = deliveries
      .map((delivery) => ({ delivery, token: this.owned(delivery) }))
      .filter((entry): entry is { delivery: Delivery; token: Token } => entry.token !== undefined);
    if (owned.length === 0) return;
    await publishWindowed(
      this.context.js,
      owned.map(({ delivery, token }) => {
        const attempts = delivery.attempt - (options.countAttempt ? 0 : 1);
        const h = headers();
        h.set(EVENT_ID_HEADER, delivery.eventId);
        if (delivery.orderingKey !== undefined) h.set(ORDERING_KEY_HEADER, encodeURIComponent(delivery.orderingKey));
        if (attempts > 0) {
          h.set(ATTEMPTS_HEADER, String(attempts));
          h.set(FIRST_ATTEMPT_HEADER, String(delivery.firstAttemptAt.getTime()));
        }
        return {
          subject: this.context.layout.replaySubject(this.group, token.type),
          data: token.msg.data,
          // Deduplicates this release's copy if its publish is retried; a delivery sequence is never reused.
          options: { msgID: `release:${token.info.consumer}:${token.info.deliverySequence}`, headers: h },
        };
      }),
    );
    for (const { token } of owned) {
      this.settled(token);
      ackProtocol.term(token.msg);
    }
    await Promise.all([this.context.nc.flush(), ...owned.map(({ token }) => this.forgetFirstAttempt(token))]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelRequests();
    this.wake?.();
    this.dropLapsed();
    const unclaimed = await this.take(this.buffer.length);
    if (unclaimed.length > 0) await this.release(unclaimed, { countAttempt: false });
    this.onClose();
  }

  /** The messages this member holds (delivered and not settled): the in-flight figure of `stats`. */
  held(): { consumer: string; streamSequence: number }[] {
    const now = Date.now();
    const held = this.buffer.map(({ msg }) => deliveryInfo(msg.reply ?? ''));
    for (const token of this.claimed) {
      if (token.leaseUntil > now) held.push(token.info);
      else this.claimed.delete(token);
    }
    return held.map(({ consumer, streamSequence }) => ({ consumer, streamSequence }));
  }

  /**
   * After a reconnect the server may have lost the waiting requests: ask again. The old ones are
   * not withdrawn: if they survived, what they deliver joins the buffer.
   */
  resume(): void {
    for (const requests of this.requests.values()) for (const request of requests) this.orphans.add(request);
    this.requests.clear();
    this.wake?.();
  }

  /**
   * Keeps a standing request on every consumer, topped up to the free slots once it is half
   * used: a steady flow of messages needs one request per batch, not one per message. Returns how
   * long until a paused consumer may ask again.
   */
  private pull(max: number): number | undefined {
    const now = Date.now();
    let pauseMs: number | undefined;
    for (const consumer of this.consumers) {
      const until = this.pausedUntil.get(consumer) ?? 0;
      if (until > now) {
        pauseMs = Math.min(pauseMs ?? Number.POSITIVE_INFINITY, until - now);
        continue;
      }
      let requests = this.requests.get(consumer);
      if (!requests) {
        requests = new Set();
        this.requests.set(consumer, requests);
      }
      let credit = 0;
      for (const request of requests) credit += request.remaining;
      if (credit > max / 2) continue;
      const owner = requests;
      const startedAt = now;
      const request: PullRequest = new PullRequest(this.context.nc, {
        stream: this.context.layout.stream,
        consumer,
        batch: max - credit,
        expiresMs: PULL_EXPIRES_MS,
        heartbeatMs: PULL_HEARTBEAT_MS,
        mode: 'standing',
        onMessage: (msg, receivedAt) => {
          this.buffer.push({ msg, receivedAt });
          this.wake?.();
        },
        onEnd: (end) => {
          owner.delete(request);
          this.orphans.delete(request);
          if (end.error) {
            this.failure = end.error;
            this.pausedUntil.set(consumer, Date.now() + FAILED_PULL_PAUSE_MS);
          } else if (end.delivered === 0 && Date.now() - startedAt < PULL_EXPIRES_MS / 2) {
            this.pausedUntil.set(consumer, Date.now() + EMPTY_PULL_PAUSE_MS);
          }
          this.wake?.();
        },
      });
      requests.add(request);
    }
    return pauseMs;
  }

  private cancelRequests(): void {
    for (const requests of this.requests.values()) for (const request of requests) request.cancel();
    for (const request of this.orphans) request.cancel();
    this.requests.clear();
    this.orphans.clear();
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

  /**
   * Forgets buffered deliveries whose lease lapsed while they waited (the process was stopped or
   * starved past it). JetStream does not fence a settle by delivery (an old delivery's ack or
   * +WPI applies to the message whoever holds it now), and it may have handed them to another
   * member already; it redelivers them to whoever asks next, so forgetting loses nothing.
   */
  private dropLapsed(now = Date.now()): void {
    if (this.buffer.length === 0) return;
    this.buffer = this.buffer.filter((item) => item.receivedAt + this.ackWaitMs - this.leaseMarginMs > now);
  }

  private async take(max: number): Promise<Delivery[]> {
    const items = this.buffer.splice(0, max);
    return Promise.all(items.map((item) => this.toDelivery(item)));
  }

  private async toDelivery({ msg, receivedAt }: Buffered): Promise<Delivery> {
    const info = deliveryInfo(msg.reply ?? '');
    const h = msg.headers;
    const priorAttempts = Number(h?.get(ATTEMPTS_HEADER) || 0);
    let firstAttemptAt = Number(h?.get(FIRST_ATTEMPT_HEADER) || 0) || undefined;
    if (firstAttemptAt === undefined && info.deliveryCount > 1) {
      // A redelivery with no record: its first consumer died before settling it; the store time is the best bound.
      const record = await this.context.ledger.read(this.group, info.streamSequence).catch(() => undefined);
      firstAttemptAt = record?.firstAttemptAt ?? info.storedAt;
    }
    const key = h?.get(ORDERING_KEY_HEADER);
    const token: Token = {
      msg,
      info,
      type: this.context.layout.typeOfSubject(msg.subject),
      priorAttempts,
      firstAttemptKept: firstAttemptAt !== undefined,
      claimedAt: receivedAt,
      leaseUntil: receivedAt + this.ackWaitMs - this.leaseMarginMs,
    };
    this.claimed.add(token);
    return {
      eventId: h?.get(EVENT_ID_HEADER) || h?.get('Nats-Msg-Id') || '',
      body: msg.string(),
      orderingKey: key ? decodeURIComponent(key) : undefined,
      attempt: priorAttempts + info.deliveryCount,
      firstAttemptAt: new Date(firstAttemptAt ?? receivedAt),
      token,
    };
  }

  /** Only a retried message (a redelivery) can have a ledger record to remove. */
  private async forgetFirstAttempt(token: Token): Promise<void> {
    if (token.info.deliveryCount > 1) await this.context.ledger.forget(this.group, token.info.streamSequence);
  }

  /** The token while this delivery still holds its lease; a lapsed one must not touch a newer delivery. */
  private owned(delivery: Delivery): Token | undefined {
    const token = delivery.token as Token;
    if (token.leaseUntil > Date.now()) return token;
    this.claimed.delete(token);
    return undefined;
  }

  private settled(token: Token): void {
    token.leaseUntil = 0;
    this.claimed.delete(token);
  }
}
