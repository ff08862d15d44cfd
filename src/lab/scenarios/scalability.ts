import {
  awaitReceipts,
  drainQueues,
  type LabContext,
  observedLoad,
  ok,
  sleep,
  trialBase,
  waitUntil,
} from '../context.js';
import type { LabSystem } from '../lab-system.js';
import type { LoadRun } from '../load.js';
import { NOT_IN_QUICK } from '../plan.js';
import type { ScalabilityScenario, ScalabilityTrial, Skipped } from '../results.js';
import { round, summarize } from '../stats.js';

/**
 * Scenario 5: a slow side effect (each receipt takes `sideEffectLatencyMs`). Every trial is offered
 * the same load, more than email can serve: sync with its one email process; async with 1, 2 and 4
 * email processes, which send the backlog. In each round: sync, then async from the most processes
 * down to one (stopped one by one), then the processes are started again.
 */
export async function scalabilityScenario(ctx: LabContext): Promise<ScalabilityScenario | Skipped> {
  const plan = ctx.plan.scalability;
  if (!plan) return { skipped: NOT_IN_QUICK.scalability };
  const { sideEffectLatencyMs: latencyMs, processes } = plan;
  const concurrency = ctx.async.options.emailConcurrency;
  const counts = [...new Set(processes)].sort((a, b) => b - a);
  const steps = ctx.plan.trials * (counts.length + 1);
  const trials: ScalabilityTrial[] = [];
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: { fixedMs: latencyMs } })));
  try {
    for (let round = 1; round <= ctx.plan.trials; round++) {
      ctx.progress(trials.length / steps, `trial ${round}, sync`);
      trials.push(await syncTrial(ctx, round, plan));
      for (const count of counts) {
        await setEmailProcesses(ctx.async, count);
        ctx.progress(
          trials.length / steps,
          `trial ${round}, async with ${count} email process${count > 1 ? 'es' : ''}`,
        );
        trials.push(await asyncTrial(ctx, round, count, count * concurrency, plan));
      }
    }
  } finally {
    await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: null })));
    await setEmailProcesses(ctx.async, 1);
  }
  return {
    sideEffectLatencyMs: latencyMs,
    perProcessConcurrency: concurrency,
    offeredPerSec: plan.offeredPerSec,
    processes,
    trials,
  };
}

type Plan = NonNullable<LabContext['plan']['scalability']>;

async function setEmailProcesses(system: LabSystem, count: number): Promise<void> {
  while (system.emailCount > count) await system.stopEmail();
  await Promise.all(Array.from({ length: count - system.emailCount }, () => system.addEmail()));
}

/** The scenario's load on one system, watched; what it was offered and what it accepted. */
async function offeredLoad(ctx: LabContext, system: LabSystem, trial: number, processes: number, plan: Plan) {
  const observed = await observedLoad(ctx, system, {
    ratePerSec: plan.offeredPerSec,
    durationSec: plan.durationSec,
    tag: `scale${processes}-t${trial}`,
  });
  const run = observed.value;
  return {
    run,
    trial: {
      ...trialBase(system, trial, observed),
      processes,
      offered: run.records.length,
      accepted: run.records.filter(ok).length,
      chargedButFailed: run.records.filter((r) => r.status === 502).length,
      summary: summarize(run.records, plan.durationSec),
    },
  };
}

async function syncTrial(ctx: LabContext, trial: number, plan: Plan): Promise<ScalabilityTrial> {
  const { run, trial: measured } = await offeredLoad(ctx, ctx.sync, trial, 1, plan);
  // Email goes on with the calls payments gave up on (their receipts still go out): let it finish
  // before the next trial, so it does not run on that trial's time.
  let sent = -1;
  await waitUntil(ctx, async () => {
    const now = run.records.filter((r) => ctx.sink.receiptsFor(r.email).distinct > 0).length;
    const quiet = now === sent;
    sent = now;
    if (!quiet) await sleep(plan.sideEffectLatencyMs * 1.5);
    return quiet;
  });
  return { ...measured, receiptsPerSec: null, sendingAfterLoadSec: sendingAfter(ctx, run) };
}

/** Seconds from the load's end to the last receipt of its payments to arrive. */
function sendingAfter(ctx: LabContext, run: LoadRun): number {
  const last = Math.max(run.endedAt, ...run.records.map((r) => ctx.sink.arrivalOf(r.email) ?? run.endedAt));
  return round((last - run.endedAt) / 1_000, 2);
}

async function asyncTrial(
  ctx: LabContext,
  trial: number,
  processes: number,
  inFlight: number,
  plan: Plan,
): Promise<ScalabilityTrial> {
  const { run, trial: measured } = await offeredLoad(ctx, ctx.async, trial, processes, plan);
  await awaitReceipts(ctx, run.records);
  await drainQueues(ctx, ctx.async);
  const arrivals = run.records
    .filter(ok)
    .flatMap((r) => {
      const at = ctx.sink.arrivalOf(r.email);
      return at === undefined ? [] : [at];
    })
    .sort((a, b) => a - b);
  return {
    ...measured,
    receiptsPerSec: backlogRate(arrivals, inFlight, run.endedAt, plan.sideEffectLatencyMs),
    sendingAfterLoadSec: sendingAfter(ctx, run),
  };
}

/**
 * Receipts per second while a backlog waited, from the receipts' arrival times (sorted): from the
 * first receipt to the first of the last round (`inFlight` receipts are sent at once), so that
 * rounds of receipts arriving together count whole. Null when no backlog formed — the consumers
 * kept up with the load, which then measures the offered rate, not the consumers — or when there
 * were too few rounds to tell.
 */
export function backlogRate(
  arrivals: readonly number[],
  inFlight: number,
  loadEndedAt: number,
  latencyMs: number,
): number | null {
  const last = arrivals.length - inFlight;
  if (last < 2 * inFlight) return null;
  const first = arrivals[0] as number;
  const lastRound = arrivals[last] as number;
  // Still sending a round after the load ended: the consumers, not the load, set the pace.
  const backlogged = (arrivals.at(-1) as number) - loadEndedAt > latencyMs;
  if (!backlogged || lastRound <= first) return null;
  return round((last * 1_000) / (lastRound - first), 2);
}
