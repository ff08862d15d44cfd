import { ALL_MODULES } from '../app/modules.js';
import type { LabSystem } from './lab-system.js';
import { type LoadRun, type PaymentRecord, runLoad } from './load.js';
import type { MailSink } from './mail-sink.js';
import type {
  CouplingScenario,
  CrashScenario,
  LatencyScenario,
  LatencySummary,
  Mode,
  OutageScenario,
  ScalabilityScenario,
  SideEffectCount,
  SlowDownstreamScenario,
} from './results.js';
import { isError, percentile, round, summarize, timeline } from './stats.js';

/** How long and how hard each scenario runs; `--quick` has its own. */
export interface LabPlan {
  /** `warmupSec`: an unmeasured load first, so fresh processes are warm (JIT, pools). */
  latency: { rates: number[]; durationSec: number; warmupSec: number };
  slow: { ratePerSec: number; durationSec: number; addedLatencyMs: number };
  outage: { ratePerSec: number; beforeSec: number; outageSec: number; afterSec: number };
  scalability: { offeredPerSec: number; durationSec: number; latencyMs: number; processes: number[] };
  crash: { ratePerSec: number; durationSec: number };
  coupling: { ratePerSec: number; durationSec: number };
  /** How long to wait for side effects to finish after a load. */
  drainTimeoutSec: number;
}

export const PLANS: Record<'quick' | 'full', LabPlan> = {
  quick: {
    latency: { rates: [10, 40], durationSec: 1, warmupSec: 0 },
    slow: { ratePerSec: 10, durationSec: 1, addedLatencyMs: 300 },
    outage: { ratePerSec: 20, beforeSec: 0.5, outageSec: 2, afterSec: 0.5 },
    // Four processes (4 × 4 at 600 ms: 27/s) still below the offered 30/s: the consumers set the pace.
    scalability: { offeredPerSec: 30, durationSec: 0.6, latencyMs: 600, processes: [1, 2, 4] },
    crash: { ratePerSec: 30, durationSec: 2 },
    coupling: { ratePerSec: 20, durationSec: 1 },
    drainTimeoutSec: 30,
  },
  full: {
    latency: { rates: [25, 50, 100, 150], durationSec: 8, warmupSec: 2 },
    slow: { ratePerSec: 10, durationSec: 8, addedLatencyMs: 300 },
    outage: { ratePerSec: 20, beforeSec: 3, outageSec: 10, afterSec: 5 },
    scalability: { offeredPerSec: 40, durationSec: 4, latencyMs: 500, processes: [1, 2, 4] },
    crash: { ratePerSec: 40, durationSec: 8 },
    coupling: { ratePerSec: 25, durationSec: 6 },
    drainTimeoutSec: 60,
  },
};

export interface LabContext {
  sync: LabSystem;
  async: LabSystem;
  sink: MailSink;
  plan: LabPlan;
  /** Reports the current scenario's progress, 0 to 1. */
  progress(fraction: number, detail?: string): void;
}

type Both<T> = Record<Mode, T>;

/** The consumer groups of the three side effects both modes share: email, analytics, notifications. */
const LAB_GROUPS = ALL_MODULES.filter((m) => ['email', 'analytics', 'notifications'].includes(m.name)).flatMap((m) =>
  m.groups.map((g) => g.group),
);

const both = async <T>(work: (system: LabSystem) => Promise<T>, ctx: LabContext): Promise<Both<T>> => {
  const [sync, async] = await Promise.all([work(ctx.sync), work(ctx.async)]);
  return { sync, async };
};

const ok = (r: PaymentRecord) => r.status >= 200 && r.status < 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same request stream, at the same time, to both systems. */
function loadBoth(ctx: LabContext, ratePerSec: number, durationSec: number, tag: string, from = 0, span = 1) {
  return both(
    (system) =>
      runLoad({
        url: system.url,
        apiKey: system.apiKey,
        ratePerSec,
        durationSec,
        tag: `${tag}-${system.mode}`,
        onTick: (elapsed) => system.mode === 'sync' && ctx.progress(from + (span * elapsed) / durationSec),
      }),
    ctx,
  );
}

/** Waits until every accepted payment's receipt is at the mail sink (or the timeout), then counts. */
async function receiptsOf(
  ctx: LabContext,
  records: readonly PaymentRecord[],
): Promise<SideEffectCount & { doneAtMs: number }> {
  const accepted = records.filter(ok);
  const deadline = Date.now() + ctx.plan.drainTimeoutSec * 1_000;
  while (Date.now() < deadline && accepted.some((r) => ctx.sink.receiptsFor(r.email).distinct === 0)) await sleep(50);
  const doneAtMs = Date.now();
  // A moment more, so a duplicate on its way is counted too.
  await sleep(300);
  const counts = accepted.map((r) => ctx.sink.receiptsFor(r.email));
  return {
    payments: accepted.length,
    deliveredOnce: counts.filter((c) => c.distinct === 1).length,
    lost: counts.filter((c) => c.distinct === 0).length,
    duplicated: counts.filter((c) => c.distinct > 1).length,
    resends: counts.reduce((sum, c) => sum + Math.max(0, c.total - c.distinct), 0),
    analyticsCounted: 0,
    doneAtMs,
  };
}

async function analyticsSucceeded(system: LabSystem): Promise<number> {
  const summary = await system.get<{ totals: { succeeded_count: number }[] }>('/v1/analytics/summary');
  return summary.totals.reduce((sum, t) => sum + t.succeeded_count, 0);
}

/** Scenario 1: initial response at several steady rates, and async's time until its side effects are done. */
export async function latencyScenario(ctx: LabContext): Promise<LatencyScenario> {
  const { rates, durationSec } = ctx.plan.latency;
  const result: LatencyScenario = { rates: [], distribution: { sync: [], async: [] } };
  if (ctx.plan.latency.warmupSec > 0) await loadBoth(ctx, rates[0] ?? 10, ctx.plan.latency.warmupSec, 'warmup', 0, 0);
  for (const [i, rate] of rates.entries()) {
    const runs = await loadBoth(ctx, rate, durationSec, `latency${rate}`, i / rates.length, 1 / rates.length);
    result.rates.push({
      ratePerSec: rate,
      durationSec,
      sync: summarize(runs.sync.records, durationSec),
      async: summarize(runs.async.records, durationSec),
      asyncEventualLag: await eventualLag(ctx, runs.async),
    });
    if (i === rates.length - 1) {
      for (const mode of ['sync', 'async'] as const) {
        result.distribution[mode] = runs[mode].records
          .map((r) => r.latencyMs)
          .filter(Number.isFinite)
          .sort((a, b) => a - b)
          .map((ms) => round(ms, 2));
      }
    }
  }
  return result;
}

/** From sending a payment to its last side effect done, for a sample of async payments. */
async function eventualLag(
  ctx: LabContext,
  run: LoadRun,
): Promise<LatencyScenario['rates'][number]['asyncEventualLag']> {
  const sample = run.records
    .filter((r) => ok(r) && r.paymentId)
    .filter((_, i, all) => i % Math.ceil(all.length / 20) === 0);
  const lags: number[] = [];
  for (const record of sample) {
    const sentAt = run.startedAtMs + record.atMs - record.latencyMs;
    const deadline = Date.now() + ctx.plan.drainTimeoutSec * 1_000;
    for (;;) {
      const { data } = await ctx.async.get<{ data: { group: string; state: string; updated_at: string | null }[] }>(
        `/v1/payments/${record.paymentId}/side_effects`,
      );
      // The three side effects both modes share; reports joins only in the coupling scenario.
      const shared = data.filter((e) => LAB_GROUPS.includes(e.group));
      if (shared.length > 0 && shared.every((e) => e.state === 'delivered')) {
        lags.push(Math.max(...shared.map((e) => Date.parse(e.updated_at ?? '') - sentAt)));
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(50);
    }
  }
  lags.sort((a, b) => a - b);
  return {
    samples: lags.length,
    p50Ms: round(percentile(lags, 50)),
    p95Ms: round(percentile(lags, 95)),
    maxMs: round(lags.at(-1) ?? 0),
  };
}

/** Scenario 2: email becomes slow; what each mode's response time does. */
export async function slowDownstreamScenario(ctx: LabContext): Promise<SlowDownstreamScenario> {
  const { ratePerSec, durationSec, addedLatencyMs } = ctx.plan.slow;
  const before = await loadBoth(ctx, ratePerSec, durationSec, 'slow-before', 0, 0.4);
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: { fixedMs: addedLatencyMs } })));
  const during = await loadBoth(ctx, ratePerSec, durationSec, 'slow-during', 0.4, 0.4);
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: null })));
  ctx.progress(0.85, 'async receipts catching up');
  await receiptsOf(ctx, during.async.records);
  const summary = (runs: Both<LoadRun>) => ({
    sync: summarize(runs.sync.records, durationSec),
    async: summarize(runs.async.records, durationSec),
  });
  return { addedLatencyMs, ratePerSec, before: summary(before), during: summary(during) };
}

/** Scenario 3: email down for a while, then back; what the client sees, and what becomes of the side effects. */
export async function outageScenario(ctx: LabContext): Promise<OutageScenario> {
  const { ratePerSec, beforeSec, outageSec, afterSec } = ctx.plan.outage;
  const totalSec = beforeSec + outageSec + afterSec;
  const analyticsBefore = await analyticsSucceeded(ctx.async);
  const loads = loadBoth(ctx, ratePerSec, totalSec, 'outage', 0, 0.8);
  const loadStart = performance.now();
  await sleep(beforeSec * 1_000);
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ down: true })));
  const downAtMs = performance.now() - loadStart;
  await sleep(outageSec * 1_000);
  const upAtMs = performance.now() - loadStart;
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ down: false })));
  const runs = await loads;
  ctx.progress(0.85, 'async receipts after recovery');
  const afterRecovery = await receiptsOf(ctx, runs.async.records);
  // Analytics is a side effect too: counted once per payment, whatever the redeliveries.
  await waitUntil(async () => (await analyticsSucceeded(ctx.async)) - analyticsBefore >= afterRecovery.payments, ctx);
  afterRecovery.analyticsCounted = (await analyticsSucceeded(ctx.async)) - analyticsBefore;
  // Sent after email went down and answered before it came back: requests that met the outage whole.
  const window = (r: PaymentRecord) =>
    r.atMs - (Number.isFinite(r.latencyMs) ? r.latencyMs : 0) >= downAtMs && r.atMs < upAtMs;
  const during = (mode: Mode) => runs[mode].records.filter(window);
  const statusesOf = (records: readonly PaymentRecord[]) => {
    const statuses: Record<string, number> = {};
    for (const { status } of records) statuses[status] = (statuses[status] ?? 0) + 1;
    return statuses;
  };
  const errorRate = (records: readonly PaymentRecord[]) =>
    records.length === 0 ? 0 : round(records.filter((r) => isError(r.status)).length / records.length, 3);
  const { doneAtMs: _, ...counted } = afterRecovery;
  return {
    outageSec,
    ratePerSec,
    downAtSec: round(downAtMs / 1_000, 2),
    upAtSec: round(upAtMs / 1_000, 2),
    timeline: { sync: timeline(runs.sync.records, 0.5, totalSec), async: timeline(runs.async.records, 0.5, totalSec) },
    errorRateDuringOutage: { sync: errorRate(during('sync')), async: errorRate(during('async')) },
    statusesDuringOutage: { sync: statusesOf(during('sync')), async: statusesOf(during('async')) },
    afterRecovery: counted,
    // A 502 side_effect_failed in sync mode comes after the charge and the commit.
    syncChargedButFailed: runs.sync.records.filter((r) => r.status === 502).length,
  };
}

/** Scenario 4: a slow side effect; async consumers scaled out, beside sync at the same offered load. */
export async function scalabilityScenario(ctx: LabContext): Promise<ScalabilityScenario> {
  const { offeredPerSec, durationSec, latencyMs, processes } = ctx.plan.scalability;
  const perProcessConcurrency = ctx.async.options.emailConcurrency;
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: { fixedMs: latencyMs } })));
  const asyncRuns: ScalabilityScenario['async'] = [];
  // Started together, then stopped one by one: from the most processes down to one.
  const most = Math.max(...processes);
  await Promise.all(Array.from({ length: Math.max(0, most - ctx.async.emails.length) }, () => ctx.async.addEmail()));
  const counts = [...processes].sort((a, b) => b - a);
  // Sync takes the same offered load at the same time as the first async run.
  const syncLoad = runLoad({
    url: ctx.sync.url,
    apiKey: ctx.sync.apiKey,
    ratePerSec: offeredPerSec,
    durationSec,
    tag: 'scale-sync',
  });
  for (const [i, count] of counts.entries()) {
    while (ctx.async.emails.length > count) await ctx.async.stopEmail();
    ctx.progress(i / counts.length, `async with ${count} email process${count > 1 ? 'es' : ''}`);
    const run = await runLoad({
      url: ctx.async.url,
      apiKey: ctx.async.apiKey,
      ratePerSec: offeredPerSec,
      durationSec,
      tag: `scale${count}-async`,
    });
    const loadEndMs = run.startedAtMs + durationSec * 1_000;
    const receipts = await receiptsOf(ctx, run.records);
    const elapsedSec = Math.max(0.001, (receipts.doneAtMs - run.startedAtMs) / 1_000);
    asyncRuns.push({
      processes: count,
      acceptedPerSec: round(run.records.filter(ok).length / durationSec),
      sideEffectsPerSec: round((receipts.payments - receipts.lost) / elapsedSec),
      drainSec: round(Math.max(0, receipts.doneAtMs - loadEndMs) / 1_000),
    });
  }
  asyncRuns.sort((a, b) => a.processes - b.processes);
  const syncRun = await syncLoad;
  await Promise.all([ctx.sync, ctx.async].map((s) => s.setEmailFaults({ latency: null })));
  const syncSummary = summarize(syncRun.records, durationSec);
  const syncAccepted = syncRun.records.filter(ok).length;
  return {
    sideEffectLatencyMs: latencyMs,
    perProcessConcurrency,
    offeredPerSec,
    durationSec,
    async: asyncRuns,
    sync: {
      processes: 1,
      acceptedPerSec: round(syncAccepted / durationSec),
      sideEffectsPerSec: round(syncAccepted / durationSec),
      errorRate: syncRun.records.length === 0 ? 0 : round(1 - syncAccepted / syncRun.records.length, 3),
      p99Ms: syncSummary.p99Ms,
    },
  };
}

/** Scenario 5: email processes killed with SIGKILL under load. */
export async function crashScenario(ctx: LabContext): Promise<CrashScenario> {
  const { ratePerSec, durationSec } = ctx.plan.crash;
  const analyticsBefore = await analyticsSucceeded(ctx.async);
  const loads = loadBoth(ctx, ratePerSec, durationSec, 'crash', 0, 0.8);
  await sleep((durationSec * 1_000) / 3);
  // Async: one consumer dies mid-run, another starts; sync: its email process dies, and comes back.
  const [, deadSync] = await Promise.all([ctx.async.killEmail(0), ctx.sync.killEmail(0)]);
  await sleep((durationSec * 1_000) / 3);
  await Promise.all([ctx.async.addEmail(), deadSync ? ctx.sync.restartEmail(deadSync) : undefined]);
  const runs = await loads;
  ctx.progress(0.85, 'async receipts after the crash');
  const receipts = await receiptsOf(ctx, runs.async.records);
  await waitUntil(async () => (await analyticsSucceeded(ctx.async)) - analyticsBefore >= receipts.payments, ctx);
  const { doneAtMs: _, ...counted } = receipts;
  const syncFailed = runs.sync.records.filter((r) => isError(r.status)).length;
  return {
    killed: 1,
    ratePerSec,
    durationSec,
    async: { ...counted, analyticsCounted: (await analyticsSucceeded(ctx.async)) - analyticsBefore },
    sync: {
      requests: runs.sync.records.length,
      failed: syncFailed,
      chargedWithoutReceipt: runs.sync.records.filter((r) => r.status === 502).length,
    },
  };
}

/** Scenario 6, first half: what each request depends on (from a trace), and p50 with three side effects. */
export async function couplingBefore(
  ctx: LabContext,
): Promise<Pick<CouplingScenario, 'requestPathServices'> & { before: Both<number> }> {
  const { ratePerSec, durationSec } = ctx.plan.coupling;
  const requestPathServices = await both(async (system) => {
    const run = await runLoad({
      url: system.url,
      apiKey: system.apiKey,
      ratePerSec: 1,
      durationSec: 1,
      tag: `trace-${system.mode}`,
    });
    const paymentId = run.records.find((r) => ok(r) && r.paymentId)?.paymentId;
    return paymentId ? servicesOnRequestPath(system, paymentId) : [];
  }, ctx);
  ctx.progress(0.1);
  const before = await loadBoth(ctx, ratePerSec, durationSec, 'coupling-before', 0.1, 0.35);
  ctx.progress(0.45, 'adding a fourth side effect');
  return {
    requestPathServices,
    before: { sync: p50Of(before.sync, durationSec), async: p50Of(before.async, durationSec) },
  };
}

/**
 * Adds a fourth side effect, started ahead so nobody waits for a process to boot: sync gets a
 * core that also calls reports; async gets a reports process, a consumer of the same events.
 */
export function addFourthSideEffect(ctx: LabContext): Promise<void> {
  ctx.sync.prepareCore(['email', 'analytics', 'notifications', 'reports']);
  return ctx.async.addProcess(['reports']);
}

/** Scenario 6, second half: p50 once the fourth side effect is in. */
export async function couplingAfter(
  ctx: LabContext,
  first: Awaited<ReturnType<typeof couplingBefore>>,
): Promise<CouplingScenario> {
  const { ratePerSec, durationSec } = ctx.plan.coupling;
  await ctx.sync.switchCore();
  // A fresh process is cold (JIT, connection pools): warm both before measuring, as the first run was.
  await loadBoth(ctx, ratePerSec, 0.5, 'coupling-warmup', 0.5, 0.05);
  const after = await loadBoth(ctx, ratePerSec, durationSec, 'coupling-after', 0.55, 0.4);
  return {
    requestPathServices: first.requestPathServices,
    p50Ms: {
      sync: { before: first.before.sync, after: p50Of(after.sync, durationSec) },
      async: { before: first.before.async, after: p50Of(after.async, durationSec) },
    },
  };
}

const p50Of = (run: LoadRun, durationSec: number) => summarize(run.records, durationSec).p50Ms;

/** The services a payment's request waited for: the server spans under its request span. */
async function servicesOnRequestPath(system: LabSystem, paymentId: string): Promise<string[]> {
  const { spans } = await system.get<{
    spans: {
      spanId: string;
      parentSpanId: string | null;
      kind: string;
      name: string;
      attributes: Record<string, unknown>;
    }[];
  }>(`/v1/traces/${paymentId}`);
  const root = spans.find((s) => s.kind === 'server' && s.name === 'POST /v1/payments');
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

async function waitUntil(check: () => Promise<boolean>, ctx: LabContext): Promise<void> {
  const deadline = Date.now() + ctx.plan.drainTimeoutSec * 1_000;
  while (Date.now() < deadline && !(await check())) await sleep(100);
}

export type { LatencySummary };
