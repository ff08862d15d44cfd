/**
 * A consumer process for the fencing test: reports each delivery to its parent and finishes or
 * fails it only when the parent says so, so the parent can stop it (SIGSTOP) with a message in
 * hand, and decide what each holder of the message does.
 */
import { openTransport } from '@syncopate/messaging';
import '../../src/app/transports.js';
import { Probe } from './load.js';

export interface FencingConsumerConfig {
  url: string;
  group: string;
  leaseMs: number;
}

export type FencingReport =
  | { kind: 'ready' }
  | { kind: 'handling'; id: string; attempt: number }
  /** After the runner settled the attempt with the transport (or tried to: see `machinery-error`). */
  | { kind: 'settled'; id: string; attempt: number; outcome: string }
  /** A settle, lease extension or claim that the transport rejected. */
  | { kind: 'machinery-error'; operation: string; message: string };

export type FencingCommand = { kind: 'finish' | 'fail'; id: string; attempt: number } | { kind: 'close' };

const config = JSON.parse(process.argv[2] ?? '{}') as FencingConsumerConfig;
const send = (report: FencingReport) => process.send?.(report);
const verdicts = new Map<string, (verdict: 'finish' | 'fail') => void>();
const early = new Map<string, 'finish' | 'fail'>();

const transport = await openTransport(config.url);
await transport.subscribe({
  group: config.group,
  events: [Probe],
  // One message at a time: what this process holds is exactly the message under test.
  concurrency: 1,
  maxAttempts: 10,
  leaseMs: config.leaseMs,
  backoff: { initialDelayMs: 10, maxDelayMs: 20 },
  handlerTimeoutMs: 600_000,
  handler: async ({ event, attempt }) => {
    send({ kind: 'handling', id: event.id, attempt });
    const key = `${event.id}/${attempt}`;
    const verdict = early.get(key) ?? (await new Promise<'finish' | 'fail'>((resolve) => verdicts.set(key, resolve)));
    if (verdict === 'fail') throw new Error('the test told this consumer to fail');
  },
  hooks: {
    onSettled: (report) =>
      send({ kind: 'settled', id: report.eventId, attempt: report.attempt, outcome: report.outcome.kind }),
    onError: (error, operation) => send({ kind: 'machinery-error', operation, message: (error as Error).message }),
  },
});

process.on('message', async (command: FencingCommand) => {
  if (command.kind === 'close') {
    await transport.close({ deadlineMs: 1_000 });
    process.disconnect();
    return;
  }
  const key = `${command.id}/${command.attempt}`;
  const resolve = verdicts.get(key);
  if (resolve) resolve(command.kind);
  else early.set(key, command.kind);
});
send({ kind: 'ready' });
