/**
 * API benchmark: autocannon against `POST /v1/payments` of the real system (gateway with no added
 * latency, embedded SQLite transport), beside a floor doing the same critical-path work bare, in
 * one run. Servers run in child processes; the load comes from this one.
 *
 * Rounds alternate between the cases (floor, critical path, all services, again), each server
 * started fresh; medians are reported, and each ratio is the median of the rounds' own ratios, so
 * a noisy moment of the machine hits a case and its floor alike.
 *
 *   npm run bench:api                  a table
 *   npm run bench:api -- --json        the figures as JSON
 *   npm run bench:api -- --seconds 10 --connections 16 --rounds 3
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { median, medianRatio, roundRatios } from './support.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
  },
});
const SECONDS = Number(flags.seconds);
const CONNECTIONS = Number(flags.connections);
const ROUNDS = Number(flags.rounds);
const API_KEY = 'sk_test_bench_key_0000000000';
const log = (line: string) => {
  if (!flags.json) process.stderr.write(`${line}\n`);
};

interface ApiResult {
  name: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  ratioToFloor?: number;
}

/** Starts a server script with tsx and resolves with its base URL once /healthz answers. */
async function startServer(args: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@syncopate/source', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(?:listening|running at) (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
  return { url, child };
}

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  const body = JSON.stringify({
    amount: 1999,
    currency: 'usd',
    card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
    customer: { email: 'bench@example.com' },
  });
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/v1/payments',
            setupRequest: (request) => ({
              ...request,
              headers: {
                authorization: `Bearer ${API_KEY}`,
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
}

interface ApiCase {
  name: string;
  args: string[];
  env: () => Record<string, string>;
}

async function measure({ name, args, env }: ApiCase): Promise<ApiResult> {
  const { url, child } = await startServer(args, env());
  try {
    await load(url, Math.min(2, SECONDS)); // warm-up: JIT, connection pools, page cache
    const result = await load(url, SECONDS);
    log(`  ${name}: ${Math.round(result.requests.average)} req/s`);
    return {
      name,
      reqPerSec: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const systemEnv = (extra: Record<string, string> = {}) => ({
  DATA_DIR: mkdtempSync(join(tmpdir(), 'syncopate-bench-api-')),
  PORT: '0',
  API_KEY,
  LOG_LEVEL: 'warn',
  // The load comes from one key: the per-key rate limit would cap what is measured.
  RATE_LIMIT_MAX: '1000000',
  ...extra,
});

const cases: ApiCase[] = [
  { name: 'api-floor', args: ['bench/floor-server.ts'], env: () => ({}) },
  { name: 'payments+gateway', args: ['src/cli/main.ts', 'serve', 'gateway', 'payments'], env: () => systemEnv() },
  { name: 'all-services', args: ['src/cli/main.ts', 'start'], env: () => systemEnv() },
];
log(`API benchmark: ${ROUNDS} rounds, ${SECONDS} s per case, ${CONNECTIONS} connections`);
const rounds: ApiResult[][] = [];
for (let r = 0; r < ROUNDS; r++) {
  const round: ApiResult[] = [];
  for (const apiCase of cases) round.push(await measure(apiCase));
  rounds.push(round);
  log(`  round ${r + 1}/${ROUNDS} done`);
}
const floorRounds = rounds.map((round) => round[0]?.reqPerSec ?? Number.NaN);
const results: ApiResult[] = cases.map((apiCase, index) => {
  const own = rounds.map((round) => round[index] as ApiResult);
  const result: ApiResult = {
    name: apiCase.name,
    reqPerSec: Math.round(median(own.map((m) => m.reqPerSec))),
    p50Ms: median(own.map((m) => m.p50Ms)),
    p99Ms: median(own.map((m) => m.p99Ms)),
    non2xx: own.reduce((sum, m) => sum + m.non2xx, 0),
  };
  if (index > 0)
    result.ratioToFloor = medianRatio(
      own.map((m) => m.reqPerSec),
      floorRounds,
    );
  return result;
});
if (flags.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  console.log(
    `\n${new Date().toISOString().slice(0, 10)} · ${cpus().length} × ${cpus()[0]?.model} · Node ${process.version}`,
  );
  console.table(results);
  // The machines are noisy (single rounds have spread by a third): the median is the figure, the
  // rounds show how far to trust it.
  for (const [index, apiCase] of cases.entries()) {
    if (index === 0) continue;
    const ratios = roundRatios(
      rounds.map((round) => round[index]?.reqPerSec ?? Number.NaN),
      floorRounds,
    );
    console.log(`${apiCase.name}: ratio to the floor by round ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
  }
}
