import { cpus, totalmem } from 'node:os';
import { conclude } from './conclude.js';
import { type LabContext, queueRows, warmUp } from './context.js';
import { LabSystem, SYNC_CALL_TIMEOUT_MS } from './lab-system.js';
import { MachineMonitor } from './machine.js';
import { MailSink } from './mail-sink.js';
import { PLANS } from './plan.js';
import { LAB_REPORT_VERSION, type LabReport, type Measured, type MovingParts } from './results.js';
import { couplingScenario } from './scenarios/coupling.js';
import { crashScenario } from './scenarios/crash.js';
import { latencyScenario, slowdownScenario } from './scenarios/latency.js';
import { outageScenario } from './scenarios/outage.js';
import { readYourWritesScenario } from './scenarios/read-your-writes.js';
import { scalabilityScenario } from './scenarios/scalability.js';

export interface LabOptions {
  quick: boolean;
  /** TRANSPORT_URL of the async system; default the embedded SQLite queue. */
  transportUrl?: string;
}

export const SCENARIOS = [
  'starting both systems',
  'latency',
  'slowdown',
  'downstream down',
  'read-your-writes',
  'crash',
  'scalability',
  'coupling',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface LabProgress {
  /** `fraction` of `scenario` done (0–1), with an optional word on what it is doing. */
  update(scenario: ScenarioName, fraction: number, detail?: string): void;
}

/** Receipts each email process sends at once. */
const EMAIL_CONCURRENCY = 4;

/**
 * Runs the sync system and the async system side by side on this machine, and takes them through
 * the scenarios, each point's trials interleaved (sync, async, sync, async, …) while it watches the
 * machine; returns every trial, the verdicts drawn from them, what async costs, and the noise.
 */
export async function runLab(options: LabOptions, progress: LabProgress): Promise<LabReport> {
  const startedAt = new Date().toISOString();
  const plan = PLANS[options.quick ? 'quick' : 'full'];
  const sink = new MailSink();
  await sink.start();
  progress.update('starting both systems', 0);
  const systems: LabSystem[] = [];
  try {
    const start = (mode: 'sync' | 'async') =>
      LabSystem.start({
        mode,
        smtpUrl: sink.url,
        emailConcurrency: EMAIL_CONCURRENCY,
        ...(options.transportUrl ? { transportUrl: options.transportUrl } : {}),
      }).then((system) => {
        systems.push(system);
        return system;
      });
    const [sync, async] = await Promise.all([start('sync'), start('async')]);
    const processes = { sync: sync.describe(), async: async.describe() };
    let current: ScenarioName = 'starting both systems';
    const ctx: LabContext = {
      sync,
      async,
      sink,
      plan,
      monitor: new MachineMonitor(),
      scenario: 'warm-up',
      peaks: { depth: 0, depthIn: '', lagMs: 0, lagIn: '' },
      progress: (fraction, detail) => progress.update(current, fraction, detail),
    };
    ctx.progress(0.5, 'warming up');
    // At the middle rate: enough requests to warm what the trials will run (JIT, pools).
    const rates = plan.latency.rates;
    await warmUp(ctx, rates[Math.floor(rates.length / 2)] ?? 10, plan.warmupSec);
    progress.update('starting both systems', 1);
    const step = async <T>(name: ScenarioName, run: () => Promise<T>): Promise<T> => {
      current = name;
      ctx.scenario = name;
      progress.update(name, 0);
      const result = await run();
      progress.update(name, 1);
      return result;
    };
    const latency = await step('latency', () => latencyScenario(ctx));
    const slowdown = await step('slowdown', () => slowdownScenario(ctx));
    const outage = await step('downstream down', () => outageScenario(ctx));
    // The crash scenario's extra email consumers (one to kill per trial) boot meanwhile: the probes
    // time nothing that depends on them. And they go before coupling, which takes reports away.
    const spares = Promise.all(Array.from({ length: plan.trials }, () => ctx.async.addEmail()));
    spares.catch(() => {}); // awaited below
    const readYourWrites = await step('read-your-writes', () => readYourWritesScenario(ctx));
    await spares;
    const crash = await step('crash', () => crashScenario(ctx));
    const scalability = await step('scalability', () => scalabilityScenario(ctx));
    const coupling = await step('coupling', () => couplingScenario(ctx));
    const movingParts = await movingPartsOf(ctx, processes);
    const measured: Measured = {
      version: LAB_REPORT_VERSION,
      startedAt,
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: process.platform,
      },
      transport: options.transportUrl ? redact(options.transportUrl) : 'sqlite (embedded)',
      trials: plan.trials,
      latency,
      slowdown,
      outage,
      crash,
      scalability,
      readYourWrites,
      coupling,
      movingParts,
    };
    return conclude(measured);
  } finally {
    await Promise.all(systems.map((system) => system.stop()));
    await sink.stop();
  }
}

async function movingPartsOf(ctx: LabContext, processes: MovingParts['processes']): Promise<MovingParts> {
  const rows = await queueRows(ctx.async);
  return {
    processes,
    consumerGroups: rows.map((row) => row.group),
    peakDepth: { events: ctx.peaks.depth, during: ctx.peaks.depthIn },
    peakLagMs: { ms: ctx.peaks.lagMs, during: ctx.peaks.lagIn },
    deadLettered: rows.reduce((sum, row) => sum + row.dead_lettered, 0),
    syncCallTimeoutMs: SYNC_CALL_TIMEOUT_MS,
  };
}

/** A URL's password does not belong in a report. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
