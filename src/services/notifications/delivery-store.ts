import type { SqlDatabase } from '@syncopate/messaging';

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

const OF_EVENT = 'SELECT * FROM webhook_deliveries WHERE event_id = ? ORDER BY created_at, endpoint_id';

export class DeliveryStore {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * The endpoints this event still has to reach. The first handling of an event fixes its
   * recipients among `subscribed`; later attempts only narrow them, so an endpoint added while the
   * event is being retried does not get an event older than itself, and one already served is skipped.
   */
  pending(input: { eventId: string; subscribed: readonly string[] }): Promise<Set<string>> {
    return this.db.transaction(async (tx) => {
      let rows = await tx.all<DeliveryRow>(OF_EVENT, [input.eventId]);
      if (rows.length === 0) {
        const now = new Date().toISOString();
        for (const endpointId of input.subscribed) {
          await tx.run(
            `INSERT INTO webhook_deliveries (event_id, endpoint_id, status, created_at) VALUES (?, ?, 'pending', ?)
             ON CONFLICT DO NOTHING`,
            [input.eventId, endpointId, now],
          );
        }
        rows = await tx.all<DeliveryRow>(OF_EVENT, [input.eventId]);
      }
      return new Set(rows.filter((row) => row.status === 'pending').map((row) => row.endpoint_id));
    });
  }

  async delivered(input: { eventId: string; endpointId: string; status: number }): Promise<void> {
    await this.db.transaction((tx) =>
      tx.run(
        `UPDATE webhook_deliveries
         SET status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, delivered_at = ?
         WHERE event_id = ? AND endpoint_id = ?`,
        [input.status, new Date().toISOString(), input.eventId, input.endpointId],
      ),
    );
  }

  async failed(input: { eventId: string; endpointId: string; status: number | null; error: string }): Promise<void> {
    await this.db.transaction((tx) =>
      tx.run(
        'UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ? WHERE event_id = ? AND endpoint_id = ?',
        [input.status, input.error, input.eventId, input.endpointId],
      ),
    );
  }

  /** Every endpoint's record for one event: what the dashboard shows as "webhooks: retrying (attempt 3)". */
  async forEvent(eventId: string): Promise<DeliveryRecord[]> {
    return (await this.db.all<DeliveryRow>(OF_EVENT, [eventId])).map((row) => ({
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
