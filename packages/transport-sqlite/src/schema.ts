import type { Database } from 'better-sqlite3';

/**
 * The queue's tables. They carry a `syncopate_` prefix because a service may keep its own tables
 * in the same file: then its outbox rows are written straight into `syncopate_deliveries`.
 *
 * One delivery row per (group, event): publishing fans out at write time to every group bound to
 * the event's type, so a group's claims never join or skip other groups' work.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS syncopate_bindings (
  grp  TEXT NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (type, grp)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS syncopate_deliveries (
  -- Not AUTOINCREMENT: a new row still gets an id above every row present, which is all that
  -- ordering needs, without a write to sqlite_sequence on every publish.
  id               INTEGER PRIMARY KEY,
  grp              TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  type             TEXT NOT NULL,
  okey             TEXT,
  body             TEXT NOT NULL,
  published_at     INTEGER NOT NULL,
  visible_at       INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  lease            TEXT,
  first_attempt_at INTEGER,
  last_attempt_at  INTEGER,
  last_error       TEXT
);
CREATE INDEX IF NOT EXISTS syncopate_deliveries_claim ON syncopate_deliveries (grp, id);
-- Same-key order checks look up (okey, grp, id < ?). The key leads so that an event's rows for
-- every group share one leaf page (grp first wrote as many pages as the event has groups: with the
-- payment system's five, 160 → 110 KB written per payment), and visible_at stays out so a claim, a
-- retry or a lease renewal writes no index page.
-- (Replaces syncopate_deliveries_order, which had (grp, okey, id, visible_at).)
DROP INDEX IF EXISTS syncopate_deliveries_order;
CREATE INDEX IF NOT EXISTS syncopate_deliveries_by_key ON syncopate_deliveries (okey, grp, id)
  WHERE okey IS NOT NULL;

-- Names the kinds of writer this file has had. 'late_durable_writers': some connection commits
-- queue rows before they are durable (a service's transaction beside the queue, which syncs the
-- log after COMMIT), so claims must sync the log before handing events out; see SqliteQueueOutbox.
CREATE TABLE IF NOT EXISTS syncopate_markers (
  name TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS syncopate_dead_letters (
  position         INTEGER PRIMARY KEY AUTOINCREMENT,
  grp              TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  type             TEXT NOT NULL,
  okey             TEXT,
  body             TEXT NOT NULL,
  reason           TEXT NOT NULL,
  attempts         INTEGER NOT NULL,
  first_attempt_at INTEGER,
  last_attempt_at  INTEGER,
  dead_lettered_at INTEGER NOT NULL,
  UNIQUE (grp, event_id)
);
`;

export function migrateQueueSchema(db: Database): void {
  db.transaction(() => db.exec(DDL)).immediate();
}

/** The marker a writer whose commits are durable only after COMMIT leaves in the file. */
export const LATE_DURABLE_WRITERS = 'late_durable_writers';
