import { interleaved, type LabContext, loadTrial, MODES, ok, systemOf, waitUntil, warmUp } from '../context.js';
import { type LabSystem, SIDE_EFFECTS } from '../lab-system.js';
import { payOnce } from '../load.js';
import { NOT_IN_QUICK } from '../plan.js';
import type { CouplingScenario, LoadTrial, Mode } from '../results.js';

/**
 * Scenario 7: what each request depends on — the services a payment's request waited for, read
 * from its trace — and, in a full run, what a fourth side effect costs the response time: trials
 * with four side effects, then with three (sync calls reports no more; async stops its consumer).
 */
export async function couplingScenario(ctx: LabContext): Promise<CouplingScenario> {
  const plan = ctx.plan.coupling;
  // Booted now, and warm before it answers a measured request.
  const standby = plan ? ctx.sync.prepareCore(SIDE_EFFECTS.filter((s) => s !== 'reports')) : undefined;
  standby?.catch(() => {}); // awaited below
  const requestPaths: Record<Mode, string[][]> = { sync: [], async: [] };
  for (let i = 1; i <= ctx.plan.trials; i++) {
    for (const mode of MODES) requestPaths[mode].push(await tracedPath(ctx, systemOf(ctx, mode), i));
  }
  if (!plan) return { requestPaths, fourthSideEffect: { skipped: NOT_IN_QUICK.fourthSideEffect } };
  await standby;
  const { ratePerSec, durationSec } = plan;
  const trials = (tag: string, from: number) =>
    interleaved(
      ctx,
      async (system, trial): Promise<LoadTrial> =>
        (await loadTrial(ctx, system, trial, { ratePerSec, durationSec, tag })).trial,
      ctx.plan.trials,
      { from, span: 0.45 },
    );
  const withFour = await trials('coupling4', 0.05);
  ctx.progress(0.5, 'taking the fourth side effect away');
  await Promise.all([ctx.sync.switchCore(), ctx.async.stopReports()]);
  await warmUp(ctx, ratePerSec, ctx.plan.warmupSec, 'coupling-warmup');
  const withThree = await trials('coupling3', 0.55);
  return { requestPaths, fourthSideEffect: { ratePerSec, durationSec, withFour, withThree } };
}

/** One payment, and the services its request waited for: the outgoing calls under its request span. */
async function tracedPath(ctx: LabContext, system: LabSystem, index: number): Promise<string[]> {
  const payment = await payOnce({ url: system.url, apiKey: system.apiKey, tag: `trace${index}-${system.mode}` });
  if (!ok(payment) || !payment.paymentId)
    throw new Error(`coupling: the traced payment was answered ${payment.status}`);
  let spans: Span[] = [];
  // The request's span ends as its answer goes out: wait until the trace has it.
  await waitUntil(ctx, async () => {
    spans = (await system.get<{ spans: Span[] }>(`/v1/traces/${payment.paymentId}`)).spans;
    return spans.some(isRequestSpan);
  });
  return servicesUnder(spans);
}

interface Span {
  spanId: string;
  parentSpanId: string | null;
  kind: string;
  name: string;
  attributes: Record<string, unknown>;
}

const isRequestSpan = (s: Span) => s.kind === 'server' && s.name === 'POST /v1/payments';

export function servicesUnder(spans: readonly Span[]): string[] {
  const root = spans.find(isRequestSpan);
  if (!root) return [];
  const children = new Map<string, string[]>();
  for (const span of spans) {
    if (span.parentSpanId) children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span.spanId]);
  }
  const under = new Set<string>();
  const walk = (id: string) => {
    for (const child of children.get(id) ?? []) {
      under.add(child);
      walk(child);
    }
  };
  walk(root.spanId);
  // Outgoing calls (the callee may be another process, whose spans this one does not keep).
  const services = spans
    .filter((s) => under.has(s.spanId) && s.kind === 'client')
    .map((s) => serviceOfRoute(new URL(String(s.attributes['url.full'] ?? 'http://x/')).pathname));
  return [...new Set(services)].filter(Boolean);
}

function serviceOfRoute(path: string): string {
  if (path.startsWith('/v1/charges')) return 'gateway';
  return /^\/v1\/internal\/effects\/([a-z]+)/.exec(path)?.[1] ?? '';
}
