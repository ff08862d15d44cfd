/**
 * A consumer in a process of its own, driven by the contract suite over IPC: it proves what only
 * real processes can (competing consumers, a consumer killed mid-handler, shared durable state).
 */
import { createTransport } from '../driven-transport.js';
import type { TransportDriver } from '../transport.js';
import { TestHappened } from './events.js';

export interface WorkerConfig {
  /** The target's `driverModule`, as a file: URL or a specifier; its `openDriver` opens the driver. */
  driverModule: string;
  namespace: string;
  group: string;
  /** `record` handles and reports; `hang` reports the start and never finishes. */
  mode: 'record' | 'hang';
  concurrency: number;
  leaseMs: number;
  handlerDelayMs?: number;
}

export type WorkerReport =
  | { kind: 'ready' }
  | { kind: 'started'; id: string; n: number; attempt: number }
  | { kind: 'handled'; id: string; n: number; attempt: number; pid: number }
  | { kind: 'closed' };

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const send = (report: WorkerReport) => process.send?.(report);

const { openDriver } = (await import(config.driverModule)) as {
  openDriver(namespace: string): Promise<TransportDriver>;
};
const transport = createTransport(await openDriver(config.namespace));
await transport.subscribe({
  group: config.group,
  events: [TestHappened],
  concurrency: config.concurrency,
  leaseMs: config.leaseMs,
  handler: async ({ event, attempt }) => {
    send({ kind: 'started', id: event.id, n: event.data.n, attempt });
    if (config.mode === 'hang') await new Promise(() => {});
    if (config.handlerDelayMs) await new Promise((resolve) => setTimeout(resolve, config.handlerDelayMs));
    send({ kind: 'handled', id: event.id, n: event.data.n, attempt, pid: process.pid });
  },
});
process.on('message', async (command) => {
  if (command === 'close') {
    await transport.close({ deadlineMs: 5_000 });
    send({ kind: 'closed' });
    process.disconnect();
  }
});
send({ kind: 'ready' });
