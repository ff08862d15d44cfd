/**
 * A consumer stopped past its lease: consumer A takes a message and is frozen (SIGSTOP) before
 * it finishes; its lease lapses and consumer B takes the message. A is thawed (SIGCONT) and
 * finishes: its runner acknowledges, late. Then B fails the message. Had A's late ack been taken,
 * it would have settled B's delivery: the message would be gone, and B's failure never retried.
 * Fenced, the message comes back (attempt 3) and is handled: that return is what the test waits for.
 */
import { openTransport } from '@syncopate/messaging';
import '../../src/app/transports.js';
import { type Child, startChild } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import type { FencingCommand, FencingConsumerConfig, FencingReport } from './fencing-consumer.js';
import { Probe, probe } from './load.js';

const GROUP = 'fencing';
/** Long enough that a busy machine does not lapse a running consumer's lease by itself. */
export const FENCING_LEASE_MS = 2_000;
/** How long B may take to get the message after A froze: the lease, the broker's detection, a busy machine. */
const TAKEOVER_TIMEOUT_MS = 120_000;

export interface FencingFigures {
  /** The attempt B got while A was frozen. */
  takenOverAt: number;
  /** What A's runner reported about its late ack. */
  lateAck: string;
  /** The attempt that came back after B's failure, and which consumer handled it. */
  cameBackAs: number;
  handledBy: 'A' | 'B';
}

export async function lateAckIsRefused(url: string): Promise<FencingFigures> {
  const transport = await openTransport(url);
  const consumers: Child<FencingReport>[] = [];
  const consumer = async () => {
    const config: FencingConsumerConfig = { url, group: GROUP, leaseMs: FENCING_LEASE_MS };
    const child = startChild<FencingReport>(new URL('./fencing-consumer.ts', import.meta.url).href, [
      JSON.stringify(config),
    ]);
    consumers.push(child);
    await child.next((report) => report.kind === 'ready', 60_000);
    return child;
  };
  const tell = (child: Child<FencingReport>, command: FencingCommand) => child.process.send(command);
  try {
    await transport.declareGroup(GROUP, [Probe.type]);
    const a = await consumer();
    const event = probe(0);
    await transport.publish(event);
    await deliveryTo(a, event.id, (attempt) => attempt === 1, 60_000);
    a.process.kill('SIGSTOP');

    const b = await consumer();
    const takenOverAt = await deliveryTo(b, event.id, () => true, TAKEOVER_TIMEOUT_MS);

    a.process.kill('SIGCONT');
    tell(a, { kind: 'finish', id: event.id, attempt: 1 });
    await a.next((report) => report.kind === 'settled' && report.attempt === 1, 60_000);
    // A's lease extensions and its ack have run by now; whatever the transport rejected was reported first.
    const refusals = a.reports.flatMap((r) => (r.kind === 'machinery-error' ? [`${r.operation}: ${r.message}`] : []));
    const lateAck = refusals.length === 0 ? "A's ack returned without an error" : `A was told ${refusals.join('; ')}`;

    tell(b, { kind: 'fail', id: event.id, attempt: takenOverAt });
    const back = await waitFor(
      `the message back after B's failure (it would be gone had A's late ack settled B's delivery)`,
      () => {
        for (const [name, child] of [['A', a] as const, ['B', b] as const]) {
          const report = child.reports.find(
            (r) => r.kind === 'handling' && r.id === event.id && r.attempt > takenOverAt,
          );
          if (report?.kind === 'handling') return { name, child, attempt: report.attempt };
        }
        return undefined;
      },
      60_000,
    );
    tell(back.child, { kind: 'finish', id: event.id, attempt: back.attempt });
    await back.child.next(
      (report) => report.kind === 'settled' && report.attempt === back.attempt && report.outcome === 'ack',
      60_000,
    );
    await waitFor(
      'the group empty',
      async () => {
        const stats = await transport.stats(GROUP);
        return stats.waiting === 0 && stats.inFlight === 0 && stats.deadLettered === 0;
      },
      60_000,
      100,
    );
    return { takenOverAt, lateAck, cameBackAs: back.attempt, handledBy: back.name };
  } finally {
    for (const child of consumers) {
      child.process.kill('SIGCONT');
      await child.kill('SIGKILL');
    }
    await transport.close();
  }
}

/** Waits for a delivery of `id` to `child` whose attempt `accept`s; returns the attempt. */
async function deliveryTo(
  child: Child<FencingReport>,
  id: string,
  accept: (attempt: number) => boolean,
  timeoutMs: number,
): Promise<number> {
  const report = await child.next((r) => r.kind === 'handling' && r.id === id && accept(r.attempt), timeoutMs);
  return report.kind === 'handling' ? report.attempt : Number.NaN;
}
