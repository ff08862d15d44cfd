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
 * connection, so publishes, acks and lease renewals must not share it. An aborted wait is ended
 * at once with CLIENT UNBLOCK (the read then returns what it has, or nothing) instead of letting
 * it run out its BLOCK time.
 */
export class BlockingReader {
  private readonly connection: Redis;
  /** This connection's id on the server; unknown from a reconnect until the next read. */
  private clientId: number | undefined;

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

  /** New entries for this consumer, waiting up to `blockMs` for the first one. */
  async read(count: number, blockMs: number, signal: AbortSignal): Promise<RawEntry[]> {
    if (this.clientId === undefined) {
      // Sent in the same write as the read: knowing the id costs no round trip of its own.
      this.connection.call('CLIENT', ['ID']).then(
        (id) => {
          this.clientId = Number(id);
        },
        () => {},
      );
    }
    const reply = this.connection.call('XREADGROUP', [
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
    const unblock = () => void this.unblock();
    signal.addEventListener('abort', unblock, { once: true });
    try {
      return entriesOf(await reply);
    } finally {
      signal.removeEventListener('abort', unblock);
    }
  }

  private async unblock(): Promise<void> {
    // Without the id (a reconnect in between), the read ends at its BLOCK time instead.
    if (this.clientId === undefined) return;
    await this.options.control.call('CLIENT', ['UNBLOCK', this.clientId, 'TIMEOUT']).catch(() => {});
  }

  /** Drops the connection at once: a read still waiting is rejected, its entries (if any) lapse. */
  close(): void {
    this.connection.disconnect();
  }

  /** For tests that provoke a dropped connection. */
  get id(): number | undefined {
    return this.clientId;
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
