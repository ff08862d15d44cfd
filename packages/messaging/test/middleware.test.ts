import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { type AttemptReport, type Middleware, openTransport } from '../src/index.js';
import { happened, TestHappened } from '../src/testing/events.js';

describe('middleware and hooks', () => {
  it('wraps the handler outermost-first and reports every attempt with its outcome', async () => {
    const transport = await openTransport('memory:');
    const trail: string[] = [];
    const named =
      (name: string): Middleware =>
      (next) =>
      async (message) => {
        trail.push(`${name}>${message.attempt}`);
        try {
          await next(message);
        } finally {
          trail.push(`<${name}`);
        }
      };
    const reports: AttemptReport[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      backoff: { initialDelayMs: 1, maxDelayMs: 5 },
      middleware: [named('tracing'), named('metrics')],
      hooks: { onSettled: (report) => reports.push(report) },
      handler: ({ attempt }) => {
        trail.push('handler');
        if (attempt === 1) throw new Error('first attempt fails');
      },
    });
    const event = happened(1);
    await transport.publish(event);
    await waitFor('two attempts reported', () => reports.length === 2);
    expect(trail).toEqual([
      'tracing>1',
      'metrics>1',
      'handler',
      '<metrics',
      '<tracing',
      'tracing>2',
      'metrics>2',
      'handler',
      '<metrics',
      '<tracing',
    ]);
    expect(reports.map((r) => [r.eventId, r.attempt, r.outcome.kind])).toEqual([
      [event.id, 1, 'retry'],
      [event.id, 2, 'ack'],
    ]);
    expect(reports[0]?.outcome).toMatchObject({ error: 'first attempt fails' });
    await transport.close();
  });
});
