import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';

const OPEN_ATTEMPTS = 3;

export interface Outgoing {
  exchange: string;
  routingKey: string;
  content: Buffer;
  /** `messageId` is required: a basic.return is matched to its publish by routing key and id. */
  properties: Options.Publish & { messageId: string };
  /** The error a publish rejects with when the broker returns the message as unroutable. */
  unroutable: () => Error;
}

/**
 * Publishes over one confirm channel with a window of unconfirmed messages: a batch goes out
 * without waiting, and its confirms are awaited together. Every message is `mandatory` and
 * persistent, so a confirm means "stored in a queue" (for quorum queues: by a majority), and an
 * unroutable one comes back as a basic.return (which RabbitMQ sends before the confirm) instead
 * of being confirmed and dropped. If the channel or the connection closes with messages unconfirmed,
 * their publishes reject: nothing is reported stored that the broker did not confirm.
 */
export class ConfirmPublisher {
  private channel: Promise<ConfirmChannel> | undefined;
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  /** Returns seen and not yet matched with their confirm, per routing key and message id. */
  private readonly returned = new Map<string, number>();

  constructor(
    private readonly connect: () => Promise<ChannelModel>,
    private readonly window: number,
  ) {}

  async publish(messages: readonly Outgoing[]): Promise<void> {
    if (messages.length === 0) return;
    const channel = await this.usableChannel();
    const confirms: Promise<void>[] = [];
    let sendError: unknown;
    try {
      for (const message of messages) {
        if (this.inFlight >= this.window) await this.freeSlot();
        const { confirmed, flowing } = this.send(channel, message);
        confirms.push(confirmed);
        // amqplib buffers past its high-water mark; waiting for 'drain' keeps memory bounded.
        if (!flowing) await drained(channel);
      }
    } catch (error) {
      sendError = error;
    }
    // Every confirm is awaited, even after a failure, so none rejects unobserved.
    const settled = await Promise.allSettled(confirms);
    if (sendError !== undefined) throw sendError;
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  async close(): Promise<void> {
    const opening = this.channel;
    this.channel = undefined;
    if (!opening) return;
    const channel = await opening.catch(() => undefined);
    await channel?.waitForConfirms().catch(() => {});
    await channel?.close().catch(() => {});
  }

  private send(channel: ConfirmChannel, message: Outgoing): { confirmed: Promise<void>; flowing: boolean } {
    this.inFlight += 1;
    let flowing = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      const key = returnKey(message.routingKey, message.properties.messageId);
      const done = (error: unknown) => {
        this.inFlight -= 1;
        this.slotWaiters.shift()?.();
        const returns = this.returned.get(key) ?? 0;
        if (returns > 0) {
          if (returns === 1) this.returned.delete(key);
          else this.returned.set(key, returns - 1);
          reject(message.unroutable());
        } else if (error) {
          reject(error);
        } else {
          resolve();
        }
      };
      try {
        const options = { ...message.properties, mandatory: true, persistent: true };
        flowing = channel.publish(message.exchange, message.routingKey, message.content, options, done);
      } catch (error) {
        // The channel closed under us: amqplib throws instead of calling back.
        done(error);
      }
    });
    return { confirmed, flowing };
  }

  private freeSlot(): Promise<void> {
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /**
   * Opening a channel can fail because the connection is dropping at that moment. Nothing of the
   * batch is sent yet, so trying again on the next connection (which `connect` waits for) is safe.
   */
  private async usableChannel(): Promise<ConfirmChannel> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.openChannel();
      } catch (error) {
        if (attempt >= OPEN_ATTEMPTS) throw error;
      }
    }
  }

  private openChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const opening = this.connect().then((model) => model.createConfirmChannel());
    this.channel = opening;
    opening.then(
      (channel) => {
        channel.on('error', () => {});
        channel.on('return', (message: Message) => {
          const key = returnKey(message.fields.routingKey, String(message.properties.messageId));
          this.returned.set(key, (this.returned.get(key) ?? 0) + 1);
        });
        channel.once('close', () => {
          if (this.channel === opening) this.channel = undefined;
        });
      },
      () => {
        if (this.channel === opening) this.channel = undefined;
      },
    );
    return opening;
  }
}

function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

function returnKey(routingKey: string, messageId: string): string {
  return `${routingKey}\u0000${messageId}`;
}
