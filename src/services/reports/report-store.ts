import type { Database, Statement } from 'better-sqlite3';

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

export class ReportStore {
  private readonly insert: Statement;
  private readonly byId: Statement;
  private readonly csvById: Statement;
  private readonly ready: Statement;
  private readonly failed: Statement;

  constructor(db: Database) {
    this.insert = db.prepare(`
      INSERT INTO reports (id, account_id, status, from_at, to_at, created_at)
      VALUES (@id, @account_id, 'pending', @from_at, @to_at, @created_at)`);
    this.byId = db.prepare(`
      SELECT id, account_id, status, from_at, to_at, created_at, completed_at, failure_reason, payment_count
      FROM reports WHERE id = ?`);
    this.csvById = db.prepare("SELECT csv FROM reports WHERE id = ? AND status = 'ready'").pluck();
    // A ready report is final: a redelivered request never overwrites it.
    this.ready = db.prepare(`
      UPDATE reports SET status = 'ready', csv = @csv, payment_count = @paymentCount, completed_at = @now,
                         failure_reason = NULL
      WHERE id = @id AND status <> 'ready'`);
    this.failed = db.prepare(`
      UPDATE reports SET status = 'failed', failure_reason = @reason, completed_at = @now
      WHERE id = @id AND account_id = @accountId AND status <> 'ready'`);
  }

  create(report: Pick<ReportRow, 'id' | 'account_id' | 'from_at' | 'to_at' | 'created_at'>): ReportRow {
    this.insert.run(report);
    return { ...report, status: 'pending', completed_at: null, failure_reason: null, payment_count: null };
  }

  get(id: string): ReportRow | undefined {
    return this.byId.get(id) as ReportRow | undefined;
  }

  csv(id: string): string | undefined {
    return this.csvById.get(id) as string | undefined;
  }

  /** Returns whether this call finished the report. */
  markReady(options: { id: string; csv: string; paymentCount: number }): boolean {
    return this.ready.run({ ...options, now: new Date().toISOString() }).changes > 0;
  }

  markFailed(options: { id: string; accountId: string; reason: string }): boolean {
    return this.failed.run({ ...options, now: new Date().toISOString() }).changes > 0;
  }
}
