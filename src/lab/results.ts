/**
 * What a lab run measured: the raw data of the report (written as JSON beside it), and the one
 * shape the Markdown and HTML renderers read.
 */

export type Mode = 'sync' | 'async';

export interface LatencySummary {
  requests: number;
  /** Responses by status code ("0" for a connection error or a client timeout). */
  statuses: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Successful responses (2xx) per second over the load's duration. */
  throughputPerSec: number;
}

/** Scenario 1: steady load at several rates. */
export interface LatencyScenario {
  rates: {
    ratePerSec: number;
    durationSec: number;
    sync: LatencySummary;
    async: LatencySummary;
    /** Async only: from sending the request to the last side effect of the payment done (a sample). */
    asyncEventualLag: { samples: number; p50Ms: number; p95Ms: number; maxMs: number };
  }[];
  /** Response times, for the distribution chart: the highest rate's, per mode (ms, sorted). */
  distribution: Record<Mode, number[]>;
}

/** Scenario 2: email 300 ms slower. */
export interface SlowDownstreamScenario {
  addedLatencyMs: number;
  ratePerSec: number;
  before: Record<Mode, LatencySummary>;
  during: Record<Mode, LatencySummary>;
}

export interface TimelineBucket {
  /** Seconds since the scenario's load began (bucket start). */
  atSec: number;
  requests: number;
  errors: number;
}

/** Scenario 3: email down for a while, then back. */
export interface OutageScenario {
  outageSec: number;
  ratePerSec: number;
  /** When the outage began and ended, seconds since the load began. */
  downAtSec: number;
  upAtSec: number;
  timeline: Record<Mode, TimelineBucket[]>;
  /** Error rate (non-2xx share) of the requests sent while email was down. */
  errorRateDuringOutage: Record<Mode, number>;
  /** What the client saw during the outage, per mode: status code → count. */
  statusesDuringOutage: Record<Mode, Record<string, number>>;
  /** Async: payments answered 201 during the whole scenario, and their receipts after recovery. */
  afterRecovery: SideEffectCount;
  /** Sync: payments charged (committed) while the client was told the request failed. */
  syncChargedButFailed: number;
}

export interface SideEffectCount {
  payments: number;
  /** Payments with exactly one receipt. */
  deliveredOnce: number;
  /** Payments with no receipt. */
  lost: number;
  /** Payments with more than one distinct receipt. */
  duplicated: number;
  /** Extra SMTP sends of an already-sent receipt (same Message-ID: a mail server keeps one). */
  resends: number;
  /** Payments counted by analytics (counted once each, in the same transaction as its inbox). */
  analyticsCounted: number;
}

/** Scenario 4: consumers scaled out against a slow side effect. */
export interface ScalabilityScenario {
  sideEffectLatencyMs: number;
  /** Receipts one email process sends at once. */
  perProcessConcurrency: number;
  offeredPerSec: number;
  durationSec: number;
  async: { processes: number; acceptedPerSec: number; sideEffectsPerSec: number; drainSec: number }[];
  sync: { processes: number; acceptedPerSec: number; sideEffectsPerSec: number; errorRate: number; p99Ms: number };
}

/** Scenario 5: consumer processes killed with SIGKILL under load. */
export interface CrashScenario {
  killed: number;
  ratePerSec: number;
  durationSec: number;
  async: SideEffectCount;
  /** Sync: requests failed while its email process was dead, and charged payments with no receipt. */
  sync: { requests: number; failed: number; chargedWithoutReceipt: number };
}

/** Scenario 6: what each request depends on, and what one more side effect costs. */
export interface CouplingScenario {
  /** Services on the request path, counted from one payment's trace (the gateway included). */
  requestPathServices: Record<Mode, string[]>;
  /** p50 with three side effects, then with a fourth added. */
  p50Ms: Record<Mode, { before: number; after: number }>;
}

export interface Verdict {
  aspect: 'Latency (initial response)' | 'Coupling' | 'Failure isolation' | 'Scalability';
  sync: string;
  async: string;
  holds: boolean;
  /** One sentence: why the verdict. */
  because: string;
}

export interface LabReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  transport: string;
  verdicts: Verdict[];
  latency: LatencyScenario;
  slowDownstream: SlowDownstreamScenario;
  outage: OutageScenario;
  scalability: ScalabilityScenario;
  crash: CrashScenario;
  coupling: CouplingScenario;
}
