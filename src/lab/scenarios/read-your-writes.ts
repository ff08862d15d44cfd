import { drainQueues, type LabContext, MODES, ok, sleep, systemOf, waitUntil } from '../context.js';
import type { LabSystem } from '../lab-system.js';
import { payOnce } from '../load.js';
import type { ReadYourWritesProbe } from '../results.js';
import { round } from '../stats.js';
import { analyticsCount } from './outage.js';

/**
 * Scenario 6: where sync is the right call. A payment alone, and the moment its 201 arrives, two
 * reads that depend on its side effects: the analytics summary, and a report of the last hour. In
 * sync mode both already include it; in async mode they may not yet (read-your-writes).
 */
export async function readYourWritesScenario(ctx: LabContext): Promise<{ probes: ReadYourWritesProbe[] }> {
  const { probes: count } = ctx.plan.readYourWrites;
  const probes: ReadYourWritesProbe[] = [];
  for (let i = 1; i <= count; i++) {
    for (const mode of MODES) {
      ctx.progress(probes.length / (count * MODES.length), `probe ${i}, ${mode}`);
      probes.push(await probe(ctx, systemOf(ctx, mode), i));
    }
  }
  return { probes };
}

async function probe(ctx: LabContext, system: LabSystem, index: number): Promise<ReadYourWritesProbe> {
  await drainQueues(ctx, system);
  const before = await analyticsCount(system);
  const payment = await payOnce({ url: system.url, apiKey: system.apiKey, tag: `ryw${index}-${system.mode}` });
  if (!ok(payment) || !payment.paymentId)
    throw new Error(`read-your-writes probe: the payment was answered ${payment.status}`);
  const now = Date.now();
  const reportsUrl = system.urlOf('reports');
  const [countedNow, report] = await Promise.all([
    analyticsCount(system),
    system.post<{ id: string }>(
      '/v1/reports',
      { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 3_600_000).toISOString() },
      reportsUrl,
    ),
  ]);
  const countedAtOnce = countedNow > before;
  let countedAfterMs: number | null = countedAtOnce ? round(performance.now() - payment.answeredAt, 1) : null;
  if (!countedAtOnce) {
    const deadline = Date.now() + ctx.plan.drainTimeoutSec * 1_000;
    while (Date.now() < deadline) {
      if ((await analyticsCount(system)) > before) {
        countedAfterMs = round(performance.now() - payment.answeredAt, 1);
        break;
      }
      await sleep(5);
    }
  }
  await waitUntil(
    ctx,
    async () =>
      (await system.get<{ status: string }>(`/v1/reports/${report.id}`, { base: reportsUrl })).status !== 'pending',
  );
  const csv = await fetch(`${reportsUrl}/v1/reports/${report.id}/download`, {
    headers: { authorization: `Bearer ${system.apiKey}` },
  }).then((response) => (response.ok ? response.text() : ''));
  return { mode: system.mode, countedAtOnce, countedAfterMs, reportIncluded: csv.includes(payment.paymentId) };
}
