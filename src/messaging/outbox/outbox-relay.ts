import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { decodeEnvelope } from '../envelope.js';
import { sleep } from '../sleep.js';
import type { Transport } from '../transport.js';
import { waitForPublish } from '../transports/sqlite/wakeups.js';
import type { SqliteOutboxTable } from './sqlite-outbox.js';

export interface OutboxRelayOptions {
  outbox: SqliteOutboxTable;
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
  private readonly takeLead: Statement;
  private readonly readBatch: Statement;
  private readonly deleteBatch: Statement;
  private readonly measure: Statement;
  private readonly wakeChannel: string;
  private leaderUntil = 0;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = Math.min(Math.max(options.batchSize ?? 100, 1), 1_000);
    this.pollMs = options.pollMs ?? 50;
    this.leaderLeaseMs = options.leaderLeaseMs ?? 5_000;
    const db = options.outbox.db;
    this.wakeChannel = `${db.name}#outbox`;
    this.takeLead = db.prepare(`
      INSERT INTO syncopate_outbox_leader (name, owner, until) VALUES ('relay', @owner, @until)
      ON CONFLICT (name) DO UPDATE SET owner = @owner, until = @until WHERE owner = @owner OR until < @now`);
    this.readBatch = db.prepare('SELECT id, body FROM syncopate_outbox ORDER BY id LIMIT ?');
    this.deleteBatch = db.prepare('DELETE FROM syncopate_outbox WHERE id BETWEEN ? AND ?');
    this.measure = db.prepare('SELECT count(*) AS count, min(created_at) AS oldest FROM syncopate_outbox');
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Stops after the batch in hand; rows not yet published stay for the next relay. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    if (this.options.outbox.db.open) {
      this.options.outbox.db
        .prepare("UPDATE syncopate_outbox_leader SET until = 0 WHERE name = 'relay' AND owner = ?")
        .run(this.owner);
    }
  }

  backlog(): OutboxBacklog {
    const { count, oldest } = this.measure.get() as { count: number; oldest: number | null };
    return { count, oldestAgeMs: oldest === null ? 0 : Date.now() - oldest };
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let pauseMs = RETRY_PAUSE_MS.first;
    while (!signal.aborted) {
      try {
        const published = this.isLeader() ? await this.publishBatch() : 0;
        pauseMs = RETRY_PAUSE_MS.first;
        if (published < this.batchSize) await waitForPublish(this.wakeChannel, this.pollMs, signal);
      } catch (error) {
        this.options.onError?.(error);
        await sleep(pauseMs, signal);
        pauseMs = Math.min(pauseMs * 2, RETRY_PAUSE_MS.max);
      }
    }
  }

  private isLeader(): boolean {
    const now = Date.now();
    // Renew at half-life, so an idle relay does not write on every poll.
    if (now < this.leaderUntil - this.leaderLeaseMs / 2) return true;
    const until = now + this.leaderLeaseMs;
    const { changes } = this.takeLead.run({ owner: this.owner, until, now });
    this.leaderUntil = changes > 0 ? until : 0;
    return changes > 0;
  }

  private async publishBatch(): Promise<number> {
    const rows = this.readBatch.all(this.batchSize) as { id: number; body: string }[];
    const first = rows[0];
    const last = rows.at(-1);
    if (!first || !last) return 0;
    await this.options.transport.publish(rows.map((row) => decodeEnvelope(row.body)));
    this.deleteBatch.run(first.id, last.id);
    return rows.length;
  }
}
