import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { paymentBody } from '../support/system.js';
import { waitFor } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAYMENTS = 300;
const CONCURRENCY = 8;
/** SIGTERM goes out once this many payments have been answered: mid-load, with receipts queued and in flight. */
const SIGNAL_AFTER = 100;
/** The SMTP server answers each message this late: the email consumer always has sends in flight. */
const SMTP_DELAY_MS = 50;
/**
 * A hang detector, not a bound: the shutdown deadline is 10 s and a stop overrunning four times
 * that is cut, so a process still running after this much longer never exits (a clean stop takes
 * well under a second on a quiet machine).
 */
const EXIT_WITHIN_MS = 120_000;
/** How long a process may take to start on two cores busy with other suites (seconds when quiet). */
const START_WITHIN_MS = 120_000;

interface Syncopate {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const running = new Set<ChildProcess>();

/** `syncopate start` (every service in one process), as `npm start` runs it, in a child process of its own. */
async function startSyncopate(env: Record<string, string>): Promise<Syncopate> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: ROOT,
    // The gateway beside payments answers within seconds even on a busy machine: no 202 for a timeout.
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', GATEWAY_TIMEOUT_MS: '30000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const url = await Promise.race([
    waitFor('the banner', () => /running at (http:\/\/[\d.:]+)/.exec(output)?.[1], START_WITHIN_MS),
    exited.then(({ code }) => {
      throw new Error(`syncopate exited with ${code} before it was running:\n${output}`);
    }),
  ]);
  return { child, url, exited, output: () => output };
}

/** Resolves with the exit, or fails the test if the process is still running after `ms`. */
async function exitWithin(syncopate: Syncopate, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running ${ms} ms after the signal:\n${syncopate.output().slice(-3000)}`)),
      ms,
    );
  });
  try {
    return await Promise.race([syncopate.exited, overdue]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a request can fail to get any answer from a server that has closed, or is closing, its connections. */
const CONNECTION_ERRORS = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'];

/** A 503 of a server that is shutting down: this system's own error shape, or Fastify's once it closes. */
function isShutdownRefusal(body: any): boolean {
  return body?.error?.code === 'shutting_down' || body?.error === 'Service Unavailable';
}

type Outcome =
  | { n: number; kind: 'answered'; status: number; body: any; afterSignal: boolean }
  | { n: number; kind: 'no-answer'; code: string; afterSignal: boolean }
  /** Headers came, then the body did not arrive whole (or was not the JSON it claimed to be). */
  | { n: number; kind: 'cut'; status: number; error: string };

/**
 * `count` payments, `concurrency` at a time over kept-alive connections, each to its own customer
 * (`customer-<n>@example.com`); records how each one ended instead of stopping at the first error.
 */
async function payThrough(options: {
  url: string;
  apiKey: string;
  count: number;
  concurrency: number;
  signalled: () => boolean;
  onAnswered: (answered: number) => void;
}): Promise<Outcome[]> {
  const agent = new Agent({ connections: options.concurrency });
  const outcomes: Outcome[] = [];
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < options.count) {
      const n = next++;
      const afterSignal = options.signalled();
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(`${options.url}/v1/payments`, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': `graceful-${n}`,
          },
          body: JSON.stringify(paymentBody({ customer: { email: `customer-${n}@example.com` } })),
        });
      } catch (error) {
        outcomes[n] = { n, kind: 'no-answer', code: (error as { code?: string }).code ?? String(error), afterSignal };
        continue;
      }
      try {
        outcomes[n] = {
          n,
          kind: 'answered',
          status: response.statusCode,
          body: await response.body.json(),
          afterSignal,
        };
        options.onAnswered(++answered);
      } catch (error) {
        outcomes[n] = { n, kind: 'cut', status: response.statusCode, error: String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await agent.close();
  return outcomes;
}

describe('graceful shutdown of the all-in-one process', () => {
  let smtp: TestSmtpServer | undefined;
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await smtp?.stop();
  });

  it('SIGTERM under load: exits 0; every answer is whole; after a restart every 201 has exactly one receipt and one count, and nothing was charged without a payment', async () => {
    smtp = createTestSmtpServer({ answerDelayMs: SMTP_DELAY_MS });
    await smtp.start();
    const apiKey = `sk_test_${randomBytes(12).toString('hex')}`;
    const env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'syncopate-graceful-')),
      SMTP_URL: smtp.url,
      API_KEY: apiKey,
    };
    const first = await startSyncopate(env);

    let signalled = false;
    // A client that stops sending at the signal but keeps its connection, as a browser or a proxy's
    // pool does: unless its last answer closes that connection, the server's close waits for it.
    const bystander = new Agent({ connections: 1 });
    const bystanding = (async () => {
      for (let k = 0; !signalled; k++) {
        const response = await request(`${first.url}/v1/payments`, {
          method: 'POST',
          dispatcher: bystander,
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': `b-${k}`,
          },
          body: JSON.stringify(paymentBody({ customer: { email: `bystander-${k}@example.com` } })),
        });
        await response.body.dump();
      }
    })().catch(() => {});
    const outcomes = await payThrough({
      url: first.url,
      apiKey,
      count: PAYMENTS,
      concurrency: CONCURRENCY,
      signalled: () => signalled,
      onAnswered: (answered) => {
        if (!signalled && answered >= SIGNAL_AFTER) {
          signalled = true;
          first.child.kill('SIGTERM');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(await exitWithin(first, EXIT_WITHIN_MS)).toEqual({ code: 0, signal: null });
    await bystanding;
    await bystander.close();
    // Receipts sent by then; the stop does not wait for the queue to empty.
    const receivedBeforeRestart = smtp.messages.length;

    // Every answer is whole and proper: a payment, or a 503 from the server shutting down; no 500,
    // nothing cut mid-body. A payment in flight when the signal came is finished: the gateway beside
    // it in the process still answers its charge, so none fails for want of it.
    expect(outcomes.filter((o) => o.kind === 'cut')).toEqual([]);
    const answered = outcomes.filter((o) => o.kind === 'answered');
    expect(answered.filter((o) => o.status !== 201 && o.status !== 503)).toEqual([]);
    const refused = answered.filter((o) => o.status === 503);
    expect(refused.filter((o) => !isShutdownRefusal(o.body))).toEqual([]);
    const paid = answered.filter((o) => o.status === 201);
    for (const o of paid) expect(o.body).toMatchObject({ object: 'payment', status: 'succeeded' });
    // No answer: the connection was refused after the close, or closed idle under a request in
    // transit (the keep-alive race every server has). Before the signal, at most one per connection.
    const unanswered = outcomes.filter((o) => o.kind === 'no-answer');
    expect(unanswered.filter((o) => !CONNECTION_ERRORS.includes(o.code))).toEqual([]);
    expect(unanswered.filter((o) => !o.afterSignal).length).toBeLessThanOrEqual(CONCURRENCY);
    expect(paid.length).toBeGreaterThanOrEqual(SIGNAL_AFTER);

    // The restart finds the work the first process did not get to, and does it.
    const second = await startSyncopate(env);
    const api = async (path: string) => {
      const response = await request(`${second.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect(response.statusCode).toBe(200);
      return (await response.body.json()) as any;
    };
    const succeeded: Array<{ id: string; customer: { email: string } }> = [];
    let after = '';
    for (;;) {
      const page = await api(`/v1/payments?limit=100${after ? `&starting_after=${after}` : ''}`);
      succeeded.push(...page.data.filter((p: { status: string }) => p.status === 'succeeded'));
      if (!page.has_more) break;
      after = page.data.at(-1).id;
    }
    // The restart has queued receipts to send, not only the first process's in-flight ones to finish.
    expect(receivedBeforeRestart).toBeLessThan(succeeded.length);
    const succeededEmails = new Set(succeeded.map((p) => p.customer.email));
    expect(succeededEmails.size).toBe(succeeded.length);
    for (const o of paid) expect(succeededEmails).toContain(`customer-${o.n}@example.com`);
    // A 503 charged nothing and left no payment behind.
    for (const o of refused) {
      expect(succeededEmails).not.toContain(`customer-${o.n}@example.com`);
    }

    const usdSucceeded = async () =>
      (await api('/v1/analytics/summary')).totals.find((t: { currency: string }) => t.currency === 'usd')
        ?.succeeded_count ?? 0;
    await waitFor(
      'a receipt for every succeeded payment',
      () => smtp && smtp.messages.length >= succeeded.length,
      120_000,
    );
    await waitFor('analytics to count every succeeded payment', async () => (await usdSucceeded()) >= succeeded.length);

    // Exactly one receipt per succeeded payment: none lost, and none sent twice (a graceful stop
    // leaves no send unrecorded, so not even a same-Message-ID resend); and each counted once.
    const receipts = new Map<string, number>();
    for (const mail of smtp.messages) receipts.set(mail.to ?? '', (receipts.get(mail.to ?? '') ?? 0) + 1);
    expect([...succeededEmails].filter((to) => receipts.get(to) !== 1)).toEqual([]);
    expect(smtp.messages).toHaveLength(succeeded.length);
    expect(await usdSucceeded()).toBe(succeeded.length);
    console.info(
      `graceful shutdown: ${paid.length} answered 201, ${refused.length} answered 503, ` +
        `${unanswered.length} unanswered; ${succeeded.length} payments; ` +
        `${receivedBeforeRestart} receipts before the restart, ${smtp.messages.length} after`,
    );

    // SIGINT (Ctrl-C) stops as cleanly.
    second.child.kill('SIGINT');
    expect(await exitWithin(second, EXIT_WITHIN_MS)).toEqual({ code: 0, signal: null });
    // Once both have stopped: the gateway charged exactly the succeeded payments, nothing more.
    const gateway = new Database(join(env.DATA_DIR, 'gateway.db'), { readonly: true });
    try {
      expect(gateway.prepare("SELECT count(*) FROM charges WHERE status = 'succeeded'").pluck().get()).toBe(
        succeeded.length,
      );
    } finally {
      gateway.close();
    }
  }, 600_000);
});
