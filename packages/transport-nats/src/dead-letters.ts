import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import {
  type DeadLetter,
  DeadLetterNotFoundError,
  type DeadLetterPage,
  type DeadLetterQueue,
  InvalidOptionsError,
} from '@syncopate/messaging';
import {
  clipReason,
  type DeadLetterRecord,
  groupNameSchema,
  parsePageRequest,
  toDeadLetter,
} from '@syncopate/messaging/driver';
import { deliveryInfo } from './acks.js';
import { EVENT_ID_HEADER, ORDERING_KEY_HEADER } from './group-queue.js';
import type { Layout } from './layout.js';
import { type Outgoing, publishWindowed } from './publish-window.js';
import { PullRequest } from './pull-request.js';

interface Positioned {
  position: number;
  record: DeadLetterRecord;
}

const REPLAY_PAGE = 500;

/**
 * JetStream has no dead-letter queue: Syncopate stores a group's dead letters in a stream of its
 * own (`NS_DLQ_<group>`), one subject per event id with at most one message each, so a message
 * dead-lettered twice is kept once. Stream sequence numbers are the page cursors.
 */
export class NatsDeadLetters implements DeadLetterQueue {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly layout: Layout,
    private readonly replicas: number,
  ) {}

  async ensureStream(group: string): Promise<void> {
    const name = this.layout.deadLetterStream(group);
    try {
      await this.jsm.streams.info(name);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
      await this.jsm.streams.add({
        name,
        subjects: [this.layout.deadLetterSubjects(group)],
        retention: 'limits',
        storage: 'file',
        num_replicas: this.replicas,
        max_msgs_per_subject: 1,
      });
    }
  }

  async store(record: DeadLetterRecord): Promise<void> {
    const subject = this.layout.deadLetterSubject(record.group, record.eventId);
    const data = JSON.stringify({ ...record, reason: clipReason(record.reason) });
    try {
      await this.js.publish(subject, data);
    } catch (error) {
      // A group declared by an older process may have no dead-letter stream yet.
      await this.ensureStream(record.group);
      await this.js.publish(subject, data).catch(() => Promise.reject(error));
    }
  }

  async list(group: string, options?: { limit?: number; after?: string }): Promise<DeadLetterPage> {
    const page = parsePageRequest(group, options);
    const rows = await this.read(page.group, page.after, page.limit + 1);
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map((row) => toDeadLetter(row.record)),
      nextCursor: rows.length > page.limit && last ? String(last.position) : null,
    };
  }

  async get(group: string, eventId: string): Promise<DeadLetter> {
    const stored = await this.find(group, eventId);
    if (!stored) throw new DeadLetterNotFoundError(group, eventId);
    return toDeadLetter(stored.json() as DeadLetterRecord);
  }

  async count(group: string): Promise<number> {
    try {
      const info = await this.jsm.streams.info(this.layout.deadLetterStream(checkedGroup(group)));
      return info.state.messages;
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return 0;
      throw error;
    }
  }

  async replay(group: string, eventId: string): Promise<void> {
    const stored = await this.find(group, eventId);
    if (!stored) throw new DeadLetterNotFoundError(group, eventId);
    await publishWindowed(this.js, [this.replayOf({ position: stored.seq, record: stored.json() })]);
    await this.jsm.streams.deleteMessage(this.layout.deadLetterStream(group), stored.seq, false);
  }

  async replayAll(group: string): Promise<number> {
    let replayed = 0;
    for (;;) {
      const rows = await this.read(checkedGroup(group), 0, REPLAY_PAGE);
      const last = rows.at(-1);
      if (!last) return replayed;
      await publishWindowed(
        this.js,
        rows.map((row) => this.replayOf(row)),
      );
      // Everything up to the last one replayed; dead letters that arrived meanwhile stay.
      await this.jsm.streams.purge(this.layout.deadLetterStream(group), { seq: last.position + 1 });
      replayed += rows.length;
    }
  }

  async purge(group: string, eventId?: string): Promise<number> {
    const stream = this.layout.deadLetterStream(checkedGroup(group));
    try {
      const response = await this.jsm.streams.purge(
        stream,
        eventId === undefined ? undefined : { filter: this.layout.deadLetterSubject(group, eventId) },
      );
      return response.purged;
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return 0;
      throw error;
    }
  }

  /** A replay goes to the group's own replay subject, as a new message: its attempts start again. */
  private replayOf({ position, record }: Positioned): Outgoing {
    const h = headers();
    h.set(EVENT_ID_HEADER, record.eventId);
    if (record.orderingKey !== null) h.set(ORDERING_KEY_HEADER, encodeURIComponent(record.orderingKey));
    return {
      subject: this.layout.replaySubject(record.group, record.type),
      data: record.body,
      // Deduplicates a replay retried after a lost PubAck, not a later replay of the same event.
      options: { msgID: `replay:${record.group}:${record.eventId}:${position}`, headers: h },
    };
  }

  private async find(group: string, eventId: string): Promise<StoredMsg | null> {
    try {
      return await this.jsm.streams.getMessage(this.layout.deadLetterStream(checkedGroup(group)), {
        last_by_subj: this.layout.deadLetterSubject(group, eventId),
      });
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return null;
      throw error;
    }
  }

  /** Up to `limit` dead letters after stream sequence `after`, through a short-lived consumer. */
  private async read(group: string, after: number, limit: number): Promise<Positioned[]> {
    const stream = this.layout.deadLetterStream(group);
    let name: string;
    try {
      const info = await this.jsm.consumers.add(stream, {
        ack_policy: 'none',
        ...(after > 0 ? { deliver_policy: 'by_start_sequence', opt_start_seq: after + 1 } : { deliver_policy: 'all' }),
        inactive_threshold: nanos(60_000),
        mem_storage: true,
        num_replicas: 1,
      });
      name = info.name;
    } catch (error) {
      if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return [];
      throw error;
    }
    try {
      return await new Promise<Positioned[]>((resolve, reject) => {
        const rows: Positioned[] = [];
        new PullRequest(this.nc, {
          stream,
          consumer: name,
          batch: limit,
          expiresMs: 0,
          heartbeatMs: 0,
          mode: 'available',
          onMessage: (msg) => {
            rows.push({ position: deliveryInfo(msg.reply ?? '').streamSequence, record: msg.json() });
            if (rows.length >= limit) resolve(rows);
          },
          onEnd: (end) => (end.error ? reject(end.error) : resolve(rows)),
        });
      });
    } finally {
      this.jsm.consumers.delete(stream, name).catch(() => {});
    }
  }
}

function checkedGroup(group: string): string {
  const parsed = groupNameSchema.safeParse(group);
  if (!parsed.success) throw new InvalidOptionsError('dead-letter group', parsed.error);
  return parsed.data;
}

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}
