import type { Delivery } from '@syncopate/messaging';

/** The backend's handle on one delivery: which entry, and which delivery of it (the fence). */
export interface RedisToken {
  entryId: string;
  /** The group's delivery count of the entry when this consumer got it. */
  deliveries: number;
  type: string;
  claimedAt: number;
}

/** A stream entry as Redis replies it: [id, [field, value, field, value, ...]]. */
export type RawEntry = [string, string[]];

export function fieldsOf(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

/** The time part of a stream entry id (`<ms>-<seq>`): when the server added it. */
export function entryTime(entryId: string): number {
  return Number(entryId.slice(0, entryId.indexOf('-')));
}

/**
 * `deliveries` is the pending list's count for the entry, this delivery included. `previousAt`
 * is when the previous delivery happened, known only for reclaimed entries.
 */
export function toDelivery(
  [entryId, flat]: RawEntry,
  deliveries: number,
  claimedAt: number,
  previousAt?: number,
): Delivery {
  const fields = fieldsOf(flat);
  const carried = Number(fields.n ?? 0);
  let first = claimedAt;
  if (fields.first !== undefined) first = Number(fields.first);
  else if (deliveries > 1) {
    // Delivered before to a consumer that died: its delivery was the first one when it was the
    // only one; otherwise the time the entry was added is the best bound left.
    first = deliveries === 2 && previousAt !== undefined ? previousAt : entryTime(entryId);
  }
  return {
    eventId: fields.id ?? entryId,
    body: fields.body ?? '',
    orderingKey: fields.key,
    attempt: carried + deliveries,
    firstAttemptAt: new Date(first),
    token: { entryId, deliveries, type: fields.type ?? '', claimedAt } satisfies RedisToken,
  };
}

export function tokenOf(delivery: Delivery): RedisToken {
  return delivery.token as RedisToken;
}

/**
 * The copy that replaces an entry on retry or release: it carries the attempts made so far and
 * the first attempt's time (none when no attempt counts yet).
 */
export function copyOf(delivery: Delivery, attemptsSoFar: number): string {
  return JSON.stringify({
    id: delivery.eventId,
    type: tokenOf(delivery).type,
    key: delivery.orderingKey,
    body: delivery.body,
    n: String(attemptsSoFar),
    first: attemptsSoFar > 0 ? String(delivery.firstAttemptAt.getTime()) : undefined,
  });
}
