import { createEvent, openTransport } from '@syncopate/messaging';
import '../../src/app/transports.js';
import { BenchPayment, type Measurement, paymentData } from '../support.js';

export type Mode = { count: number } | { rate: number; seconds: number };

/**
 * One benchmark case: moves `count` messages through as fast as it can, or `rate` per second for
 * `seconds`, and reports what arrived, how long it took and each message's publish→handler latency.
 * A case named `<name>-floor` is the raw client doing the same work as the case named `<name>`.
 */
export interface Case {
  name: string;
  run(mode: Mode): Promise<Measurement>;
}

export interface CaseOptions {
  /** Handler concurrency of the transports' subscriptions. */
  concurrency: number;
  /** A fresh temporary directory for files. */
  dir: string;
}

/** A case file in this folder exports `cases`, which returns its cases (none when its server is missing). */
export type CaseFactory = (options: CaseOptions) => Promise<Case[]>;

export const now = () => performance.timeOrigin + performance.now();

export const targetOf = (mode: Mode) => ('count' in mode ? mode.count : Math.round(mode.rate * mode.seconds));

/** Publishes either `count` messages back to back, or at a fixed rate for `seconds`. */
export async function drive(mode: Mode, publish: (n: number) => Promise<void>): Promise<void> {
  if ('count' in mode) {
    for (let n = 0; n < mode.count; n++) await publish(n);
    return;
  }
  const total = targetOf(mode);
  const startedAt = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - startedAt) / 1000) * mode.rate) + 1);
    while (sent < due) await publish(sent++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The transport end to end: publish one event at a time, a subscription in the same process handles it. */
export function transportCase(name: string, url: () => string | Promise<string>, options: CaseOptions): Case {
  return {
    name,
    async run(mode) {
      const transport = await openTransport(await url());
      const latencies: number[] = [];
      const target = targetOf(mode);
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const subscription = await transport.subscribe({
        group: 'bench',
        events: [BenchPayment],
        concurrency: options.concurrency,
        handler: ({ event }) => {
          latencies.push(now() - event.data.sentAt);
          if (latencies.length >= target) finish();
        },
      });
      const started = now();
      await drive(mode, (n) =>
        transport.publish(createEvent(BenchPayment, paymentData(n, now()), { source: 'urn:bench' })),
      );
      await done;
      const elapsed = now() - started;
      await subscription.close();
      await transport.close();
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

/** A payment event as every raw client publishes it: the same bytes the transports carry. */
export function benchEventJson(n: number): string {
  return JSON.stringify(createEvent(BenchPayment, paymentData(n, now()), { source: 'urn:bench' }));
}
