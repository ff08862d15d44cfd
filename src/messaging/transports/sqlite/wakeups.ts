import { EventEmitter } from 'node:events';

/**
 * Consumers in the publishing process wake the moment a commit lands; the filename keys the
 * channel so every connection to one file in this process hears it. Other processes poll.
 */
const channels = new EventEmitter().setMaxListeners(0);

export function announcePublished(filename: string): void {
  channels.emit(filename);
}

export function waitForPublish(filename: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      channels.off(filename, done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    channels.on(filename, done);
    signal.addEventListener('abort', done, { once: true });
  });
}
