import {
  type DeadLetter,
  DeadLetterNotFoundError,
  type DeadLetterPage,
  type DeadLetterQueue,
} from '@syncopate/messaging';
import { parsePageRequest, toDeadLetter } from '@syncopate/messaging/driver';
import type pg from 'pg';
import { quoted } from './schema.js';

interface DeadLetterRow {
  position: string;
  grp: string;
  event_id: string;
  type: string;
  okey: string | null;
  body: string;
  reason: string;
  attempts: number;
  first_attempt_at: Date | null;
  last_attempt_at: Date | null;
  dead_lettered_at: Date;
}

export interface PostgresDeadLettersOptions {
  pool: pg.Pool;
  schema: string;
  /** Replayed messages are new work: wake the consumers. */
  onReplayed: () => void;
}

/** A group's dead letters live in one table; replay moves them back to that group's queue in one statement. */
export class PostgresDeadLetters implements DeadLetterQueue {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly deliveries: string;

  constructor(private readonly options: PostgresDeadLettersOptions) {
    this.pool = options.pool;
    this.table = `${quoted(options.schema)}.dead_letters`;
    this.deliveries = `${quoted(options.schema)}.deliveries`;
  }

  async list(group: string, options?: { limit?: number; after?: string }): Promise<DeadLetterPage> {
    const page = parsePageRequest(group, options);
    const { rows } = await this.pool.query<DeadLetterRow>(
      `SELECT * FROM ${this.table} WHERE grp = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [page.group, page.after, page.limit + 1],
    );
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map(toLetter),
      nextCursor: rows.length > page.limit && last ? String(last.position) : null,
    };
  }

  async get(group: string, eventId: string): Promise<DeadLetter> {
    const { rows } = await this.pool.query<DeadLetterRow>(
      `SELECT * FROM ${this.table} WHERE grp = $1 AND event_id = $2`,
      [group, eventId],
    );
    const row = rows[0];
    if (!row) throw new DeadLetterNotFoundError(group, eventId);
    return toLetter(row);
  }

  async count(group: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.table} WHERE grp = $1`,
      [group],
    );
    return rows[0]?.n ?? 0;
  }

  async replay(group: string, eventId: string): Promise<void> {
    const replayed = await this.moveBack('AND event_id = $2', [group, eventId]);
    if (replayed === 0) throw new DeadLetterNotFoundError(group, eventId);
  }

  replayAll(group: string): Promise<number> {
    return this.moveBack('', [group]);
  }

  async purge(group: string, eventId?: string): Promise<number> {
    const { rowCount } =
      eventId === undefined
        ? await this.pool.query(`DELETE FROM ${this.table} WHERE grp = $1`, [group])
        : await this.pool.query(`DELETE FROM ${this.table} WHERE grp = $1 AND event_id = $2`, [group, eventId]);
    return rowCount ?? 0;
  }

  /** Back on the group's queue in their dead-letter order, attempts reset, in the same statement that removes them. */
  private async moveBack(filter: string, values: unknown[]): Promise<number> {
    const { rowCount } = await this.pool.query(
      `WITH gone AS (DELETE FROM ${this.table} WHERE grp = $1 ${filter} RETURNING *)
       INSERT INTO ${this.deliveries} (grp, event_id, type, okey, body)
       SELECT grp, event_id, type, okey, body FROM gone ORDER BY position`,
      values,
    );
    const replayed = rowCount ?? 0;
    if (replayed > 0) this.options.onReplayed();
    return replayed;
  }
}

function toLetter(row: DeadLetterRow): DeadLetter {
  return toDeadLetter({
    group: row.grp,
    eventId: row.event_id,
    type: row.type,
    orderingKey: row.okey,
    body: row.body,
    reason: row.reason,
    attempts: row.attempts,
    firstAttemptAt: row.first_attempt_at?.getTime() ?? null,
    lastAttemptAt: row.last_attempt_at?.getTime() ?? null,
    deadLetteredAt: row.dead_lettered_at.getTime(),
  });
}
