import { randomUUID } from 'node:crypto';
import { decodeEnvelope } from './envelope.js';
import { waitForPublish } from './in-process-publish-signal.js';
import type { OutboxTable } from './outbox-table.js';
import { sleep } from './sleep.js';
import type { Transport } from './transport.js';

export interface OutboxRelayOptions {
  outbox: OutboxTable;
  transport: Pick<Transport, 'publish'>;
  /** Events per publish call. Default 100, at most 1,000. */
  batchSize?: number;
  /** How often an idle relay looks for rows written by other processes. Default 50 ms. */
  pollMs?: number;
  /** How long a relay stays leader without renewing; another relay takes over after it. Default 5 s. */
  leaderLeaseMs?: number;
  onError?(error: unknown): void;
}

export interface OutboxBacklog {
  count: number;
  oldestAgeMs: number;
}

const RETRY_PAUSE_MS = { first: 100, max: 5_000 };

/**
 * Moves outbox rows to the transport, oldest first, in batches, and deletes them only once the
 * transport has confirmed them: at least once, in commit order. Several relays may run (one per
 * process); a leader lease lets exactly one of them publish at a time, so order holds.
 */
export class OutboxRelay {
  private readonly owner = randomUUID();
  private readonly stopping = new AbortController();
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly leaderLeaseMs: number;
  private leaderUntil = 0;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = Math.min(Math.max(options.batchSize ?? 100, 1), 1_000);
    this.pollMs = options.pollMs ?? 50;
    this.leaderLeaseMs = options.leaderLeaseMs ?? 5_000;
  }

  get running(): boolean {
    return this.loop !== undefined && !this.stopping.signal.aborted;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Stops after the batch in hand and hands the lead over; unpublished rows stay for the next relay. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.options.outbox.db
      .run("UPDATE syncopate_outbox_leader SET until = 0 WHERE name = 'relay' AND owner = ?", [this.owner])
      .catch(() => {});
  }

  async backlog(): Promise<OutboxBacklog> {
    const row = await this.options.outbox.db.get<{ count: number; oldest: number | null }>(
      'SELECT count(*) AS count, min(created_at) AS oldest FROM syncopate_outbox',
    );
    const oldest = row?.oldest ?? null;
    return { count: Number(row?.count ?? 0), oldestAgeMs: oldest === null ? 0 : Date.now() - Number(oldest) };
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let pauseMs = RETRY_PAUSE_MS.first;
    while (!signal.aborted) {
      try {
        const published = (await this.isLeader()) ? await this.publishBatch() : 0;
        pauseMs = RETRY_PAUSE_MS.first;
        if (published < this.batchSize) await waitForPublish(this.options.outbox.channel, this.pollMs, signal);
      } catch (error) {
        this.options.onError?.(error);
        await sleep(pauseMs, signal);
        pauseMs = Math.min(pauseMs * 2, RETRY_PAUSE_MS.max);
      }
    }
  }

  private async isLeader(): Promise<boolean> {
    const now = Date.now();
    // Renew at half-life, so an idle relay does not write on every poll.
    if (now < this.leaderUntil - this.leaderLeaseMs / 2) return true;
    const until = now + this.leaderLeaseMs;
    const { changes } = await this.options.outbox.db.transaction(
      (tx) =>
        tx.run(
          `INSERT INTO syncopate_outbox_leader (name, owner, until) VALUES ('relay', ?, ?)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
           WHERE syncopate_outbox_leader.owner = excluded.owner OR syncopate_outbox_leader.until < ?`,
          [this.owner, until, now],
        ),
      { durable: false },
    );
    this.leaderUntil = changes > 0 ? until : 0;
    return changes > 0;
  }

  private async publishBatch(): Promise<number> {
    const { db } = this.options.outbox;
    const rows = await db.all<{ id: number; body: string }>(
      'SELECT id, body FROM syncopate_outbox ORDER BY id LIMIT ?',
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    await this.options.transport.publish(rows.map((row) => decodeEnvelope(row.body)));
    // Losing this delete (a crash, a power cut) only publishes the batch again: at least once.
    await db.transaction(
      (tx) =>
        tx.run(
          `DELETE FROM syncopate_outbox WHERE id IN (${rows.map(() => '?').join(', ')})`,
          rows.map((r) => r.id),
        ),
      { durable: false },
    );
    return rows.length;
  }
}
