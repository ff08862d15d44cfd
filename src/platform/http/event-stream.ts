import type { ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';

/**
 * Server-Sent Events on a raw response: the headers, and a write that gives up on a client too
 * slow to read (its buffer past the bound) rather than holding the process's memory for it.
 */

/** Answers 503 when the process is shutting down; otherwise starts the stream. Returns whether it did. */
export function openEventStream(response: ServerResponse, closing: boolean): boolean {
  if (closing) {
    const refusal = new ApiError(503, 'api_error', 'shutting_down', 'This server is shutting down; reconnect shortly');
    response
      .writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' })
      .end(JSON.stringify(refusal.toBody()));
    return false;
  }
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Tells nginx-like proxies not to hold events back in a buffer.
    'x-accel-buffering': 'no',
  });
  response.write(': connected\n\n');
  return true;
}

/** Writes unless the stream is gone; a client more than `maxBufferedBytes` behind is dropped. */
export function writeEvent(response: ServerResponse, chunk: string, maxBufferedBytes: number): boolean {
  if (response.writableEnded || response.destroyed) return false;
  if (response.writableLength > maxBufferedBytes) {
    response.destroy();
    return false;
  }
  response.write(chunk);
  return true;
}

export interface StreamAdmissionOptions {
  /** Streams one key may hold open at once. */
  maxPerKey: number;
  /** Says whether a key is still live; a revoked key's open streams are ended. */
  isActive(keyId: string): boolean;
  /** How often the keys of open streams are checked. Default 1 s. */
  recheckMs?: number;
}

/**
 * Who may open a stream: at most `maxPerKey` open at once per key (each holds a connection and up
 * to its buffer bound of memory), and none that outlives its key: while streams are open, their
 * keys are checked every `recheckMs`, and a revoked key's streams are ended.
 */
export class StreamAdmission {
  private readonly open = new Map<string, Set<ServerResponse>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StreamAdmissionOptions) {}

  /** Call before taking the response over: throws a 429 in the error shape when the key has its maximum open. */
  admit(keyId: string, response: ServerResponse): void {
    const streams = this.open.get(keyId) ?? new Set<ServerResponse>();
    if (streams.size >= this.options.maxPerKey) {
      throw new ApiError(
        429,
        'rate_limit_error',
        'too_many_streams',
        `This key already has ${streams.size} streams open, its maximum; close one first`,
      );
    }
    streams.add(response);
    this.open.set(keyId, streams);
    response.once('close', () => {
      streams.delete(response);
      if (streams.size === 0 && this.open.get(keyId) === streams) this.open.delete(keyId);
      if (this.open.size === 0) this.stopChecking();
    });
    this.timer ??= setInterval(() => this.endRevoked(), this.options.recheckMs ?? 1_000).unref();
  }

  close(): void {
    this.stopChecking();
  }

  private endRevoked(): void {
    for (const [keyId, streams] of this.open) {
      let active = true;
      try {
        active = this.options.isActive(keyId);
      } catch {
        // The key store is closing with the process: its streams are being ended anyway.
      }
      if (!active) for (const response of streams) response.end();
    }
  }

  private stopChecking(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
