import { idempotencyTable } from '../../platform/idempotent-requests.js';

/** Idempotency keys of `POST /v1/reports`. */
export const REPORT_REQUESTS_TABLE = 'report_requests';

/** The reports service's database: its read model of payments, and the reports it made from it. */
export const REPORTS_MIGRATIONS = [
  `CREATE TABLE ledger_payments (
     account_id      TEXT NOT NULL,
     payment_id      TEXT NOT NULL,
     status          TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
     amount          BIGINT NOT NULL,
     currency        TEXT NOT NULL,
     amount_refunded BIGINT NOT NULL DEFAULT 0,
     customer_email  TEXT NOT NULL,
     description     TEXT,
     created_at      TEXT NOT NULL,
     created_at_ms   BIGINT NOT NULL,
     PRIMARY KEY (account_id, payment_id)
   );
   CREATE INDEX ledger_payments_by_time ON ledger_payments (account_id, created_at_ms);
   CREATE TABLE reports (
     id             TEXT PRIMARY KEY,
     account_id     TEXT NOT NULL,
     status         TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
     from_at        TEXT NOT NULL,
     to_at          TEXT NOT NULL,
     created_at     TEXT NOT NULL,
     completed_at   TEXT,
     failure_reason TEXT,
     payment_count  BIGINT,
     csv            TEXT
   )`,
  // Per account, by age: the cap counts an account's reports, retention deletes the old ones.
  `CREATE INDEX reports_by_account ON reports (account_id, created_at);
   CREATE INDEX reports_by_age ON reports (created_at)`,
  idempotencyTable(REPORT_REQUESTS_TABLE),
];
