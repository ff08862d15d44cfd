import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { clipReason, type DeadLetterRecord, parsePageRequest, toDeadLetter } from './dead-letters.js';
import { type Envelope, encodeEnvelope } from './envelope.js';
import { DeadLetterNotFoundError, TransportClosedError, UnroutableEventError } from './errors.js';
import type {
  DeadLetterPage,
  DeadLetterQueue,
  Delivery,
  Failure,
  GroupQueue,
  GroupQueueOptions,
  GroupStats,
  TransportCapabilities,
  TransportDriver,
} from './transport.js';

interface Row {
  id: number;
  eventId: string;
  type: string;
  key: string | undefined;
  body: string;
  /** When it was put on the queue (published or replayed). */
  publishedAt: number;
  /** Claimable when `visibleAt <= now`: later while leased or waiting for a retry. */
  visibleAt: number;
  attempts: number;
  token: string | undefined;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
}

interface Token {
  row: Row;
  lease: string;
}

/** The state of one named memory transport; transports opened with the same name in one process share it. */
class MemoryStore {
  nextId = 1;
  nextDeadLetter = 1;
  readonly bindings = new Map<string, Set<string>>();
  readonly queues = new Map<string, Map<number, Row>>();
  readonly deadLetters = new Map<string, Map<string, DeadLetterRecord & { position: number }>>();
  readonly published = new EventEmitter().setMaxListeners(0);

  queue(group: string): Map<number, Row> {
    let queue = this.queues.get(group);
    if (!queue) {
      queue = new Map();
      this.queues.set(group, queue);
    }
    return queue;
  }

  dlq(group: string) {
    let dlq = this.deadLetters.get(group);
    if (!dlq) {
      dlq = new Map();
      this.deadLetters.set(group, dlq);
    }
    return dlq;
  }

  enqueue(group: string, row: Omit<Row, 'id'>): void {
    const id = this.nextId++;
    this.queue(group).set(id, { ...row, id });
  }
}

const namedStores = new Map<string, MemoryStore>();

/**
 * In-process transport with the same semantics as the durable ones (leases, per-key order,
 * retries, dead letters), for unit tests and the benchmark's upper bound. Nothing survives the process.
 */
export class MemoryDriver implements TransportDriver {
  readonly name = 'memory';
  readonly capabilities: TransportCapabilities = {
    durable: false,
    crossProcess: false,
    perKeyOrder: true,
    leases: 'timed',
    unknownStats: [],
  };
  readonly deadLetters: DeadLetterQueue;
  private readonly store: MemoryStore;
  private closed = false;

  constructor(storeName?: string) {
    if (storeName) {
      this.store = namedStores.get(storeName) ?? new MemoryStore();
      namedStores.set(storeName, this.store);
    } else {
      this.store = new MemoryStore();
    }
    this.deadLetters = new MemoryDeadLetters(this.store);
  }

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    for (const type of eventTypes) {
      let groups = this.store.bindings.get(type);
      if (!groups) {
        groups = new Set();
        this.store.bindings.set(type, groups);
      }
      groups.add(group);
    }
  }

  async publish(events: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    const routes = events.map((event) => {
      const groups = this.store.bindings.get(event.type);
      if (!groups || groups.size === 0) throw new UnroutableEventError(event.type);
      return { event, groups: [...groups] };
    });
    const now = Date.now();
    for (const { event, groups } of routes) {
      const body = encodeEnvelope(event);
      for (const group of groups) {
        this.store.enqueue(group, {
          eventId: event.id,
          type: event.type,
          key: event.orderingkey,
          body,
          publishedAt: now,
          visibleAt: now,
          attempts: 0,
          token: undefined,
          firstAttemptAt: null,
          lastAttemptAt: null,
        });
      }
    }
    this.store.published.emit('published');
  }

  async openQueue(options: GroupQueueOptions): Promise<GroupQueue> {
    this.assertOpen();
    return new MemoryGroupQueue(this.store, options);
  }

  /** Exact: everything is in this process. A row whose lease lapsed is waiting again. */
  async stats(group: string): Promise<GroupStats> {
    this.assertOpen();
    const now = Date.now();
    const stats = { group, waiting: 0, delayed: 0, inFlight: 0, deadLettered: this.store.dlq(group).size };
    let oldest = now;
    for (const row of this.store.queue(group).values()) {
      if (row.token !== undefined && row.visibleAt > now) {
        stats.inFlight += 1;
        continue;
      }
      stats.waiting += 1;
      if (row.visibleAt > now) stats.delayed += 1;
      oldest = Math.min(oldest, row.publishedAt);
    }
    return { ...stats, oldestWaitingAgeMs: now - oldest };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosedError(this.name);
  }
}

class MemoryGroupQueue implements GroupQueue {
  private readonly rows: Map<number, Row>;

  constructor(
    private readonly store: MemoryStore,
    private readonly options: GroupQueueOptions,
  ) {
    this.rows = store.queue(options.group);
  }

  async claim(max: number, signal: AbortSignal): Promise<Delivery[]> {
    while (!signal.aborted) {
      const claimed = this.claimNow(max);
      if (claimed.length > 0) return claimed;
      await this.waitForWork(signal);
    }
    return [];
  }

  private claimNow(max: number): Delivery[] {
    const now = Date.now();
    const blockedKeys = new Set<string>();
    const claimed: Delivery[] = [];
    const lease = randomUUID();
    for (const row of this.rows.values()) {
      if (claimed.length >= max) break;
      if (row.key !== undefined && blockedKeys.has(row.key)) continue;
      if (row.visibleAt > now) {
        if (row.key !== undefined) blockedKeys.add(row.key);
        continue;
      }
      row.attempts += 1;
      row.visibleAt = now + this.options.leaseMs;
      row.token = lease;
      row.firstAttemptAt ??= now;
      row.lastAttemptAt = now;
      claimed.push({
        eventId: row.eventId,
        body: row.body,
        orderingKey: row.key,
        attempt: row.attempts,
        firstAttemptAt: new Date(row.firstAttemptAt),
        token: { row, lease } satisfies Token,
      });
    }
    return claimed;
  }

  /** Sleeps until something is published or the earliest lease or retry delay runs out. */
  private waitForWork(signal: AbortSignal): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const row of this.rows.values()) next = Math.min(next, row.visibleAt);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.store.published.off('published', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(next) ? setTimeout(done, Math.max(1, next - Date.now())) : undefined;
      this.store.published.on('published', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The row, if this delivery still holds its lease (a lapsed lease may have been claimed again). */
  private owned(delivery: Delivery): Row | undefined {
    const { row, lease } = delivery.token as Token;
    return row.token === lease && this.rows.get(row.id) === row ? row : undefined;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const row = this.owned(delivery);
      if (row) this.rows.delete(row.id);
    }
  }

  async retry(delivery: Delivery, delayMs: number, _failure: Failure): Promise<void> {
    const row = this.owned(delivery);
    if (!row) return;
    row.visibleAt = Date.now() + delayMs;
    row.token = undefined;
    // Waiting claimers recompute when to wake up.
    this.store.published.emit('published');
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const row = this.owned(delivery);
    if (!row) return;
    this.rows.delete(row.id);
    const dlq = this.store.dlq(this.options.group);
    dlq.delete(row.eventId);
    dlq.set(row.eventId, {
      position: this.store.nextDeadLetter++,
      group: this.options.group,
      eventId: row.eventId,
      type: row.type,
      orderingKey: row.key ?? null,
      body: row.body,
      reason: clipReason(reason),
      attempts: row.attempts,
      firstAttemptAt: row.firstAttemptAt,
      lastAttemptAt: row.lastAttemptAt,
      deadLetteredAt: Date.now(),
    });
  }

  async extendLeases(deliveries: readonly Delivery[]): Promise<void> {
    const until = Date.now() + this.options.leaseMs;
    for (const delivery of deliveries) {
      const row = this.owned(delivery);
      if (row) row.visibleAt = until;
    }
  }

  async release(deliveries: readonly Delivery[], options: { countAttempt: boolean }): Promise<void> {
    const now = Date.now();
    for (const delivery of deliveries) {
      const row = this.owned(delivery);
      if (!row) continue;
      row.visibleAt = now;
      row.token = undefined;
      if (!options.countAttempt) row.attempts -= 1;
    }
    this.store.published.emit('published');
  }

  async close(): Promise<void> {}
}

class MemoryDeadLetters implements DeadLetterQueue {
  constructor(private readonly store: MemoryStore) {}

  async list(group: string, options?: { limit?: number; after?: string }): Promise<DeadLetterPage> {
    const page = parsePageRequest(group, options);
    const all = [...this.store.dlq(page.group).values()]
      .filter((record) => record.position > page.after)
      .sort((a, b) => a.position - b.position);
    const items = all.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map(toDeadLetter),
      nextCursor: all.length > page.limit && last ? String(last.position) : null,
    };
  }

  async get(group: string, eventId: string) {
    return toDeadLetter(this.find(group, eventId));
  }

  async count(group: string): Promise<number> {
    return this.store.dlq(group).size;
  }

  async replay(group: string, eventId: string): Promise<void> {
    const record = this.find(group, eventId);
    this.requeue(record);
    this.store.dlq(group).delete(eventId);
    this.store.published.emit('published');
  }

  async replayAll(group: string): Promise<number> {
    const dlq = this.store.dlq(group);
    const records = [...dlq.values()].sort((a, b) => a.position - b.position);
    for (const record of records) this.requeue(record);
    dlq.clear();
    this.store.published.emit('published');
    return records.length;
  }

  async purge(group: string, eventId?: string): Promise<number> {
    const dlq = this.store.dlq(group);
    if (eventId === undefined) {
      const removed = dlq.size;
      dlq.clear();
      return removed;
    }
    return dlq.delete(eventId) ? 1 : 0;
  }

  private find(group: string, eventId: string) {
    const record = this.store.dlq(group).get(eventId);
    if (!record) throw new DeadLetterNotFoundError(group, eventId);
    return record;
  }

  private requeue(record: DeadLetterRecord): void {
    this.store.enqueue(record.group, {
      eventId: record.eventId,
      type: record.type,
      key: record.orderingKey ?? undefined,
      body: record.body,
      publishedAt: Date.now(),
      visibleAt: Date.now(),
      attempts: 0,
      token: undefined,
      firstAttemptAt: null,
      lastAttemptAt: null,
    });
  }
}
