import { awaitReceipts, drainQueues, inFlight, type LabContext, observe, sleep, trialBase } from '../context.js';
import { runLoad } from '../load.js';
import type { CrashScenario, CrashTrial } from '../results.js';

/**
 * Scenario 5, async only: the at-least-once price. Several email consumers run, one more than there
 * are trials; in each trial one of them is killed with SIGKILL a third into the load, while it holds
 * receipts, and the others go on (taking the dead one's receipts once their lease runs out). The
 * mail server waits a moment before confirming each receipt, as a remote one does, so some kills
 * land after the server has a receipt and before the consumer has recorded it: those receipts are
 * sent again. Sync mode has no counterpart (nothing is redelivered; its requests fail instead, as
 * in the outage).
 */
export async function crashScenario(ctx: LabContext): Promise<CrashScenario> {
  const { ratePerSec, durationSec, smtpReplyDelayMs } = ctx.plan.crash;
  const system = ctx.async;
  // Started ahead (see runLab), so no trial waits for a process to boot.
  while (system.emailCount < ctx.plan.trials + 1) await system.addEmail();
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
        // Mid-send: once the consumers hold about a receipt each (or two thirds into the load).
        const latest = performance.now() + (durationSec * 1_000) / 3;
        for (;;) {
          inFlightAtKill = await inFlight(system, 'email').catch(() => 0);
          if (inFlightAtKill >= system.emailCount || performance.now() > latest) break;
          await sleep(20);
        }
        await system.killEmail();
        return load;
      });
      ctx.progress((trial - 0.5) / ctx.plan.trials, 'receipts after the kill');
      const receipts = await awaitReceipts(ctx, observed.value.records, { duplicates: true });
      await drainQueues(ctx, system);
      trials.push({ ...trialBase(system, trial, observed), receipts, inFlightAtKill });
    }
  } finally {
    ctx.sink.replyDelayMs = 0;
    while (system.emailCount > 1) await system.stopEmail();
  }
  return { ratePerSec, durationSec, smtpReplyDelayMs, trials };
}
