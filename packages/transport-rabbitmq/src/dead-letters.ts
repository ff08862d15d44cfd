import {
  type DeadLetter,
  DeadLetterNotFoundError,
  type DeadLetterPage,
  type DeadLetterQueue,
} from '@syncopate/messaging';
import { parsePageRequest, toDeadLetter } from '@syncopate/messaging/driver';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { type PositionedRecord, pageOf, recordOf } from './dead-letter-records.js';
import type { Names } from './names.js';
import type { ConfirmPublisher, Outgoing } from './publisher.js';
import { eventProperties } from './wire.js';

export interface DeadLettersDeps {
  connection: () => Promise<ChannelModel>;
  publisher: ConfirmPublisher;
  names: Names;
}

interface Stored {
  record: PositionedRecord;
  message: GetMessage;
}

/**
 * Each group's dead letters live in a quorum queue (`<prefix>.dlq.<group>`), one message per dead
 * letter with its reason, attempts and times as headers. A queue cannot be read at an offset, so
 * every operation but `count` and `purge`-all browses: it takes every message with basic.get (one
 * round trip each), works on them sorted by position, acknowledges those it removes and closes its
 * channel, which puts the others back. While one browse runs, another process's browse or count
 * sees fewer messages; within this process, operations on a group run one at a time.
 */
export class RabbitMqDeadLetters implements DeadLetterQueue {
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: DeadLettersDeps) {}

  async list(group: string, options?: { limit?: number; after?: string }): Promise<DeadLetterPage> {
    const page = parsePageRequest(group, options);
    const stored = await this.browse(page.group, async (all) => all);
    const { items, nextCursor } = pageOf(
      stored.map((s) => s.record),
      page.after,
      page.limit,
    );
    return { items: items.map(toDeadLetter), nextCursor };
  }

  async get(group: string, eventId: string): Promise<DeadLetter> {
    const record = await this.browse(group, async (all) => latest(group, eventId, all).record);
    return toDeadLetter(record);
  }

  count(group: string): Promise<number> {
    return this.inTurn(group, () =>
      this.onChannel((channel) =>
        zeroIfMissing(async () => (await channel.checkQueue(this.deps.names.deadLetters(group))).messageCount),
      ),
    );
  }

  async replay(group: string, eventId: string): Promise<void> {
    await this.browse(group, async (all, channel) => {
      const found = latest(group, eventId, all);
      await this.deps.publisher.publish([this.replayOf(found.record)]);
      // Every stored copy of that event goes: the replay stands for all of them.
      for (const s of all) if (s.record.eventId === eventId) channel.ack(s.message);
    });
  }

  async replayAll(group: string): Promise<number> {
    return this.browse(group, async (all, channel) => {
      const byEvent = new Map(all.map((s) => [s.record.eventId, s.record]));
      await this.deps.publisher.publish([...byEvent.values()].map((record) => this.replayOf(record)));
      for (const s of all) channel.ack(s.message);
      return byEvent.size;
    });
  }

  async purge(group: string, eventId?: string): Promise<number> {
    if (eventId === undefined) {
      return this.inTurn(group, () =>
        this.onChannel((channel) =>
          zeroIfMissing(async () => (await channel.purgeQueue(this.deps.names.deadLetters(group))).messageCount),
        ),
      );
    }
    return this.browse(group, async (all, channel) => {
      const matching = all.filter((s) => s.record.eventId === eventId);
      for (const s of matching) channel.ack(s.message);
      return matching.length;
    });
  }

  /** Back on the group's own queue (not the exchange: other groups already had it), attempts reset. */
  private replayOf(record: PositionedRecord): Outgoing {
    const queue = this.deps.names.group(record.group);
    return {
      exchange: '',
      routingKey: queue,
      content: Buffer.from(record.body, 'utf8'),
      properties: eventProperties(
        { id: record.eventId, type: record.type, orderingKey: record.orderingKey ?? undefined },
        Date.now(),
      ),
      unroutable: () => new Error(`RabbitMQ queue "${queue}" does not exist: declare the group again`),
    };
  }

  /** Takes every dead letter of the group, sorted by position, for `work`; unacknowledged ones go back. */
  private browse<T>(group: string, work: (all: Stored[], channel: Channel) => Promise<T>): Promise<T> {
    return this.inTurn(group, () =>
      this.onChannel(async (channel) => {
        const queue = this.deps.names.deadLetters(group);
        const all: Stored[] = [];
        try {
          for (;;) {
            const message = await channel.get(queue, { noAck: false });
            if (message === false) break;
            all.push({ record: recordOf(group, message), message });
          }
        } catch (error) {
          // A group never declared has no dead-letter queue, and so no dead letters.
          if (!isNotFound(error)) throw error;
        }
        all.sort((a, b) => a.record.position - b.record.position || a.record.eventId.localeCompare(b.record.eventId));
        return work(all, channel);
      }),
    );
  }

  /** A channel of its own, closed afterwards: closing returns whatever was taken and not acknowledged. */
  private async onChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const model = await this.deps.connection();
    const channel = await model.createChannel();
    channel.on('error', () => {});
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  private inTurn<T>(group: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(group) ?? Promise.resolve();
    const turn = previous.catch(() => {}).then(work);
    this.turns.set(group, turn);
    void turn
      .catch(() => {})
      .finally(() => {
        if (this.turns.get(group) === turn) this.turns.delete(group);
      });
    return turn;
  }
}

function latest(group: string, eventId: string, all: readonly Stored[]): Stored {
  const found = all.filter((s) => s.record.eventId === eventId).at(-1);
  if (!found) throw new DeadLetterNotFoundError(group, eventId);
  return found;
}

/** A group never declared has no dead-letter queue, and so no dead letters. */
async function zeroIfMissing(read: () => Promise<number>): Promise<number> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}
