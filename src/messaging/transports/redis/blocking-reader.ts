import { type ChainableCommander, Redis } from 'ioredis';
import type { RawEntry } from './entries.js';

export interface BlockingReaderOptions {
  connectUrl: string;
  stream: string;
  group: string;
  consumer: string;
  /** A connection that is never blocked, to unblock this one from. */
  control: Redis;
}

/** Commands to send in the same write as a read, ahead of it; each settles through its own callback. */
export type RideAlong = (pipeline: ChainableCommander) => void;

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
  private closed = false;

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
   * New entries for this consumer, waiting up to `blockMs` for the first one. `rideAlong` commands
   * (acks) are executed before the read, in the same write: they cost no round trip of their own.
   */
  async read(count: number, blockMs: number, signal: AbortSignal, rideAlong?: RideAlong): Promise<RawEntry[]> {
    this.watch(signal);
    let along = rideAlong;
    for (;;) {
      if (signal.aborted) return [];
      try {
        return await this.readOnce(count, blockMs, along);
      } catch (error) {
        // A pipeline cut by a dropped connection is not resent by ioredis: read again once it is
        // back (the ride-along commands were settled, with that error, through their callbacks).
        if (this.closed || !(error instanceof Error) || error.name !== 'AbortError') throw error;
        along = undefined;
      }
    }
  }

  private async readOnce(count: number, blockMs: number, rideAlong: RideAlong | undefined): Promise<RawEntry[]> {
    const read = [
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
    ];
    this.reading = true;
    try {
      if (!rideAlong && this.clientId !== undefined) {
        return entriesOf(await this.connection.call('XREADGROUP', read));
      }
      const pipeline = this.connection.pipeline();
      rideAlong?.(pipeline);
      if (this.clientId === undefined) {
        pipeline.call('CLIENT', ['ID'], (error, id) => {
          if (!error) this.clientId = Number(id);
        });
      }
      pipeline.call('XREADGROUP', read);
      const results = (await pipeline.exec()) ?? [];
      const [error, reply] = results.at(-1) ?? [null, null];
      if (error) throw error;
      return entriesOf(reply);
    } finally {
      this.reading = false;
    }
  }

  /** Drops the connection at once: a read still waiting is rejected, its entries (if any) lapse. */
  close(): void {
    this.closed = true;
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
