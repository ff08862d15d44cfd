import { TransportClosedError } from '@syncopate/messaging';
import amqp, { type ChannelModel } from 'amqplib';

const RECONNECT_DELAY_MS = { first: 100, max: 5_000 };

export class BrokerUnavailableError extends Error {
  constructor(waitedMs: number, cause: unknown) {
    super(`RabbitMQ connection lost and not back within ${waitedMs} ms`, { cause });
    this.name = 'BrokerUnavailableError';
  }
}

export interface ConnectionOptions {
  brokerUrl: string;
  /** Shown by `rabbitmqctl list_connections client_properties`, to tell our connections apart. */
  connectionName: string;
  /** Runs after every reconnection (not the first connection), before waiters are released. */
  onReconnect: (model: ChannelModel) => Promise<void>;
}

/**
 * One AMQP connection that comes back by itself: when it drops (broker restart, network, a
 * server-side close) it reconnects with exponential backoff and jitter, re-runs `onReconnect`
 * (which re-declares the topology), and whoever asked for the connection meanwhile gets the new one.
 * Channels are not recreated here: each user notices its channel closed and opens a new one.
 */
export class ReconnectingConnection {
  private model: ChannelModel | undefined;
  private waiters: { resolve: (model: ChannelModel) => void; reject: (error: unknown) => void }[] = [];
  private lastError: unknown;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: ConnectionOptions) {}

  /** Connects once; a broker that does not answer at start is an error, not a silent wait. */
  static async open(options: ConnectionOptions): Promise<ReconnectingConnection> {
    const connection = new ReconnectingConnection(options);
    connection.adopt(await connection.dial());
    return connection;
  }

  get connected(): boolean {
    return this.model !== undefined;
  }

  /** The live connection, waiting up to `waitMs` for a lost one to come back. */
  current(waitMs: number): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new TransportClosedError('rabbitmq'));
    if (this.model) return Promise.resolve(this.model);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (model: ChannelModel) => {
          clearTimeout(timer);
          resolve(model);
        },
        reject: (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new BrokerUnavailableError(waitMs, this.lastError));
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const waiter of this.waiters.splice(0)) waiter.reject(new TransportClosedError('rabbitmq'));
    const model = this.model;
    this.model = undefined;
    await model?.close().catch(() => {});
  }

  /** Cuts the TCP connection without a close handshake, as a network failure or a broker crash would. */
  destroySocketForTest(): void {
    const stream = (this.model?.connection as { stream?: { destroy(error: Error): void } } | undefined)?.stream;
    // With an error, as a reset connection reports itself; amqplib listens for 'error' and 'end'.
    stream?.destroy(Object.assign(new Error('connection cut for a test'), { code: 'ECONNRESET' }));
  }

  private async dial(): Promise<ChannelModel> {
    const model = await amqp.connect(this.options.brokerUrl, {
      // amqplib leaves Nagle on: a lone publish then waits on the broker's delayed ACK (~40 ms).
      noDelay: true,
      clientProperties: { connection_name: this.options.connectionName },
    });
    // Without an 'error' listener a connection error would crash the process; 'close' follows it.
    model.on('error', (error: unknown) => {
      this.lastError = error;
    });
    return model;
  }

  private adopt(model: ChannelModel): void {
    model.once('close', (error?: unknown) => {
      if (this.model !== model) return;
      this.model = undefined;
      if (error) this.lastError = error;
      if (!this.closed) this.scheduleReconnect(1);
    });
    this.model = model;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(model);
  }

  private scheduleReconnect(attempt: number): void {
    const ceiling = Math.min(RECONNECT_DELAY_MS.max, RECONNECT_DELAY_MS.first * 2 ** (attempt - 1));
    // Jitter keeps a fleet of consumers from reconnecting to a restarted broker in one wave.
    const delayMs = ceiling / 2 + Math.random() * (ceiling / 2);
    // Not unref'd: a consumer process waiting for its broker must not exit for lack of handles.
    this.retryTimer = setTimeout(() => void this.reconnect(attempt), delayMs);
  }

  private async reconnect(attempt: number): Promise<void> {
    if (this.closed) return;
    let model: ChannelModel;
    try {
      model = await this.dial();
    } catch (error) {
      this.lastError = error;
      this.scheduleReconnect(attempt + 1);
      return;
    }
    if (this.closed) {
      await model.close().catch(() => {});
      return;
    }
    try {
      await this.options.onReconnect(model);
    } catch (error) {
      // The topology could not be restored on this connection: drop it and try again.
      this.lastError = error;
      await model.close().catch(() => {});
      this.scheduleReconnect(attempt + 1);
      return;
    }
    this.adopt(model);
  }
}
