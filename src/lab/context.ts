import type { QueueRow } from '../app/dead-letter-routes.js';
import type { LabSystem } from './lab-system.js';
import { type LoadRun, type PaymentRecord, runLoad } from './load.js';
import type { MachineMonitor, ProcessGroups } from './machine.js';
import type { MailSink } from './mail-sink.js';
import type { LabPlan } from './plan.js';
import type { LoadTrial, MachineUse, Mode, QueueSample, SideEffectCount, TrialBase } from './results.js';
import { round, summarize } from './stats.js';

/** What every scenario works with. */
export interface LabContext {
  sync: LabSystem;
  async: LabSystem;
  sink: MailSink;
  plan: LabPlan;
  monitor: MachineMonitor;
  /** The scenario running now. */
  scenario: string;
  /** The async queues' extremes over the whole run, and the scenario each was seen in (the moving parts to watch). */
  peaks: { depth: number; depthIn: string; lagMs: number; lagIn: string };
  /** Reports the current scenario's progress, 0 to 1. */
  progress(fraction: number, detail?: string): void;
}

export const MODES: readonly Mode[] = ['sync', 'async'];

export const systemOf = (ctx: LabContext, mode: Mode): LabSystem => (mode === 'sync' ? ctx.sync : ctx.async);

export const ok = (r: PaymentRecord) => r.status >= 200 && r.status < 300;
/** Waits `ms`, or less if `signal` aborts first. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });

/**
 * Runs `count` rounds of one trial per mode, one after the other — sync, async, sync, async, … —
 * so that whatever else the machine does drifts over both modes alike; returns the trials in order.
 */
export async function interleaved<T>(
  ctx: LabContext,
  run: (system: LabSystem, trial: number) => Promise<T>,
  count = ctx.plan.trials,
  progress: { from: number; span: number } = { from: 0, span: 1 },
): Promise<T[]> {
  const results: T[] = [];
  for (let trial = 1; trial <= count; trial++) {
    for (const mode of MODES) {
      const step = results.length;
      ctx.progress(progress.from + (progress.span * step) / (count * MODES.length), `trial ${trial}, ${mode}`);
      results.push(await run(systemOf(ctx, mode), trial));
    }
  }
  return results;
}

/** Runs `work` while watching the machine's CPUs and, in async mode, the queues. */
export async function observe<T>(
  ctx: LabContext,
  system: LabSystem,
  work: () => Promise<T>,
): Promise<{ value: T; startedAt: string; machine: MachineUse; queues?: QueueSample }> {
  const startedAt = new Date().toISOString();
  const trialBefore = system.pids();
  const start = ctx.monitor.snapshot(allPids(ctx));
  const done = new AbortController();
  const queues: QueueSample = { maxDepth: 0, maxLagMs: 0 };
  const sampler =
    system.mode === 'async'
      ? (async () => {
          while (!done.signal.aborted) {
            const state = await queueState(system).catch(() => undefined);
            if (state) {
              queues.maxDepth = Math.max(queues.maxDepth, state.depth);
              queues.maxLagMs = Math.max(queues.maxLagMs, state.lagMs);
            }
            await sleep(250, done.signal);
          }
        })()
      : undefined;
  let value: T;
  try {
    value = await work();
  } finally {
    done.abort();
  }
  // Processes may have come and gone during the trial (a crash, a replacement): count them all.
  const end = ctx.monitor.snapshot(allPids(ctx));
  await sampler;
  const trialPids = union(trialBefore, system.pids());
  const machine = ctx.monitor.between(start, end, trialPids, [...start.processes.keys(), ...end.processes.keys()]);
  if (system.mode !== 'async') return { value, startedAt, machine };
  if (queues.maxDepth > ctx.peaks.depth) Object.assign(ctx.peaks, { depth: queues.maxDepth, depthIn: ctx.scenario });
  if (queues.maxLagMs > ctx.peaks.lagMs) Object.assign(ctx.peaks, { lagMs: queues.maxLagMs, lagIn: ctx.scenario });
  return { value, startedAt, machine, queues };
}

function allPids(ctx: LabContext): number[] {
  return [ctx.sync, ctx.async].flatMap((s) => {
    const { requestPath, sideEffects } = s.pids();
    return [...requestPath, ...sideEffects];
  });
}

function union(a: ProcessGroups, b: ProcessGroups): ProcessGroups {
  return {
    requestPath: [...new Set([...a.requestPath, ...b.requestPath])],
    sideEffects: [...new Set([...a.sideEffects, ...b.sideEffects])],
  };
}

export async function queueRows(system: LabSystem): Promise<QueueRow[]> {
  return (await system.get<{ data: QueueRow[] }>('/v1/admin/queues', { admin: true })).data;
}

/** Events not yet handled, all consumer groups together (but those stopped on purpose), and the longest wait. */
async function queueState(system: LabSystem): Promise<{ depth: number; lagMs: number; inFlight: Map<string, number> }> {
  const rows = (await queueRows(system)).filter((row) => !system.pausedGroups.has(row.group));
  return {
    depth: rows.reduce((sum, row) => sum + row.waiting + (row.delayed ?? 0) + row.in_flight, 0),
    lagMs: Math.max(0, ...rows.map((row) => row.oldest_waiting_age_ms ?? 0)),
    inFlight: new Map(rows.map((row) => [row.group, row.in_flight])),
  };
}

/** Receipts one email group holds, claimed and not yet done. */
export async function inFlight(system: LabSystem, group: string): Promise<number> {
  return (await queueState(system)).inFlight.get(group) ?? 0;
}

/** Waits until the async system's queues hold nothing (or the drain timeout): the next trial starts clean. */
export async function drainQueues(ctx: LabContext, system: LabSystem): Promise<void> {
  if (system.mode !== 'async') return;
  await waitUntil(ctx, async () => (await queueState(system).catch(() => undefined))?.depth === 0);
}

export async function waitUntil(ctx: LabContext, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + ctx.plan.drainTimeoutSec * 1_000;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

/**
 * Waits until every accepted payment's receipt is at the mail sink (or the timeout), then counts;
 * `duplicates`: a moment more first, so a receipt sent twice is counted twice.
 */
export async function awaitReceipts(
  ctx: LabContext,
  records: readonly PaymentRecord[],
  options: { duplicates?: boolean } = {},
): Promise<SideEffectCount> {
  const accepted = records.filter(ok);
  const all = await waitUntil(ctx, () => accepted.every((r) => ctx.sink.receiptsFor(r.email).distinct > 0));
  if (options.duplicates && accepted.length > 0 && all) await sleep(500);
  return countReceipts(ctx, accepted);
}

export function countReceipts(ctx: LabContext, accepted: readonly PaymentRecord[]): SideEffectCount {
  const counts = accepted.map((r) => ctx.sink.receiptsFor(r.email));
  return {
    payments: accepted.length,
    deliveredOnce: counts.filter((c) => c.distinct === 1).length,
    lost: counts.filter((c) => c.distinct === 0).length,
    duplicated: counts.filter((c) => c.distinct > 1).length,
    resends: counts.reduce((sum, c) => sum + Math.max(0, c.total - c.distinct), 0),
  };
}

/** Per payment answered 201: from the answer to its first receipt at the mail sink, ms, sorted. */
export function receiptsAfterAnswer(ctx: LabContext, records: readonly PaymentRecord[]): number[] {
  return records
    .filter(ok)
    .flatMap((r) => {
      const arrived = ctx.sink.arrivalOf(r.email);
      return arrived === undefined ? [] : [round(arrived - r.answeredAt, 1)];
    })
    .sort((a, b) => a - b);
}

export interface LoadTrialOptions {
  ratePerSec: number;
  durationSec: number;
  tag: string;
  /** Keep every response time (the latency scenario's percentile curve). */
  keepLatencies?: boolean;
  /** Wait for the side effects to finish before returning (default), or leave them (an outage). */
  drain?: boolean;
}

/** A steady load on one system while the machine (and the queues) are watched; `tag` gets the mode added. */
export function observedLoad(
  ctx: LabContext,
  system: LabSystem,
  load: { ratePerSec: number; durationSec: number; tag: string },
): ReturnType<typeof observe<LoadRun>> {
  return observe(ctx, system, () =>
    runLoad({ url: system.url, apiKey: system.apiKey, ...load, tag: `${load.tag}-${system.mode}` }),
  );
}

/** What every trial records of itself: which system, which trial, when, what the machine did. */
export function trialBase(
  system: LabSystem,
  trial: number,
  observed: { startedAt: string; machine: MachineUse },
): TrialBase {
  return { mode: system.mode, trial, startedAt: observed.startedAt, machine: observed.machine };
}

/** One trial: a steady load on one system, watched, then (by default) drained. */
export async function loadTrial(
  ctx: LabContext,
  system: LabSystem,
  trial: number,
  options: LoadTrialOptions,
): Promise<{ trial: LoadTrial; run: LoadRun }> {
  const { ratePerSec, durationSec } = options;
  const observed = await observedLoad(ctx, system, { ratePerSec, durationSec, tag: `${options.tag}-t${trial}` });
  const run = observed.value;
  if (options.drain !== false) {
    await awaitReceipts(ctx, run.records);
    await drainQueues(ctx, system);
  }
  const summary = summarize(run.records, durationSec);
  return {
    run,
    trial: {
      ...trialBase(system, trial, observed),
      ratePerSec,
      durationSec,
      summary,
      ...(options.keepLatencies
        ? {
            latenciesMs: run.records
              .filter(ok)
              .map((r) => round(r.latencyMs, 1))
              .filter(Number.isFinite)
              .sort((a, b) => a - b),
          }
        : {}),
      receiptAfterAnswerMs: options.drain === false ? [] : receiptsAfterAnswer(ctx, run.records),
      ...(observed.queues ? { queues: observed.queues } : {}),
    },
  };
}

/** An unmeasured load on both systems at once: JIT, pools and caches warm before the first trial. */
export async function warmUp(ctx: LabContext, ratePerSec: number, durationSec: number, tag = 'warmup'): Promise<void> {
  if (durationSec <= 0) return;
  await Promise.all(
    MODES.map(async (mode) => {
      const system = systemOf(ctx, mode);
      const run = await runLoad({
        url: system.url,
        apiKey: system.apiKey,
        ratePerSec,
        durationSec,
        tag: `${tag}-${mode}`,
      });
      await awaitReceipts(ctx, run.records);
      await drainQueues(ctx, system);
    }),
  );
}
