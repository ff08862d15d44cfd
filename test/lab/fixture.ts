import type { LabReport, LatencySummary, Mode, TimelineBucket } from '../../src/lab/results.js';

/** A deterministic pseudo-random source (LCG), so the fixture is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `count` response times, sorted, around `medianMs` with a long right tail (log-normal). */
function responseTimes(count: number, medianMs: number, spread: number, seed: number): number[] {
  const next = random(seed);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const u = Math.max(next(), 1e-9);
    const v = next();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    values.push(Math.round(medianMs * Math.exp(spread * normal) * 10) / 10);
  }
  return values.sort((a, b) => a - b);
}

function summary(
  requests: number,
  errors: Record<string, number>,
  ms: [p50: number, p95: number, p99: number, max: number],
  durationSec: number,
): LatencySummary {
  const failed = Object.values(errors).reduce((sum, n) => sum + n, 0);
  return {
    requests,
    statuses: { '201': requests - failed, ...errors },
    p50Ms: ms[0],
    p95Ms: ms[1],
    p99Ms: ms[2],
    maxMs: ms[3],
    throughputPerSec: Math.round(((requests - failed) / durationSec) * 10) / 10,
  };
}

function timeline(
  mode: Mode,
  ratePerSec: number,
  seconds: number,
  downAtSec: number,
  upAtSec: number,
): TimelineBucket[] {
  return Array.from({ length: seconds }, (_, atSec) => {
    const down = atSec >= downAtSec && atSec < upAtSec;
    const errors = mode === 'sync' && down ? (atSec === downAtSec ? ratePerSec / 2 : ratePerSec - 1) : 0;
    return { atSec, requests: ratePerSec, errors };
  });
}

/** A full, realistic lab report (every field filled), for the renderer's tests and others. */
export function sampleReport(): LabReport {
  return {
    startedAt: '2025-06-14T09:30:05.123Z',
    finishedAt: '2025-06-14T09:52:41.870Z',
    quick: false,
    machine: {
      cpus: 2,
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      memoryGiB: 7.7,
      node: 'v20.20.2',
      platform: 'linux',
    },
    transport: 'rabbitmq',
    verdicts: [
      {
        aspect: 'Latency (initial response)',
        sync: 'p50 48 ms at 100 req/s',
        async: 'p50 6.2 ms at 100 req/s',
        holds: true,
        because:
          'The asynchronous request answers once the payment and its outbox row commit, without waiting for email.',
      },
      {
        aspect: 'Coupling',
        sync: '5 services on the request path',
        async: '2 services on the request path',
        holds: true,
        because:
          'A fourth side effect added 16 ms to the synchronous p50 and nothing measurable to the asynchronous one.',
      },
      {
        aspect: 'Failure isolation',
        sync: '94.2% errors while email was down',
        async: '0% errors while email was down',
        holds: true,
        because:
          'Every receipt queued during the outage went out once email was back, while sync failed and still charged.',
      },
      {
        aspect: 'Scalability',
        sync: '20 side effects/s',
        async: '38 side effects/s with 4 processes',
        holds: false,
        because: 'On two cores the fourth email process added nothing: throughput flattened at two processes.',
      },
    ],
    latency: {
      rates: [50, 100, 200].map((ratePerSec, i) => {
        const durationSec = 30;
        const requests = ratePerSec * durationSec;
        return {
          ratePerSec,
          durationSec,
          sync: summary(
            requests,
            i === 2 ? { '503': 12, '0': 3 } : {},
            [41 + i * 7, 88 + i * 30, 140 + i * 90, 320 + i * 200],
            durationSec,
          ),
          async: summary(requests, {}, [5.8 + i * 0.4, 9.6 + i * 2, 14 + i * 6, 61 + i * 25], durationSec),
          asyncEventualLag: { samples: 200, p50Ms: 58 + i * 9, p95Ms: 130 + i * 40, maxMs: 410 + i * 150 },
        };
      }),
      distribution: {
        sync: responseTimes(2_000, 55, 0.45, 7),
        async: responseTimes(2_000, 6.6, 0.5, 11),
      },
    },
    slowDownstream: {
      addedLatencyMs: 300,
      ratePerSec: 50,
      before: {
        sync: summary(1_500, {}, [42, 90, 150, 330], 30),
        async: summary(1_500, {}, [5.9, 9.8, 15, 60], 30),
      },
      during: {
        sync: summary(1_500, { '504': 4 }, [346, 402, 470, 1_020], 30),
        async: summary(1_500, {}, [6.1, 10.2, 16, 71], 30),
      },
    },
    outage: {
      outageSec: 15,
      ratePerSec: 40,
      downAtSec: 20,
      upAtSec: 35,
      timeline: {
        sync: timeline('sync', 40, 60, 20, 35),
        async: timeline('async', 40, 60, 20, 35),
      },
      errorRateDuringOutage: { sync: 0.9417, async: 0 },
      statusesDuringOutage: {
        sync: { '201': 35, '502': 520, '0': 45 },
        async: { '201': 600 },
      },
      afterRecovery: {
        payments: 2_400,
        deliveredOnce: 2_400,
        lost: 0,
        duplicated: 0,
        resends: 3,
        analyticsCounted: 2_400,
      },
      syncChargedButFailed: 565,
    },
    scalability: {
      sideEffectLatencyMs: 200,
      perProcessConcurrency: 4,
      offeredPerSec: 40,
      durationSec: 30,
      async: [
        { processes: 1, acceptedPerSec: 40, sideEffectsPerSec: 19.6, drainSec: 31.4 },
        { processes: 2, acceptedPerSec: 40, sideEffectsPerSec: 38.9, drainSec: 0.8 },
        { processes: 4, acceptedPerSec: 40, sideEffectsPerSec: 39.2, drainSec: 0.4 },
      ],
      sync: { processes: 1, acceptedPerSec: 19.8, sideEffectsPerSec: 19.8, errorRate: 0.505, p99Ms: 5_012 },
    },
    crash: {
      killed: 3,
      ratePerSec: 40,
      durationSec: 45,
      async: { payments: 1_800, deliveredOnce: 1_797, lost: 0, duplicated: 3, resends: 11, analyticsCounted: 1_800 },
      sync: { requests: 1_800, failed: 212, chargedWithoutReceipt: 198 },
    },
    coupling: {
      requestPathServices: {
        sync: ['gateway', 'payments', 'email', 'analytics', 'notifications'],
        async: ['gateway', 'payments'],
      },
      p50Ms: { sync: { before: 47, after: 63 }, async: { before: 6.2, after: 6.3 } },
    },
  };
}
