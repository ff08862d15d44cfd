import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { wakeChannel } from './schema.js';

/**
 * Every driver of one database and schema in this process shares a channel: a publish wakes the
 * process's own consumers on the next event-loop turn, with no round trip, and marks its NOTIFY
 * with the channel's id so the process's listeners can skip the echo.
 */
interface LocalChannel {
  readonly id: string;
  readonly emitter: EventEmitter;
  /** Bumped on every wake-up: a consumer compares it before and after an empty claim. */
  generation: number;
  scheduled: boolean;
}

const channels = new Map<string, LocalChannel>();

function localChannel(key: string): LocalChannel {
  let channel = channels.get(key);
  if (!channel) {
    channel = { id: randomUUID(), emitter: new EventEmitter().setMaxListeners(0), generation: 0, scheduled: false };
    channels.set(key, channel);
  }
  return channel;
}

const RECONNECT_DELAY_MS = { first: 100, max: 5_000 };

export interface WakeupsOptions {
  connectionString: string;
  schema: string;
}

/**
 * How idle consumers learn that work arrived: local announcements from this process, and a
 * dedicated LISTEN connection for commits made elsewhere. The listener reconnects on its own;
 * while it is down, consumers fall back to their poll.
 */
export class Wakeups {
  private readonly local: LocalChannel;
  private readonly channel: string;
  /** The LISTEN connection, connecting or connected. */
  private current: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  /** Set once the first connection listens: from then on a lost one is replaced in the background. */
  private started = false;
  private reconnectDelay = RECONNECT_DELAY_MS.first;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: WakeupsOptions) {
    this.local = localChannel(`${options.connectionString}#${options.schema}`);
    this.channel = wakeChannel(options.schema);
  }

  /** The NOTIFY payload of this process's publishes: its own listeners ignore it. */
  get payload(): string {
    return this.local.id;
  }

  get generation(): number {
    return this.local.generation;
  }

  /** Wakes this process's waiting consumers on the next turn, once however many commits land before it. */
  announce(): void {
    const local = this.local;
    if (local.scheduled) return;
    local.scheduled = true;
    setImmediate(() => {
      local.scheduled = false;
      this.wakeNow();
    });
  }

  /**
   * Resolves when a wake-up comes after generation `seen` (at once if one already came),
   * after `timeoutMs`, or when either signal aborts.
   */
  wait(seen: number, timeoutMs: number, signal: AbortSignal, closing: AbortSignal): Promise<void> {
    if (this.local.generation !== seen || signal.aborted || closing.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.local.emitter.off('wake', finish);
        signal.removeEventListener('abort', finish);
        closing.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.local.emitter.on('wake', finish);
      signal.addEventListener('abort', finish, { once: true });
      closing.addEventListener('abort', finish, { once: true });
    });
  }

  /** Starts the LISTEN connection (once); publishers that never consume need none. */
  listen(): Promise<void> {
    this.listening ??= this.connect().catch((error: unknown) => {
      this.listening = undefined;
      throw error;
    });
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.current;
    this.current = undefined;
    await client?.end().catch(() => {});
  }

  private wakeNow(): void {
    this.local.generation += 1;
    this.local.emitter.emit('wake');
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: 'syncopate-listener',
    });
    this.current = client;
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload !== this.local.id) this.announce();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      if (this.started) return this.lost(client);
      // The first connection fails loudly: the server is not there, or refuses us.
      this.current = undefined;
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.started = true;
    this.reconnectDelay = RECONNECT_DELAY_MS.first;
    // Whatever was published while no one listened is waiting: look now.
    this.announce();
  }

  private lost(client: pg.Client): void {
    if (!this.started || this.closed || client !== this.current) return;
    this.current = undefined;
    client.end().catch(() => {});
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(delay * 2, RECONNECT_DELAY_MS.max);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
