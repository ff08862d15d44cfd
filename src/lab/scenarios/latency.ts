import { interleaved, type LabContext, loadTrial } from '../context.js';
import type { LatencyScenario, SlowdownScenario } from '../results.js';

/** Scenario 1: steady load at several rates; each rate's trials interleaved. */
export async function latencyScenario(ctx: LabContext): Promise<LatencyScenario> {
  const { rates, durationSec } = ctx.plan.latency;
  const points: LatencyScenario['points'] = [];
  for (const [i, ratePerSec] of rates.entries()) {
    const trials = await interleaved(
      ctx,
      async (system, trial) =>
        (
          await loadTrial(ctx, system, trial, {
            ratePerSec,
            durationSec,
            tag: `latency${ratePerSec}`,
            keepLatencies: true,
          })
        ).trial,
      ctx.plan.trials,
      { from: i / rates.length, span: 1 / rates.length },
    );
    points.push({ ratePerSec, trials });
  }
  return { durationSec, points };
}

/** Scenario 2: email answers slower; what each mode's response time, and async's receipts, do. */
export async function slowdownScenario(ctx: LabContext): Promise<SlowdownScenario> {
  const { ratePerSec, durationSec, addedLatencyMs } = ctx.plan.slowdown;
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: { fixedMs: addedLatencyMs } })));
  try {
    const trials = await interleaved(
      ctx,
      async (system, trial) => (await loadTrial(ctx, system, trial, { ratePerSec, durationSec, tag: 'slow' })).trial,
    );
    return { addedLatencyMs, ratePerSec, durationSec, trials };
  } finally {
    await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: null })));
  }
}
