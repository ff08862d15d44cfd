import { idempotencyTable } from '../../platform/idempotent-requests.js';

/** Idempotency keys of `POST /v1/webhook_endpoints`. */
export const ENDPOINT_REQUESTS_TABLE = 'webhook_endpoint_requests';

/** The notifications service's own database: merchants' endpoints and what was delivered to them. */
export const NOTIFICATIONS_MIGRATIONS = [
  `CREATE TABLE webhook_endpoints (
     id             TEXT PRIMARY KEY,
     account_id     TEXT NOT NULL,
     url            TEXT NOT NULL,
     enabled_events TEXT NOT NULL,
     secret         TEXT NOT NULL,
     created_at     TEXT NOT NULL
   );
   CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_id, created_at);
   CREATE TABLE webhook_deliveries (
     event_id     TEXT NOT NULL,
     endpoint_id  TEXT NOT NULL,
     status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
     attempts     BIGINT NOT NULL DEFAULT 0,
     last_status  BIGINT,
     last_error   TEXT,
     created_at   TEXT NOT NULL,
     delivered_at TEXT,
     PRIMARY KEY (event_id, endpoint_id)
   );
   CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id);`,
  idempotencyTable(ENDPOINT_REQUESTS_TABLE),
];
