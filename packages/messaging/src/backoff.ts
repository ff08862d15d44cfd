import type { BackoffOptions } from './transport.js';

/**
 * Exponential backoff with full jitter (a uniformly random delay below the exponential bound):
 * retries of many failing messages spread out instead of arriving together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
