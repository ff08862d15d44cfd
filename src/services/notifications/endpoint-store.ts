import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';

/** Past this many endpoints an account is refused another: each one costs a request per event. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 16;

/** A merchant's endpoint; `enabledEvents` holds event types, or `*` alone for all of them. */
export interface WebhookEndpoint {
  id: string;
  accountId: string;
  url: string;
  enabledEvents: string[];
  secret: string;
  createdAt: string;
}

interface EndpointRow {
  id: string;
  account_id: string;
  url: string;
  enabled_events: string;
  secret: string;
  created_at: string;
}

export class EndpointLimitError extends Error {
  readonly code = 'endpoint_limit_reached';
}

const newId = (prefix: string, bytes: number) => `${prefix}_${randomBytes(bytes).toString('base64url')}`;

/** Webhook endpoints per account. The secret stays in this database: signing needs it in clear. */
export class EndpointStore {
  private readonly insert: Statement;
  private readonly countOf: Statement;
  private readonly byAccount: Statement;
  private readonly remove: Statement;
  private readonly removeDeliveries: Statement;

  constructor(private readonly db: Database) {
    this.insert = db.prepare(
      `INSERT INTO webhook_endpoints (id, account_id, url, enabled_events, secret, created_at)
       VALUES (@id, @account_id, @url, @enabled_events, @secret, @created_at)`,
    );
    this.countOf = db.prepare('SELECT count(*) FROM webhook_endpoints WHERE account_id = ?').pluck();
    this.byAccount = db.prepare('SELECT * FROM webhook_endpoints WHERE account_id = ? ORDER BY created_at, id');
    this.remove = db.prepare('DELETE FROM webhook_endpoints WHERE id = ? AND account_id = ?');
    this.removeDeliveries = db.prepare('DELETE FROM webhook_deliveries WHERE endpoint_id = ?');
  }

  /** Creates an endpoint with a new secret; throws `EndpointLimitError` when the account has its maximum. */
  create(input: { accountId: string; url: string; enabledEvents: string[] }): WebhookEndpoint {
    const endpoint: WebhookEndpoint = {
      id: newId('we', 12),
      accountId: input.accountId,
      url: input.url,
      enabledEvents: input.enabledEvents,
      secret: newId('whsec', 24),
      createdAt: new Date().toISOString(),
    };
    // Immediate: the count and the insert see the same state, even with another process writing.
    this.db
      .transaction(() => {
        if ((this.countOf.get(input.accountId) as number) >= MAX_ENDPOINTS_PER_ACCOUNT) {
          throw new EndpointLimitError(
            `An account can have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints; delete one first`,
          );
        }
        this.insert.run({
          id: endpoint.id,
          account_id: endpoint.accountId,
          url: endpoint.url,
          enabled_events: JSON.stringify(endpoint.enabledEvents),
          secret: endpoint.secret,
          created_at: endpoint.createdAt,
        });
      })
      .immediate();
    return endpoint;
  }

  list(accountId: string): WebhookEndpoint[] {
    return (this.byAccount.all(accountId) as EndpointRow[]).map(fromRow);
  }

  /** The account's endpoints that asked for this event type. */
  subscribedTo(accountId: string, eventType: string): WebhookEndpoint[] {
    return this.list(accountId).filter((e) => e.enabledEvents.includes('*') || e.enabledEvents.includes(eventType));
  }

  /** Deletes the account's endpoint and its delivery records; false when the account has no such endpoint. */
  delete(input: { accountId: string; id: string }): boolean {
    return this.db.transaction(() => {
      const removed = this.remove.run(input.id, input.accountId).changes > 0;
      if (removed) this.removeDeliveries.run(input.id);
      return removed;
    })();
  }
}

function fromRow(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    accountId: row.account_id,
    url: row.url,
    enabledEvents: JSON.parse(row.enabled_events) as string[],
    secret: row.secret,
    createdAt: row.created_at,
  };
}
