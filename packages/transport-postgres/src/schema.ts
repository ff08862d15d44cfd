import type pg from 'pg';

/** A client, a pool or a pool's client: whatever the caller holds can run the queue's statements. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** Schema names become part of the NOTIFY channel (at most 63 bytes), so they stay short and plain. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

export function isSchemaName(schema: string): boolean {
  return SCHEMA_NAME.test(schema);
}

/** Only validated names reach SQL text, so quoting is all they need. */
export function quoted(schema: string): string {
  if (!isSchemaName(schema)) {
    throw new TypeError(`"${schema}" is not a queue schema name: 1-48 lower-case letters, digits or "_"`);
  }
  return `"${schema}"`;
}

/** The NOTIFY channel of one schema's queue: every consumer of that schema listens to it. */
export const wakeChannel = (schema: string) => `syncopate:${schema}`;

/**
 * The queue's tables, one set per schema.
 *
 * One delivery row per (group, event): publishing fans out at write time to every group bound to
 * the event's type, so a group's claims never join or skip other groups' work. The primary key
 * starts with the group, so a group's claims walk only its own rows, in publish order.
 *
 * Claims, lease renewals and retries change only unindexed columns; with free room on the page
 * (fillfactor 80) PostgreSQL makes them HOT updates that write no index entry. Acknowledged rows are
 * deleted, and autovacuum is told to clean a queue table early rather than at 20% dead rows.
 */
function ddl(schema: string): string {
  const s = quoted(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};

CREATE TABLE IF NOT EXISTS ${s}.bindings (
  grp  text NOT NULL,
  type text NOT NULL,
  PRIMARY KEY (type, grp)
);

CREATE TABLE IF NOT EXISTS ${s}.deliveries (
  grp              text NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  event_id         text NOT NULL,
  type             text NOT NULL,
  okey             text,
  body             text NOT NULL,
  -- When the row was written (published or replayed): the consumer lag stats report.
  published_at     timestamptz NOT NULL DEFAULT now(),
  -- Publish time until the first claim; then when the lease lapses or the retry comes due.
  visible_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  lease            uuid,
  first_attempt_at timestamptz,
  last_attempt_at  timestamptz,
  last_error       text,
  PRIMARY KEY (grp, id)
) WITH (
  fillfactor = 80,
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 5000,
  autovacuum_vacuum_insert_scale_factor = 0,
  autovacuum_vacuum_insert_threshold = 50000
);
-- Same-key order checks look up (okey, grp, id). The key leads so that an event's rows for every
-- group share one leaf page. (Replaces deliveries_order on (grp, okey, id).)
DROP INDEX IF EXISTS ${s}.deliveries_order;
CREATE INDEX IF NOT EXISTS deliveries_by_key ON ${s}.deliveries (okey, grp, id) WHERE okey IS NOT NULL;
-- Tables made before published_at existed get it; looked up first, so an up-to-date table is not locked.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${s}.deliveries'::regclass
                 AND attname = 'published_at' AND NOT attisdropped) THEN
    ALTER TABLE ${s}.deliveries ADD COLUMN published_at timestamptz NOT NULL DEFAULT now();
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS ${s}.dead_letters (
  position         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  grp              text NOT NULL,
  event_id         text NOT NULL,
  type             text NOT NULL,
  okey             text,
  body             text NOT NULL,
  reason           text NOT NULL,
  attempts         integer NOT NULL,
  first_attempt_at timestamptz,
  last_attempt_at  timestamptz,
  dead_lettered_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (grp, event_id)
);
CREATE INDEX IF NOT EXISTS dead_letters_page ON ${s}.dead_letters (grp, position);
`;
}

/**
 * Creates the schema's tables if they are missing. Processes starting together take turns on an
 * advisory lock: concurrent CREATE … IF NOT EXISTS can still collide in the catalogs.
 */
export async function migratePostgresQueue(db: Queryable, schema: string): Promise<void> {
  // One simple query with several statements runs as one implicit transaction: all or nothing,
  // and the advisory lock is held to its end.
  await db.query(`
SELECT pg_advisory_xact_lock(hashtext('syncopate-migrate'), hashtext('${schema}'));
${ddl(schema)}`);
}
