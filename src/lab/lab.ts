import { cpus, totalmem } from 'node:os';
import { LabSystem } from './lab-system.js';
import { MailSink } from './mail-sink.js';
import type { LabReport } from './results.js';
import {
  addFourthSideEffect,
  couplingAfter,
  couplingBefore,
  crashScenario,
  type LabContext,
  latencyScenario,
  outageScenario,
  PLANS,
  scalabilityScenario,
  slowDownstreamScenario,
} from './scenarios.js';
import { verdictsOf } from './verdicts.js';

export interface LabOptions {
  quick: boolean;
  /** TRANSPORT_URL of the async system; default the embedded SQLite queue. */
  transportUrl?: string;
}

export const SCENARIOS = [
  'starting both systems',
  'latency',
  'slow downstream',
  'downstream down',
  'scalability',
  'crash',
  'coupling',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface LabProgress {
  /** `fraction` of `scenario` done (0–1), with an optional word on what it is doing. */
  update(scenario: ScenarioName, fraction: number, detail?: string): void;
}

/**
 * Runs the sync system and the async system side by side on this machine, loads both with the
 * same request streams through the six scenarios, and returns what was measured with the verdicts.
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
        emailProcesses: 1,
        emailConcurrency: 4,
        ...(options.transportUrl ? { transportUrl: options.transportUrl } : {}),
      }).then((system) => {
        systems.push(system);
        return system;
      });
    const [sync, async] = await Promise.all([start('sync'), start('async')]);
    progress.update('starting both systems', 1);
    let current: ScenarioName = 'latency';
    const ctx: LabContext = {
      sync,
      async,
      sink,
      plan,
      progress: (fraction, detail) => progress.update(current, fraction, detail),
    };
    const step = async <T>(name: ScenarioName, run: () => Promise<T>): Promise<T> => {
      current = name;
      progress.update(name, 0);
      const result = await run();
      progress.update(name, 1);
      return result;
    };
    const latency = await step('latency', () => latencyScenario(ctx));
    // The email processes the scalability scenario scales down from start while the next two
    // scenarios run (they measure error rates and response times of requests email is not on).
    const extraEmails = Promise.all(
      Array.from({ length: Math.max(...plan.scalability.processes) - 1 }, () => async.addEmail()),
    );
    const slowDownstream = await step('slow downstream', () => slowDownstreamScenario(ctx));
    const outage = await step('downstream down', () => outageScenario(ctx));
    await extraEmails;
    const scalability = await step('scalability', () => scalabilityScenario(ctx));
    // Coupling is measured around the crash scenario: its fourth side effect boots while the crash
    // scenario (which counts, and does not time) runs.
    current = 'coupling';
    progress.update('coupling', 0);
    const couplingFirst = await couplingBefore(ctx);
    const fourth = addFourthSideEffect(ctx);
    const crash = await step('crash', () => crashScenario(ctx));
    await fourth;
    current = 'coupling';
    const coupling = await couplingAfter(ctx, couplingFirst);
    progress.update('coupling', 1);
    const measured = {
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
      latency,
      slowDownstream,
      outage,
      scalability,
      crash,
      coupling,
    };
    return { ...measured, verdicts: verdictsOf(measured) };
  } finally {
    await Promise.all(systems.map((system) => system.stop()));
    await sink.stop();
  }
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
