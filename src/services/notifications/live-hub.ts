import type { ServerResponse } from 'node:http';
import { openEventStream, writeEvent } from '../../platform/http/event-stream.js';
import type { EventObject } from './event-object.js';

export interface LiveHubOptions {
  /** A comment line this often keeps proxies and browsers from dropping an idle stream. */
  keepAliveMs: number;
  /** A client this far behind is cut off rather than buffered without end. */
  maxBufferedBytes: number;
}

/**
 * The Server-Sent Events streams open on this process, by account. Broadcasting is best effort:
 * a live view shows what happens while it is connected, and a client that reconnects fetches the
 * past from the API instead of replaying it here.
 */
export class LiveHub {
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private closed = false;

  constructor(private readonly options: LiveHubOptions) {}

  get size(): number {
    let total = 0;
    for (const set of this.streams.values()) total += set.size;
    return total;
  }

  /** Takes over an HTTP response as the account's stream, until the client leaves or the hub closes. */
  attach(input: { accountId: string; response: ServerResponse }): void {
    const { accountId, response } = input;
    if (!openEventStream(response, this.closed)) return;
    let set = this.streams.get(accountId);
    if (!set) {
      set = new Set();
      this.streams.set(accountId, set);
    }
    set.add(response);
    const keepAlive = setInterval(() => this.write(response, ': keep-alive\n\n'), this.options.keepAliveMs);
    keepAlive.unref();
    response.once('close', () => {
      clearInterval(keepAlive);
      set.delete(response);
      if (set.size === 0 && this.streams.get(accountId) === set) this.streams.delete(accountId);
    });
  }

  /** Writes the event to every stream of its account; returns how many it went to. */
  broadcast(input: { accountId: string; event: EventObject }): number {
    const set = this.streams.get(input.accountId);
    if (!set) return 0;
    // A line break in a field would end it early and let the rest pass for another field.
    const id = input.event.id.replace(/[\r\n]/g, '');
    const frame = `event: ${input.event.type}\nid: ${id}\ndata: ${JSON.stringify(input.event)}\n\n`;
    let sent = 0;
    for (const response of set) if (this.write(response, frame)) sent += 1;
    return sent;
  }

  /** Ends every stream; later connections are refused. */
  close(): void {
    this.closed = true;
    for (const set of this.streams.values()) for (const response of set) response.end();
  }

  private write(response: ServerResponse, chunk: string): boolean {
    return writeEvent(response, chunk, this.options.maxBufferedBytes);
  }
}
