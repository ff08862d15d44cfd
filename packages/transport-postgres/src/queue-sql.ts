import { quoted } from './schema.js';

/**
 * The statements of one schema's queue. Each is one round trip, whatever the batch size; every
 * settlement names the lease it holds, so a delivery whose lease lapsed (and was claimed again)
 * cannot touch the newer claim.
 */
export interface QueueSql {
  claim: string;
  ackAndClaim: string;
  ack: string;
  retry: string;
  deadLetter: string;
  extend: string;
  release: string;
}

export function queueSql(schema: string): QueueSql {
  const s = quoted(schema);
  // The id list drives an index lookup on (grp, id); the pairs then check each row's own lease.
  const byTokens =
    'd.grp = $1 AND d.id = ANY ($2::bigint[]) AND (d.id, d.lease) IN (SELECT * FROM unnest($2::bigint[], $3::uuid[]))';
  return {
    /*
     * $1 group, $2 max, $3 lease ms, $4 lease token.
     * Candidates: visible rows whose key has no earlier row leased or waiting for a retry (so a key
     * stuck on a retry does not fill the batch), locked with SKIP LOCKED. A candidate whose key has
     * an earlier row outside the batch is then dropped: that row is being claimed by a concurrent
     * consumer (it is locked, so it was skipped) whose lease our snapshot cannot see yet.
     * When nothing is claimed, one row says how long until the group's next row becomes visible
     * (a retry coming due, a lease lapsing) and whether a concurrent claim held candidates back.
     */
    claim: claimSql(s, false),
    /*
     * The claim with acks riding along: $5 ids, $6 leases are acknowledged (deleted) in the same
     * statement, one round trip for both. The acked rows count as gone for the claim, so a later
     * same-key row they held back is claimed at once.
     */
    ackAndClaim: claimSql(s, true),
    /*
     * $1 group, $2 ids, $3 leases. Says whether a later same-key row was waiting behind an acked
     * one: then a consumer should look again now rather than at its next poll.
     */
    ack: `
WITH gone AS (
  DELETE FROM ${s}.deliveries d WHERE ${byTokens}
  RETURNING d.id, d.okey
)
SELECT EXISTS (
  SELECT 1 FROM gone g JOIN ${s}.deliveries e ON e.grp = $1 AND e.okey = g.okey AND e.id > g.id
) AS unblocked`,
    /* $1 group, $2 id, $3 lease, $4 delay ms, $5 error */
    retry: `
UPDATE ${s}.deliveries
SET visible_at = now() + $4 * interval '1 millisecond', lease = NULL, last_error = $5
WHERE grp = $1 AND id = $2 AND lease = $3`,
    /* $1 group, $2 id, $3 lease, $4 reason. A second dead letter of the same event replaces the first. */
    deadLetter: `
WITH taken AS (
  DELETE FROM ${s}.deliveries WHERE grp = $1 AND id = $2 AND lease = $3
  RETURNING grp, event_id, type, okey, body, attempts, first_attempt_at, last_attempt_at
)
INSERT INTO ${s}.dead_letters
  (grp, event_id, type, okey, body, reason, attempts, first_attempt_at, last_attempt_at)
SELECT grp, event_id, type, okey, body, $4, attempts, first_attempt_at, last_attempt_at FROM taken
ON CONFLICT (grp, event_id) DO UPDATE SET
  type = excluded.type, okey = excluded.okey, body = excluded.body, reason = excluded.reason,
  attempts = excluded.attempts, first_attempt_at = excluded.first_attempt_at,
  last_attempt_at = excluded.last_attempt_at, dead_lettered_at = excluded.dead_lettered_at`,
    /* $1 group, $2 ids, $3 leases, $4 lease ms */
    extend: `
UPDATE ${s}.deliveries d SET visible_at = now() + $4 * interval '1 millisecond'
WHERE ${byTokens}`,
    /* $1 group, $2 ids, $3 leases, $4 attempts to take back (0 or 1) */
    release: `
UPDATE ${s}.deliveries d SET visible_at = now(), lease = NULL, attempts = d.attempts - $4
WHERE ${byTokens}`,
  };
}

function claimSql(s: string, withAcks: boolean): string {
  const acked = withAcks
    ? `acked AS (
  DELETE FROM ${s}.deliveries d
  WHERE d.grp = $1 AND d.id = ANY ($5::bigint[]) AND (d.id, d.lease) IN (SELECT * FROM unnest($5::bigint[], $6::uuid[]))
  RETURNING d.id
), `
    : '';
  // The acked rows are still in this statement's snapshot: they must neither be candidates nor hold others back.
  const notAcked = (column: string) => (withAcks ? ` AND ${column} <> ALL ($5::bigint[])` : '');
  return `
WITH ${acked}candidates AS (
  SELECT d.id, d.okey FROM ${s}.deliveries d
  WHERE d.grp = $1 AND d.visible_at <= now()${notAcked('d.id')}
    AND (d.okey IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${s}.deliveries e
      WHERE e.grp = $1 AND e.okey = d.okey AND e.id < d.id AND e.visible_at > now()${notAcked('e.id')}))
  ORDER BY d.id
  LIMIT $2
  FOR NO KEY UPDATE SKIP LOCKED
), claimable AS (
  SELECT c.id FROM candidates c
  WHERE c.okey IS NULL OR NOT EXISTS (
    SELECT 1 FROM ${s}.deliveries e
    WHERE e.grp = $1 AND e.okey = c.okey AND e.id < c.id AND e.id NOT IN (SELECT id FROM candidates)${notAcked('e.id')})
), leased AS (
  UPDATE ${s}.deliveries d
  SET attempts = d.attempts + 1, visible_at = now() + $3 * interval '1 millisecond', lease = $4,
      first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
  WHERE d.grp = $1 AND d.id = ANY (ARRAY(SELECT id FROM claimable))
  RETURNING d.id, d.event_id, d.okey, d.body, d.attempts, extract(epoch FROM d.first_attempt_at) * 1000 AS first_attempt_ms
)
SELECT id, event_id, okey, body, attempts, first_attempt_ms::float8, NULL::float8 AS due_in_ms, false AS contended
FROM leased
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL,
  (SELECT extract(epoch FROM min(visible_at) - now()) * 1000 FROM ${s}.deliveries
   WHERE grp = $1 AND visible_at > now()${notAcked('id')})::float8,
  EXISTS (SELECT 1 FROM candidates)
WHERE NOT EXISTS (SELECT 1 FROM leased)`;
}
