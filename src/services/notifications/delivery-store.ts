import type { Database, Statement } from 'better-sqlite3';

/** Where one event stands with one endpoint: the record that keeps a retry from re-sending to those already served. */
export interface DeliveryRecord {
  eventId: string;
  endpointId: string;
  status: 'pending' | 'delivered';
  /** Requests made so far. */
  attempts: number;
  /** The endpoint's last HTTP status; null when it never answered. */
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

interface DeliveryRow {
  event_id: string;
  endpoint_id: string;
  status: 'pending' | 'delivered';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
}

export class DeliveryStore {
  private readonly ofEvent: Statement;
  private readonly insertPending: Statement;
  private readonly markDelivered: Statement;
  private readonly markFailed: Statement;

  constructor(private readonly db: Database) {
    this.ofEvent = db.prepare('SELECT * FROM webhook_deliveries WHERE event_id = ? ORDER BY created_at, endpoint_id');
    this.insertPending = db.prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (event_id, endpoint_id, status, created_at)
       VALUES (?, ?, 'pending', ?)`,
    );
    this.markDelivered = db.prepare(
      `UPDATE webhook_deliveries
       SET status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, delivered_at = ?
       WHERE event_id = ? AND endpoint_id = ?`,
    );
    this.markFailed = db.prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?
       WHERE event_id = ? AND endpoint_id = ?`,
    );
  }

  /**
   * The endpoints this event still has to reach. The first handling of an event fixes its
   * recipients among `subscribed`; later attempts only narrow them, so an endpoint added while the
   * event is being retried does not get an event older than itself, and one already served is skipped.
   */
  pending(input: { eventId: string; subscribed: readonly string[] }): Set<string> {
    return this.db
      .transaction(() => {
        let rows = this.ofEvent.all(input.eventId) as DeliveryRow[];
        if (rows.length === 0) {
          const now = new Date().toISOString();
          for (const endpointId of input.subscribed) this.insertPending.run(input.eventId, endpointId, now);
          rows = this.ofEvent.all(input.eventId) as DeliveryRow[];
        }
        return new Set(rows.filter((row) => row.status === 'pending').map((row) => row.endpoint_id));
      })
      .immediate();
  }

  delivered(input: { eventId: string; endpointId: string; status: number }): void {
    this.markDelivered.run(input.status, new Date().toISOString(), input.eventId, input.endpointId);
  }

  failed(input: { eventId: string; endpointId: string; status: number | null; error: string }): void {
    this.markFailed.run(input.status, input.error, input.eventId, input.endpointId);
  }

  /** Every endpoint's record for one event: what the dashboard shows as "webhooks: retrying (attempt 3)". */
  forEvent(eventId: string): DeliveryRecord[] {
    return (this.ofEvent.all(eventId) as DeliveryRow[]).map((row) => ({
      eventId: row.event_id,
      endpointId: row.endpoint_id,
      status: row.status,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastError: row.last_error,
      deliveredAt: row.delivered_at,
    }));
  }
}
