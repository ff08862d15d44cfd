import { awaitReceipts, drainQueues, inFlight, type LabContext, observe, sleep, trialBase } from '../context.js';
import { runLoad } from '../load.js';
import type { CrashScenario, CrashTrial } from '../results.js';

/**
 * Scenario 4, async only: the at-least-once price. In each trial an email consumer is killed with
 * SIGKILL a third into the load, while it holds receipts, and a new one is started. The mail server
 * waits a moment before confirming each receipt, as a remote one does, so some kills land after
 * the server has a receipt and before the consumer has recorded it: those receipts are sent again.
 * Sync mode has no counterpart (nothing is redelivered; its requests fail instead, as in the outage).
 */
export async function crashScenario(ctx: LabContext): Promise<CrashScenario> {
  const { ratePerSec, durationSec, smtpReplyDelayMs } = ctx.plan.crash;
  const system = ctx.async;
  ctx.sink.replyDelayMs = smtpReplyDelayMs;
  const trials: CrashTrial[] = [];
  try {
    for (let trial = 1; trial <= ctx.plan.trials; trial++) {
      ctx.progress((trial - 1) / ctx.plan.trials, `kill ${trial} of ${ctx.plan.trials}`);
      let inFlightAtKill = 0;
      const observed = await observe(ctx, system, async () => {
        const load = runLoad({
          url: system.url,
          apiKey: system.apiKey,
          ratePerSec,
          durationSec,
          tag: `crash-t${trial}`,
        });
        await sleep((durationSec * 1_000) / 3);
        inFlightAtKill = await inFlight(system, 'email').catch(() => 0);
        await system.killEmail();
        const replacement = system.addEmail();
        const run = await load;
        await replacement;
        return run;
      });
      ctx.progress((trial - 0.5) / ctx.plan.trials, 'receipts after the kill');
      const receipts = await awaitReceipts(ctx, observed.value.records, { duplicates: true });
      await drainQueues(ctx, system);
      trials.push({ ...trialBase(system, trial, observed), receipts, inFlightAtKill });
    }
  } finally {
    ctx.sink.replyDelayMs = 0;
  }
  return { ratePerSec, durationSec, smtpReplyDelayMs, trials };
}
