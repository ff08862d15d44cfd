import { conclude } from '../../src/lab/conclude.js';
import type {
  CrashTrial,
  LabReport,
  LoadTrial,
  MachineUse,
  Measured,
  Mode,
  OutageTrial,
  ReadYourWritesProbe,
  ScalabilityTrial,
} from '../../src/lab/results.js';
import { LAB_REPORT_VERSION } from '../../src/lab/results.js';
import { summarize } from '../../src/lab/stats.js';

/** A deterministic pseudo-random source (LCG), so the fixture is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `count` values around `median` with a long right tail (log-normal), rounded to 0.1. */
function logNormal(count: number, median: number, spread: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const u = Math.max(next(), 1e-9);
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    return Math.round(median * Math.exp(spread * normal) * 10) / 10;
  });
}

const machine = (otherCpus: number, idleShare = 0.3): MachineUse => ({
  seconds: 10,
  idleShare,
  loadGeneratorCpus: 0.35,
  systemCpus: { requestPath: 0.6, sideEffects: 0.4 },
  otherCpus,
});

let seed = 1;
const startedAt = (minute: number) => `2025-06-14T09:${String(30 + minute).padStart(2, '0')}:00.000Z`;

interface LoadShape {
  ratePerSec: number;
  durationSec: number;
  median: number;
  /** Log-normal spread: larger, a longer tail. */
  spread?: number;
  /** Async: the receipt's lag after the answer. */
  receiptMedian?: number;
  others?: number;
  idle?: number;
  /** Answers that failed (status 502). */
  failed?: number;
}

function loadTrial(mode: Mode, trial: number, shape: LoadShape): LoadTrial {
  const count = shape.ratePerSec * shape.durationSec;
  const latencies = logNormal(count, shape.median, shape.spread ?? 0.35, seed++).sort((a, b) => a - b);
  const failed = shape.failed ?? 0;
  const records = latencies.map((latencyMs, i) => ({ latencyMs, status: i < failed ? 502 : 201 }));
  return {
    mode,
    trial,
    startedAt: startedAt(trial),
    machine: machine(shape.others ?? 0.05, shape.idle),
    ratePerSec: shape.ratePerSec,
    durationSec: shape.durationSec,
    summary: summarize(records, shape.durationSec),
    latenciesMs: latencies.slice(failed),
    receiptAfterAnswerMs:
      mode === 'async'
        ? logNormal(count - failed, shape.receiptMedian ?? 40, 0.5, seed++).sort((a, b) => a - b)
        : logNormal(count - failed, 20, 0.3, seed++)
            .map((v) => -v)
            .sort((a, b) => a - b),
    ...(mode === 'async' ? { queues: { maxDepth: 40 + trial * 10, maxLagMs: 120 + trial * 20 } } : {}),
  };
}

/** Three trials a mode, interleaved, each trial's median nudged so the trials differ. */
function trials(shapes: Record<Mode, LoadShape>, nudge = [1, 1.08, 0.94]): LoadTrial[] {
  return nudge.flatMap((factor, i) =>
    (['sync', 'async'] as const).map((mode) =>
      loadTrial(mode, i + 1, { ...shapes[mode], median: shapes[mode].median * factor }),
    ),
  );
}

const receipts = (payments: number, resends = 0) => ({
  payments,
  deliveredOnce: payments,
  lost: 0,
  duplicated: 0,
  resends,
});

/** What a full lab run measured: every scenario, three trials a mode, some of them noisy. */
export function sampleMeasured(): Measured {
  seed = 1;
  const outageTrials: OutageTrial[] = [1, 2, 3].flatMap((trial) => [
    {
      mode: 'sync' as const,
      trial,
      startedAt: startedAt(10 + trial),
      machine: machine(0.1),
      summary: summarize(
        Array.from({ length: 80 }, (_, i) => ({ latencyMs: 30, status: i < 78 ? 502 : 0 })),
        4,
      ),
      errorRate: 1,
      chargedButFailed: 78,
    },
    {
      mode: 'async' as const,
      trial,
      startedAt: startedAt(10 + trial),
      machine: machine(0.1),
      summary: summarize(
        Array.from({ length: 80 }, () => ({ latencyMs: 12, status: 201 })),
        4,
      ),
      errorRate: 0,
      chargedButFailed: 0,
      receipts: receipts(80),
    },
  ]);
  const crashTrials: CrashTrial[] = [1, 2, 3].map((trial) => ({
    mode: 'async',
    trial,
    startedAt: startedAt(15 + trial),
    machine: machine(0.1),
    receipts: receipts(160, trial === 2 ? 4 : 3),
    inFlightAtKill: 4,
  }));
  const scalabilityTrials: ScalabilityTrial[] = [1, 2, 3].flatMap((trial) => [
    {
      mode: 'sync' as const,
      trial,
      startedAt: startedAt(20 + trial),
      machine: machine(0.05),
      processes: 1,
      offered: 80,
      accepted: 20 + trial,
      chargedButFailed: 60 - trial,
      receiptsPerSec: null,
      sendingAfterLoadSec: 9 + trial * 0.2,
      summary: summarize(
        Array.from({ length: 80 }, (_, i) => ({ latencyMs: 1_900, status: i < 20 + trial ? 201 : 502 })),
        2,
      ),
    },
    ...[4, 2, 1].map((processes) => ({
      mode: 'async' as const,
      trial,
      startedAt: startedAt(20 + trial),
      machine: machine(0.05),
      processes,
      offered: 80,
      accepted: 80,
      chargedButFailed: 0,
      receiptsPerSec: processes * 7.8 + trial * 0.1,
      sendingAfterLoadSec: 8 / processes,
      summary: summarize(
        Array.from({ length: 80 }, () => ({ latencyMs: 15, status: 201 })),
        2,
      ),
    })),
  ]);
  const probes: ReadYourWritesProbe[] = Array.from({ length: 10 }, (_, i) =>
    i % 2 === 0
      ? { mode: 'sync', countedAtOnce: true, countedAfterMs: 3, reportIncluded: true }
      : { mode: 'async', countedAtOnce: false, countedAfterMs: 20 + i, reportIncluded: i > 5 },
  );
  return {
    version: LAB_REPORT_VERSION,
    startedAt: '2025-06-14T09:30:05.123Z',
    finishedAt: '2025-06-14T09:37:41.870Z',
    quick: false,
    machine: {
      cpus: 2,
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      memoryGiB: 7.7,
      node: 'v20.20.2',
      platform: 'linux',
    },
    transport: 'rabbitmq',
    trials: 3,
    latency: {
      durationSec: 10,
      points: [
        {
          ratePerSec: 25,
          trials: trials({
            sync: { ratePerSec: 25, durationSec: 10, median: 50 },
            async: { ratePerSec: 25, durationSec: 10, median: 20 },
          }),
        },
        {
          // The tail goes the other way here: async's p99 above sync's (a noisy machine, too).
          ratePerSec: 100,
          trials: trials({
            sync: { ratePerSec: 100, durationSec: 10, median: 110, spread: 0.25, others: 0.6, idle: 0.04 },
            async: { ratePerSec: 100, durationSec: 10, median: 55, spread: 0.75, others: 0.6, idle: 0.04 },
          }),
        },
      ],
    },
    slowdown: {
      addedLatencyMs: 300,
      ratePerSec: 10,
      durationSec: 10,
      trials: trials({
        sync: { ratePerSec: 10, durationSec: 10, median: 330, spread: 0.05 },
        async: { ratePerSec: 10, durationSec: 10, median: 9, receiptMedian: 330 },
      }),
    },
    outage: {
      ratePerSec: 20,
      durationSec: 4,
      trials: outageTrials,
      afterRecovery: { ...receipts(240), analyticsCounted: 240 },
      recoverySec: 1.4,
    },
    crash: { ratePerSec: 40, durationSec: 4, smtpReplyDelayMs: 150, trials: crashTrials },
    scalability: {
      sideEffectLatencyMs: 500,
      perProcessConcurrency: 4,
      offeredPerSec: 40,
      processes: [1, 2, 4],
      trials: scalabilityTrials,
    },
    readYourWrites: { probes },
    coupling: {
      requestPaths: {
        sync: Array.from({ length: 3 }, () => ['gateway', 'email', 'analytics', 'notifications', 'reports']),
        async: Array.from({ length: 3 }, () => ['gateway']),
      },
      fourthSideEffect: {
        ratePerSec: 50,
        durationSec: 5,
        // Overlapping costs: sync +5 ms, async +1 ms, each inside the other's noise.
        withFour: trials({
          sync: { ratePerSec: 50, durationSec: 5, median: 65 },
          async: { ratePerSec: 50, durationSec: 5, median: 22 },
        }),
        withThree: trials({
          sync: { ratePerSec: 50, durationSec: 5, median: 60 },
          async: { ratePerSec: 50, durationSec: 5, median: 21 },
        }),
      },
    },
    movingParts: {
      processes: {
        sync: [
          { role: 'core', services: ['gateway', 'payments'] },
          { role: 'effects', services: ['analytics', 'notifications'] },
          { role: 'reports', services: ['reports'] },
          { role: 'email', services: ['email'] },
        ],
        async: [
          { role: 'core', services: ['gateway', 'payments'] },
          { role: 'effects', services: ['analytics', 'notifications'] },
          { role: 'reports', services: ['reports'] },
          { role: 'email', services: ['email'] },
        ],
      },
      consumerGroups: ['email', 'analytics', 'reports-ledger', 'reports', 'webhooks', 'live'],
      peakDepth: { events: 320, during: 'downstream down' },
      peakLagMs: { ms: 4_100, during: 'downstream down' },
      deadLettered: 0,
      syncCallTimeoutMs: 2_000,
    },
  };
}

/** A full, realistic lab report (every field filled), for the renderer's tests and the dashboard's. */
export function sampleReport(): LabReport {
  return conclude(sampleMeasured());
}
