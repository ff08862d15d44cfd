import {
  awaitReceipts,
  countReceipts,
  drainQueues,
  interleaved,
  type LabContext,
  loadTrial,
  ok,
  waitUntil,
} from '../context.js';
import type { LabSystem } from '../lab-system.js';
import type { OutageScenario, OutageTrial } from '../results.js';
import { isError, round } from '../stats.js';

/** Payments analytics has counted, all currencies together. */
export async function analyticsCount(system: LabSystem): Promise<number> {
  const summary = await system.get<{ totals: { succeeded_count: number }[] }>('/v1/analytics/summary', {
    base: system.urlOf('analytics'),
  });
  return summary.totals.reduce((sum, t) => sum + t.succeeded_count, 0);
}

/**
 * Scenario 3: email down for the whole of every trial; what the client sees in each mode, and,
 * once email is back, what became of the async side effects.
 */
export async function outageScenario(ctx: LabContext): Promise<OutageScenario> {
  const { ratePerSec, durationSec } = ctx.plan.outage;
  const analyticsBefore = await analyticsCount(ctx.async);
  const setDown = (down: boolean) => Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ down })));
  await setDown(true);
  let loads: Awaited<ReturnType<typeof loadTrial>>[];
  let upAt: number;
  try {
    // No drain between trials: the async receipts wait, retrying, until email is back.
    loads = await interleaved(
      ctx,
      (system, trial) => loadTrial(ctx, system, trial, { ratePerSec, durationSec, tag: 'outage', drain: false }),
      ctx.plan.trials,
      { from: 0, span: 0.8 },
    );
  } finally {
    await setDown(false);
    upAt = performance.now();
  }
  ctx.progress(0.85, 'async receipts after recovery');
  const asyncRecords = loads.filter((l) => l.trial.mode === 'async').flatMap((l) => l.run.records);
  const receipts = await awaitReceipts(ctx, asyncRecords, { duplicates: true });
  const arrivals = asyncRecords.filter(ok).map((r) => ctx.sink.arrivalOf(r.email) ?? upAt);
  // Analytics is a side effect too: counted once per payment, whatever the redeliveries.
  await waitUntil(ctx, async () => (await analyticsCount(ctx.async)) - analyticsBefore >= receipts.payments);
  const analyticsCounted = (await analyticsCount(ctx.async)) - analyticsBefore;
  await drainQueues(ctx, ctx.async);
  const trials = loads.map(({ trial, run }): OutageTrial => {
    const { mode, startedAt, machine, summary } = trial;
    return {
      mode,
      trial: trial.trial,
      startedAt,
      machine,
      summary,
      errorRate:
        run.records.length === 0
          ? 0
          : round(run.records.filter((r) => isError(r.status)).length / run.records.length, 3),
      // A 502 side_effect_failed in sync mode comes after the charge and the commit.
      chargedButFailed: run.records.filter((r) => r.status === 502).length,
      ...(mode === 'async' ? { receipts: countReceipts(ctx, run.records.filter(ok)) } : {}),
    };
  });
  return {
    ratePerSec,
    durationSec,
    trials,
    afterRecovery: { ...receipts, analyticsCounted },
    recoverySec: round(Math.max(0, Math.max(upAt, ...arrivals) - upAt) / 1_000, 2),
  };
}
