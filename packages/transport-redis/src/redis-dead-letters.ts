import {
  type DeadLetter,
  DeadLetterNotFoundError,
  type DeadLetterPage,
  type DeadLetterQueue,
} from '@syncopate/messaging';
import { parsePageRequest, toDeadLetter } from '@syncopate/messaging/driver';
import type { Redis } from 'ioredis';
import { entryTime, fieldsOf, type RawEntry } from './entries.js';
import type { NamespaceKeys } from './keys.js';
import { deadLetterGetScript, purgeScript, replayChunkScript, replayScript } from './scripts.js';

/** Dead letters replayed per script call: each call is atomic and keeps the server responsive. */
const REPLAY_CHUNK = 500;

/**
 * One dead-letter stream per group. Entry ids are `<position>-0` with the position from a
 * counter, so the position is the page cursor; an index hash finds a letter by its event id.
 */
export class RedisDeadLetters implements DeadLetterQueue {
  constructor(
    private readonly redis: Redis,
    private readonly keys: NamespaceKeys,
  ) {}

  async list(group: string, options?: { limit?: number; after?: string }): Promise<DeadLetterPage> {
    const page = parsePageRequest(group, options);
    const start = page.after > 0 ? `(${page.after}-0` : '-';
    const entries = (await this.redis.call('XRANGE', [
      this.keys.deadLetters(page.group),
      start,
      '+',
      'COUNT',
      page.limit + 1,
    ])) as RawEntry[];
    const items = entries.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map((entry) => this.toLetter(page.group, entry)),
      nextCursor: entries.length > page.limit && last ? String(entryTime(last[0])) : null,
    };
  }

  async get(group: string, eventId: string): Promise<DeadLetter> {
    const entry = (await deadLetterGetScript.run(
      this.redis,
      [this.keys.deadLetters(group), this.keys.deadLetterIndex(group)],
      [eventId],
    )) as RawEntry | null;
    if (!entry) throw new DeadLetterNotFoundError(group, eventId);
    return this.toLetter(group, entry);
  }

  async count(group: string): Promise<number> {
    return (await this.redis.call('XLEN', [this.keys.deadLetters(group)])) as number;
  }

  async replay(group: string, eventId: string): Promise<void> {
    const replayed = await replayScript.run(this.redis, this.replayKeys(group), [eventId]);
    if (replayed === 0) throw new DeadLetterNotFoundError(group, eventId);
  }

  async replayAll(group: string): Promise<number> {
    // Only what is dead already: a message that fails again while this runs is not replayed twice.
    const newest = (await this.redis.call('XREVRANGE', [this.keys.deadLetters(group), '+', '-', 'COUNT', 1])) as
      | RawEntry[]
      | [];
    const upTo = newest[0]?.[0];
    if (upTo === undefined) return 0;
    let replayed = 0;
    for (;;) {
      const moved = (await replayChunkScript.run(this.redis, this.replayKeys(group), [upTo, REPLAY_CHUNK])) as number;
      replayed += moved;
      if (moved < REPLAY_CHUNK) return replayed;
    }
  }

  async purge(group: string, eventId?: string): Promise<number> {
    const keys = [this.keys.deadLetters(group), this.keys.deadLetterIndex(group)];
    return (await purgeScript.run(this.redis, keys, eventId === undefined ? [] : [eventId])) as number;
  }

  private replayKeys(group: string): string[] {
    return [this.keys.stream(group), this.keys.deadLetters(group), this.keys.deadLetterIndex(group)];
  }

  private toLetter(group: string, [, flat]: RawEntry): DeadLetter {
    const f = fieldsOf(flat);
    const time = (value: string | undefined) => (value ? Number(value) : null);
    return toDeadLetter({
      group,
      eventId: f.id ?? '',
      type: f.type ?? '',
      orderingKey: f.key || null,
      body: f.body ?? '',
      reason: f.reason ?? '',
      attempts: Number(f.attempts ?? 0),
      firstAttemptAt: time(f.first),
      lastAttemptAt: time(f.last),
      deadLetteredAt: Number(f.at ?? 0),
    });
  }
}
