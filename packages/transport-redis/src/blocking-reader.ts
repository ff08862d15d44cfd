import { Redis } from 'ioredis';
import type { RawEntry } from './entries.js';

export interface BlockingReaderOptions {
  connectUrl: string;
  stream: string;
  group: string;
  consumer: string;
  /** A connection that is never blocked, to unblock this one from. */
  control: Redis;
}

/**
 * One consumer's XREADGROUP … BLOCK, on a connection of its own: a blocked read holds its
 * connection, so publishes and lease renewals must not share it. An aborted wait is ended at
 * once with CLIENT UNBLOCK (the read then returns what it has, or nothing) instead of letting it
 * run out its BLOCK time.
 */
export class BlockingReader {
  private readonly connection: Redis;
  /** This connection's id on the server; unknown from a reconnect until the next read. */
  private clientId: number | undefined;
  private readonly watched = new WeakSet<AbortSignal>();
  private reading = false;

  constructor(private readonly options: BlockingReaderOptions) {
    this.connection = new Redis(options.connectUrl, { connectionName: options.consumer, lazyConnect: true });
    // A dropped connection has a new id once back; ioredis resends the read in flight.
    this.connection.on('close', () => {
      this.clientId = undefined;
    });
    // Errors surface through the commands; the event would otherwise be an unhandled 'error'.
    this.connection.on('error', () => {});
  }

  async connect(): Promise<void> {
    await this.connection.connect();
  }

  /**
   * New entries for this consumer, waiting up to `blockMs` for the first one. After a dropped
   * connection ioredis resends what was unanswered, the read included.
   */
  async read(count: number, blockMs: number, signal: AbortSignal): Promise<RawEntry[]> {
    this.watch(signal);
    if (signal.aborted) return [];
    const connection = this.connection;
    if (this.clientId === undefined) {
      connection.call('CLIENT', ['ID']).then(
        (id) => {
          this.clientId = Number(id);
        },
        () => {},
      );
    }
    const reply = connection.call('XREADGROUP', [
      'GROUP',
      this.options.group,
      this.options.consumer,
      'COUNT',
      count,
      'BLOCK',
      Math.max(1, Math.round(blockMs)),
      'STREAMS',
      this.options.stream,
      '>',
    ]);
    this.reading = true;
    try {
      return entriesOf(await reply);
    } finally {
      this.reading = false;
    }
  }

  /** Drops the connection at once: a read still waiting is rejected, its entries (if any) lapse. */
  close(): void {
    this.connection.disconnect();
  }

  /** For tests that provoke a dropped connection. */
  get id(): number | undefined {
    return this.clientId;
  }

  /** One listener per signal for all the reads it governs, rather than one per read. */
  private watch(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    signal.addEventListener('abort', () => void this.unblock(), { once: true });
  }

  private async unblock(): Promise<void> {
    // Without the id (a reconnect in between), the read ends at its BLOCK time instead.
    if (!this.reading || this.clientId === undefined) return;
    await this.options.control.call('CLIENT', ['UNBLOCK', this.clientId, 'TIMEOUT']).catch(() => {});
  }
}

/**
 * XREADGROUP answers a map of stream → entries: under RESP3 (ioredis' default) it arrives flat,
 * [stream, entries]; under RESP2 as [[stream, entries]].
 */
function entriesOf(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (typeof reply[0] === 'string') return (reply[1] as RawEntry[] | undefined) ?? [];
  return ((reply[0] as [string, RawEntry[]])[1] as RawEntry[] | undefined) ?? [];
}
