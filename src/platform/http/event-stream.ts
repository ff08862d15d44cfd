import type { ServerResponse } from 'node:http';

/**
 * Server-Sent Events on a raw response: the headers, and a write that gives up on a client too
 * slow to read (its buffer past the bound) rather than holding the process's memory for it.
 */

/** Answers 503 when the process is shutting down; otherwise starts the stream. Returns whether it did. */
export function openEventStream(response: ServerResponse, closing: boolean): boolean {
  if (closing) {
    response.writeHead(503, { 'content-type': 'text/plain' }).end('shutting down');
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
