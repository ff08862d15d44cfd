import { randomBytes } from 'node:crypto';
import type { SqlDatabase, SqlExecutor } from '@syncopate/messaging';

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
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Creates an endpoint with a new secret, in the caller's transaction; throws `EndpointLimitError`
   * when the account has its maximum (the caller's transaction then rolls the insert back).
   */
  async create(
    tx: SqlExecutor,
    input: { accountId: string; url: string; enabledEvents: string[] },
  ): Promise<WebhookEndpoint> {
    const endpoint: WebhookEndpoint = {
      id: newId('we', 12),
      accountId: input.accountId,
      url: input.url,
      enabledEvents: input.enabledEvents,
      secret: newId('whsec', 24),
      createdAt: new Date().toISOString(),
    };
    // Insert, then count in the same transaction: one over the limit rolls its own insert back.
    await tx.run(
      'INSERT INTO webhook_endpoints (id, account_id, url, enabled_events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [
        endpoint.id,
        endpoint.accountId,
        endpoint.url,
        JSON.stringify(endpoint.enabledEvents),
        endpoint.secret,
        endpoint.createdAt,
      ],
    );
    const row = await tx.get<{ n: number }>('SELECT count(*) AS n FROM webhook_endpoints WHERE account_id = ?', [
      input.accountId,
    ]);
    if (Number(row?.n) > MAX_ENDPOINTS_PER_ACCOUNT) {
      throw new EndpointLimitError(
        `An account can have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints; delete one first`,
      );
    }
    return endpoint;
  }

  async list(accountId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.db.all<EndpointRow>(
      'SELECT * FROM webhook_endpoints WHERE account_id = ? ORDER BY created_at, id',
      [accountId],
    );
    return rows.map(fromRow);
  }

  /** The account's endpoints that asked for this event type. */
  async subscribedTo(accountId: string, eventType: string): Promise<WebhookEndpoint[]> {
    return (await this.list(accountId)).filter(
      (e) => e.enabledEvents.includes('*') || e.enabledEvents.includes(eventType),
    );
  }

  /** Deletes the account's endpoint and its delivery records; false when the account has no such endpoint. */
  delete(input: { accountId: string; id: string }): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { changes } = await tx.run('DELETE FROM webhook_endpoints WHERE id = ? AND account_id = ?', [
        input.id,
        input.accountId,
      ]);
      if (changes > 0) await tx.run('DELETE FROM webhook_deliveries WHERE endpoint_id = ?', [input.id]);
      return changes > 0;
    });
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
