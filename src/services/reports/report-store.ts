import type { SqlDatabase, SqlExecutor } from '@syncopate/messaging';

export type ReportStatus = 'pending' | 'ready' | 'failed';

/** A report without its CSV, which only the download reads. */
export interface ReportRow {
  id: string;
  account_id: string;
  status: ReportStatus;
  from_at: string;
  to_at: string;
  created_at: string;
  completed_at: string | null;
  failure_reason: string | null;
  payment_count: number | null;
}

const COLUMNS = 'id, account_id, status, from_at, to_at, created_at, completed_at, failure_reason, payment_count';

export class ReportStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Runs in the caller's transaction, beside the report's `report.requested` event. */
  async create(
    tx: SqlExecutor,
    report: Pick<ReportRow, 'id' | 'account_id' | 'from_at' | 'to_at' | 'created_at'>,
  ): Promise<ReportRow> {
    await tx.run(
      "INSERT INTO reports (id, account_id, status, from_at, to_at, created_at) VALUES (?, ?, 'pending', ?, ?, ?)",
      [report.id, report.account_id, report.from_at, report.to_at, report.created_at],
    );
    return { ...report, status: 'pending', completed_at: null, failure_reason: null, payment_count: null };
  }

  /** How many reports the account holds, and when its oldest was asked for. */
  async heldBy(tx: SqlExecutor, accountId: string): Promise<{ count: number; oldest: string | null }> {
    const row = await tx.get<{ n: number; oldest: string | null }>(
      'SELECT count(*) AS n, min(created_at) AS oldest FROM reports WHERE account_id = ?',
      [accountId],
    );
    return { count: Number(row?.n ?? 0), oldest: row?.oldest ?? null };
  }

  /** Deletes the reports (and their CSVs) asked for before `before` (ISO); of one account, or of all. */
  async deleteOlderThan(ex: SqlExecutor, before: string, accountId?: string): Promise<number> {
    const { changes } =
      accountId === undefined
        ? await ex.run('DELETE FROM reports WHERE created_at < ?', [before])
        : await ex.run('DELETE FROM reports WHERE account_id = ? AND created_at < ?', [accountId, before]);
    return changes;
  }

  get(id: string): Promise<ReportRow | undefined> {
    return this.db.get<ReportRow>(`SELECT ${COLUMNS} FROM reports WHERE id = ?`, [id]);
  }

  async csv(id: string): Promise<string | undefined> {
    return (await this.db.get<{ csv: string }>("SELECT csv FROM reports WHERE id = ? AND status = 'ready'", [id]))?.csv;
  }

  /** A ready report is final: a redelivered request never overwrites it. */
  async markReady(options: { id: string; csv: string; paymentCount: number }): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) =>
      tx.run(
        `UPDATE reports SET status = 'ready', csv = ?, payment_count = ?, completed_at = ?, failure_reason = NULL
         WHERE id = ? AND status <> 'ready'`,
        [options.csv, options.paymentCount, new Date().toISOString(), options.id],
      ),
    );
    return changes > 0;
  }

  async markFailed(options: { id: string; accountId: string; reason: string }): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) =>
      tx.run(
        `UPDATE reports SET status = 'failed', failure_reason = ?, completed_at = ?
         WHERE id = ? AND account_id = ? AND status <> 'ready'`,
        [options.reason, new Date().toISOString(), options.id, options.accountId],
      ),
    );
    return changes > 0;
  }
}
