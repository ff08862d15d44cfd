import { EventEmitter } from 'node:events';

/**
 * Consumers in the publishing process wake the moment a commit lands; the filename keys the
 * channel so every connection to one file in this process hears it. Other processes poll.
 */
const channels = new EventEmitter().setMaxListeners(0);

const scheduled = new Set<string>();

/**
 * Wakes the file's waiting consumers on the next turn of the event loop, once however many
 * commits land before it: a burst of publishes is then claimed in one batch, not one by one.
 */
export function announcePublished(filename: string): void {
  if (scheduled.has(filename)) return;
  scheduled.add(filename);
  setImmediate(() => {
    scheduled.delete(filename);
    channels.emit(filename);
  });
}

/** Resolves true when a publish is announced, false when `timeoutMs` passes or `signal` aborts first. */
export function waitForPublish(filename: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const finish = (announced: boolean) => {
      clearTimeout(timer);
      channels.off(filename, onAnnounce);
      signal.removeEventListener('abort', onAbort);
      resolve(announced);
    };
    const onAnnounce = () => finish(true);
    const onAbort = () => finish(false);
    const timer = setTimeout(onAbort, timeoutMs);
    channels.on(filename, onAnnounce);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
