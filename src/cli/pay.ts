import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

export interface PayOptions {
  url: string;
  key?: string;
  count: number;
  concurrency: number;
  card: string;
  amount: number;
  currency: string;
}

/**
 * `syncopate pay`: a bounded load of real payments (autocannon does the load, with its progress
 * bar), each with its own Idempotency-Key. Returns the process exit code.
 */
export async function pay(options: PayOptions): Promise<number> {
  if (!options.key) {
    process.stderr.write('syncopate pay: give an API key with --key or API_KEY\n');
    return 2;
  }
  const year = new Date().getUTCFullYear() + 5;
  const body = JSON.stringify({
    amount: options.amount,
    currency: options.currency,
    card: { number: options.card, exp_month: 12, exp_year: year, cvc: options.card.startsWith('3') ? '1234' : '123' },
    customer: { email: 'load@example.com' },
    description: 'syncopate pay',
  });
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        // autocannon refuses more connections than requests.
        connections: Math.min(options.concurrency, options.count),
        amount: options.count,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/v1/payments',
            setupRequest: (request) => ({
              ...request,
              headers: {
                authorization: `Bearer ${options.key}`,
                'content-type': 'application/json',
                'idempotency-key': randomUUID(),
              },
              body,
            }),
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  // autocannon notices the last answer only at its next one-second tick, so its duration (and its
  // per-second average) is rounded up to whole seconds: the rate is timed here, to the last answer.
  const startedAt = performance.now();
  let lastAnswerAt = startedAt;
  instance.on('response', () => {
    lastAnswerAt = performance.now();
  });
  autocannon.track(instance, { renderProgressBar: true, renderResultsTable: false, renderLatencyTable: false });
  const result = await finished;
  const seconds = Math.max(lastAnswerAt - startedAt, 1) / 1000;
  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([status, { count }]) => `${status}: ${count}`)
    .join(', ');
  process.stdout.write(
    [
      '',
      `payments sent: ${result.requests.sent} in ${seconds.toFixed(2)} s (${Math.round(result.requests.sent / seconds)} per second)`,
      `latency ms: p50 ${result.latency.p50}  p90 ${result.latency.p90}  p99 ${result.latency.p99}  max ${result.latency.max}`,
      `statuses: ${statuses || 'none'}; connection errors: ${result.errors}; timeouts: ${result.timeouts}`,
      ...(result.statusCodeStats?.['429']
        ? [
            "429 is the server's per-key rate limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS): start the server with a higher RATE_LIMIT_MAX for a load test",
          ]
        : []),
      '',
    ].join('\n'),
  );
  return result.errors > 0 || result.timeouts > 0 ? 1 : 0;
}
