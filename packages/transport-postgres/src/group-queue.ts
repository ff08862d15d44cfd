import { randomUUID } from 'node:crypto';
import { type Delivery, type Failure, type GroupQueue, type GroupQueueOptions, sleep } from '@syncopate/messaging';
import { clipReason } from '@syncopate/messaging/driver';
import type pg from 'pg';
import type { QueueSql } from './queue-sql.js';
import type { Wakeups } from './wakeups.js';

/** When a concurrent claim holds this claim's candidates back, it commits within a few milliseconds. */
const CONTENDED_RETRY_MS = 5;
/** How long acks wait for a claim to ride with before they go on their own. */
const ACK_HOLD_MS = 2;
/**
 * While events trickle in faster than this, a consumer claims at most once per interval, so one
 * claim takes the several that arrived meanwhile (measured: half the server's CPU a message at
 * 3,000 a second). Slower flows are claimed the moment they are announced, with no added latency.
 */
const MIN_CLAIM_INTERVAL_MS = 1;

interface PendingAck {
  deliveries: readonly Delivery[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Token {
  /** bigint, kept as pg returns it: a string. */
  id: string;
  lease: string;
}

interface ClaimRow {
  id: string | null;
  event_id: string;
  okey: string | null;
  body: string;
  attempts: number;
  /** Epoch milliseconds: a number parses faster than a timestamp. */
  first_attempt_ms: number;
  due_in_ms: number | null;
  contended: boolean;
}

export interface PostgresGroupQueueOptions extends GroupQueueOptions {
  pool: pg.Pool;
  sql: QueueSql;
  schema: string;
  wakeups: Wakeups;
  pollMs: number;
  /** Wakes consumers in other processes too (releases hand work back to anyone). */
  notifyOthers: () => void;
  onClose: () => void;
}

/** One consumer's handle on a group: claims in batches, settles in batches, one round trip each. */
export class PostgresGroupQueue implements GroupQueue {
  private readonly closing = new AbortController();
  private readonly names: Record<keyof QueueSql, string>;
  /** The wake-up generation before the last claim, when that claim came back short. */
  private drained: number | undefined;
  /** Acks waiting to ride with the next claim, while the consumer waits for a wake-up. */
  private readonly acks: PendingAck[] = [];
  private holdingAcks = false;
  private lastClaimAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PostgresGroupQueueOptions) {
    const prefix = `syncopate-${options.schema}`;
    this.names = {
      claim: `${prefix}-claim`,
      ackAndClaim: `${prefix}-ack-and-claim`,
      ack: `${prefix}-ack`,
      retry: `${prefix}-retry`,
      deadLetter: `${prefix}-dead-letter`,
      extend: `${prefix}-extend`,
      release: `${prefix}-release`,
    };
  }

  async claim(max: number, signal: AbortSignal): Promise<Delivery[]> {
    const { group, leaseMs, wakeups, pollMs } = this.options;
    const closing = this.closing.signal;
    const stopped = () => signal.aborted || closing.aborted;
    // A short batch took everything claimable in its snapshot: unless something woke us since,
    // the next look would come back empty, so wait first and save the round trip. The acks of the
    // handlers just dispatched wait a little with us, to ride with the claim a wake-up brings.
    let acks: PendingAck[] = [];
    if (this.drained !== undefined && wakeups.generation === this.drained) {
      acks = await this.holdingAcksThrough(wakeups.wait(this.drained, ACK_HOLD_MS, signal, closing));
      if (wakeups.generation === this.drained) {
        this.sendAcks(acks);
        acks = [];
        await wakeups.wait(this.drained, pollMs, signal, closing);
      }
    }
    // Woken within a millisecond of the last short claim: let the events of that millisecond gather.
    if (this.drained !== undefined) {
      const early = this.lastClaimAt + MIN_CLAIM_INTERVAL_MS - performance.now();
      if (early > 0) acks.push(...(await this.holdingAcksThrough(sleep(early, signal))));
    }
    this.drained = undefined;
    while (!stopped()) {
      const seen = wakeups.generation;
      const lease = randomUUID();
      this.lastClaimAt = performance.now();
      const { rows } = await this.claimWith(acks, [group, max, leaseMs, lease]);
      acks = [];
      const first = rows[0];
      if (first && first.id !== null) {
        if (rows.length < max) this.drained = seen;
        return rows.sort((a, b) => Number(a.id) - Number(b.id)).map((row) => toDelivery(row, lease));
      }
      const waitMs = first?.contended ? CONTENDED_RETRY_MS : Math.min(pollMs, Math.max(1, first?.due_in_ms ?? pollMs));
      await wakeups.wait(seen, Math.ceil(waitMs), signal, closing);
    }
    this.sendAcks(acks);
    return [];
  }

  /** Acks that come during the wait are held for the next claim to carry; returns them. */
  private async holdingAcksThrough(wait: Promise<void>): Promise<PendingAck[]> {
    this.holdingAcks = true;
    await wait;
    this.holdingAcks = false;
    return this.acks.splice(0);
  }

  /**
   * An ack that comes while the consumer waits for a wake-up (the runner acks what it just handled
   * while the claim waits) is deleted by the next claim's statement: under a steady flow, acks cost no
   * round trip of their own. Any other ack goes at once.
   */
  ack(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const pending = { deliveries, resolve, reject };
      if (this.holdingAcks) this.acks.push(pending);
      else this.sendAcks([pending]);
    });
  }

  private sendAcks(batch: PendingAck[]): void {
    if (batch.length === 0) return;
    this.run<{ unblocked: boolean }>('ack', this.tokens(batch.flatMap((entry) => entry.deliveries))).then(
      ({ rows }) => {
        // A later same-key row was held back by the acked one: it is claimable now, not at the next poll.
        if (rows[0]?.unblocked) this.options.wakeups.announce();
        for (const entry of batch) entry.resolve();
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  }

  /** The claim, with the acks in hand deleted by the same statement; they settle with it. */
  private async claimWith(acks: PendingAck[], claim: unknown[]): Promise<pg.QueryResult<ClaimRow>> {
    if (acks.length === 0) return this.run<ClaimRow>('claim', claim);
    const [, ids, leases] = this.tokens(acks.flatMap((entry) => entry.deliveries));
    let result: pg.QueryResult<ClaimRow>;
    try {
      result = await this.run<ClaimRow>('ackAndClaim', [...claim, ids, leases]);
    } catch (error) {
      // The statement changed nothing: the acks go again on their own; the claim's error is the runner's.
      this.sendAcks(acks);
      throw error;
    }
    for (const entry of acks) entry.resolve();
    return result;
  }

  async retry(delivery: Delivery, delayMs: number, failure: Failure): Promise<void> {
    const { id, lease } = delivery.token as Token;
    await this.run('retry', [
      this.options.group,
      id,
      lease,
      Math.max(0, Math.round(delayMs)),
      clipReason(failure.error),
    ]);
    // Waiting consumers recompute when to look again: the retry's due time may be the next one.
    this.options.wakeups.announce();
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const { id, lease } = delivery.token as Token;
    await this.run('deadLetter', [this.options.group, id, lease, clipReason(reason)]);
    this.options.wakeups.announce();
  }

  async extendLeases(deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.run('extend', [...this.tokens(deliveries), this.options.leaseMs]);
  }

  async release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void> {
    if (deliveries.length === 0) return;
    await this.run('release', [...this.tokens(deliveries), options.countAttempt ? 0 : 1]);
    this.options.wakeups.announce();
    this.options.notifyOthers();
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.sendAcks(this.acks.splice(0));
    this.options.onClose();
  }

  private tokens(deliveries: readonly Delivery[]): [string, string[], string[]] {
    const ids: string[] = [];
    const leases: string[] = [];
    for (const delivery of deliveries) {
      const token = delivery.token as Token;
      ids.push(token.id);
      leases.push(token.lease);
    }
    return [this.options.group, ids, leases];
  }

  private run<R extends pg.QueryResultRow>(statement: keyof QueueSql, values: unknown[]) {
    return this.options.pool.query<R>({ name: this.names[statement], text: this.options.sql[statement], values });
  }
}

function toDelivery(row: ClaimRow, lease: string): Delivery {
  return {
    eventId: row.event_id,
    body: row.body,
    orderingKey: row.okey ?? undefined,
    attempt: row.attempts,
    firstAttemptAt: new Date(row.first_attempt_ms),
    token: { id: row.id as string, lease } satisfies Token,
  };
}
