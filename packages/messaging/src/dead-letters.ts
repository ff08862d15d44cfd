import { z } from 'zod';
import { decodeEnvelope } from './envelope.js';
import { InvalidOptionsError } from './errors.js';
import { groupNameSchema } from './subscribe-options.js';
import { type DeadLetter, MAX_DEAD_LETTER_PAGE } from './transport.js';

/** A dead letter as backends store it: plain columns, times in epoch milliseconds. */
export interface DeadLetterRecord {
  group: string;
  eventId: string;
  type: string;
  orderingKey: string | null;
  body: string;
  reason: string;
  attempts: number;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
  deadLetteredAt: number;
}

export function toDeadLetter(record: DeadLetterRecord): DeadLetter {
  let event: DeadLetter['event'] = null;
  try {
    event = decodeEnvelope(record.body);
  } catch {
    // Kept as its raw body: it is exactly what an operator needs to inspect.
  }
  return {
    group: record.group,
    eventId: record.eventId,
    type: record.type,
    event,
    body: record.body,
    reason: record.reason,
    attempts: record.attempts,
    firstAttemptAt: record.firstAttemptAt === null ? null : new Date(record.firstAttemptAt),
    lastAttemptAt: record.lastAttemptAt === null ? null : new Date(record.lastAttemptAt),
    deadLetteredAt: new Date(record.deadLetteredAt),
  };
}

const pageSchema = z.object({
  group: groupNameSchema,
  limit: z.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50),
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a cursor returned by a previous page')
    .optional(),
});

/** Validates a page request once for every backend; the cursor is the backend's position number. */
export function parsePageRequest(group: string, options: { limit?: number; after?: string } = {}) {
  const parsed = pageSchema.safeParse({ group, ...options });
  if (!parsed.success) throw new InvalidOptionsError('dead-letter page', parsed.error);
  return { group: parsed.data.group, limit: parsed.data.limit, after: Number(parsed.data.after ?? 0) };
}

/** Truncated so a huge stack trace cannot bloat the dead-letter store. */
export const MAX_REASON_LENGTH = 4_000;

export function clipReason(reason: string): string {
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}
