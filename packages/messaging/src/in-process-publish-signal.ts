import { EventEmitter } from 'node:events';

/**
 * The in-process publish signal: a waiter in this process (a consumer, an outbox relay) wakes the
 * moment a writer in this process commits, instead of at its next poll. A channel is any string
 * naming where the rows land (a database file, an outbox table); writers and waiters on one name
 * hear each other. Other processes are not reached: they poll.
 */
const channels = new EventEmitter().setMaxListeners(0);

const scheduled = new Set<string>();

/**
 * Wakes the channel's waiters on the next turn of the event loop, once however many commits land
 * before it: a burst of publishes is then claimed in one batch, not one by one.
 */
export function announcePublished(channel: string): void {
  if (scheduled.has(channel)) return;
  scheduled.add(channel);
  setImmediate(() => {
    scheduled.delete(channel);
    channels.emit(channel);
  });
}

/** Resolves true when a publish is announced, false when `timeoutMs` passes or `signal` aborts first. */
export function waitForPublish(channel: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const finish = (announced: boolean) => {
      clearTimeout(timer);
      channels.off(channel, onAnnounce);
      signal.removeEventListener('abort', onAbort);
      resolve(announced);
    };
    const onAnnounce = () => finish(true);
    const onAbort = () => finish(false);
    const timer = setTimeout(onAbort, timeoutMs);
    channels.on(channel, onAnnounce);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
