/**
 * What a lab run measured: the raw data of the report (written as JSON beside it, every trial kept),
 * the verdicts drawn from it, and the one shape the Markdown, HTML and dashboard renderers read.
 * No Node import here: the dashboard imports it too.
 */

export type Mode = 'sync' | 'async';

/** Bumped when the shape changes, so the dashboard can tell an older report from a broken one. */
export const LAB_REPORT_VERSION = 2;

/**
 * A claim's status in this run: borne out beyond the noise, contradicted beyond it, or neither
 * (the trials' ranges overlap, the scenario was too short, or this run did not measure it).
 */
export type Status = 'holds' | 'does not hold' | 'not shown';

/** One figure over a scenario point's trials: their median and their range. */
export interface Interval {
  median: number;
  min: number;
  max: number;
  /** Trials it rests on. */
  n: number;
}

/** What the machine's CPUs did during one trial, in CPUs (CPU-seconds per second). */
export interface MachineUse {
  /** Wall-clock seconds covered. */
  seconds: number;
  /** Share of the machine's CPU time left idle, 0–1. */
  idleShare: number;
  /** The lab's own process: the load generator and the mail server. */
  loadGeneratorCpus: number;
  /**
   * The system under trial: its request path (gateway and payments) and its side-effect processes
   * (email, analytics, notifications, reports). Null where a process's CPU cannot be read (not Linux).
   */
  systemCpus: { requestPath: number; sideEffects: number } | null;
  /** Everything else on the machine (other programs, a VM's stolen time); null where unknown. */
  otherCpus: number | null;
}

export interface LatencySummary {
  requests: number;
  /** 2xx answers: the percentiles are theirs. */
  succeeded: number;
  /** Responses by status code ("0" for a connection error or a client timeout). */
  statuses: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Successful responses per second over the load's duration. */
  throughputPerSec: number;
}

/** What every trial records: which system, when, and what the machine did meanwhile. */
export interface TrialBase {
  mode: Mode;
  /** 1-based among this point's trials of this mode. */
  trial: number;
  startedAt: string;
  machine: MachineUse;
}

/** Async only: the queues during a trial's load (sampled a few times a second). */
export interface QueueSample {
  /** Events waiting, delayed or in flight, all consumer groups together, at the fullest moment. */
  maxDepth: number;
  /** The longest any waiting event had waited (consumer lag), ms. */
  maxLagMs: number;
}

/** A steady load on one system. */
export interface LoadTrial extends TrialBase {
  ratePerSec: number;
  durationSec: number;
  summary: LatencySummary;
  /** Successful answers' response times, ms, sorted (the latency scenario's, for the percentile curve). */
  latenciesMs?: number[];
  /**
   * The consistency window, per payment answered 201: from the answer to its receipt at the mail
   * server, ms, sorted. Negative in sync mode: the receipt went out before the answer.
   */
  receiptAfterAnswerMs: number[];
  /** Async. */
  queues?: QueueSample;
}

export interface LatencyScenario {
  durationSec: number;
  points: { ratePerSec: number; trials: LoadTrial[] }[];
}

/** Email answers `addedLatencyMs` slower. */
export interface SlowdownScenario {
  addedLatencyMs: number;
  ratePerSec: number;
  durationSec: number;
  trials: LoadTrial[];
}

export interface SideEffectCount {
  payments: number;
  /** Payments with exactly one receipt. */
  deliveredOnce: number;
  /** Payments with no receipt. */
  lost: number;
  /** Payments with more than one distinct receipt (Message-ID). */
  duplicated: number;
  /** Extra SMTP sends of an already-sent receipt (same Message-ID: a mail server keeps one). */
  resends: number;
}

/** Email is down for the whole of every trial. */
export interface OutageTrial extends TrialBase {
  summary: LatencySummary;
  /** Non-2xx share of the answers. */
  errorRate: number;
  /** Sync: answered 502, though the payment was charged and committed; its receipt was never sent. */
  chargedButFailed: number;
  /** Async: this trial's receipts, counted once email was back. */
  receipts?: SideEffectCount;
}

export interface OutageScenario {
  ratePerSec: number;
  durationSec: number;
  trials: OutageTrial[];
  /** Async, all trials: the receipts once email was back, and analytics' count of the same payments. */
  afterRecovery: SideEffectCount & { analyticsCounted: number };
  /** From email back up to the last async receipt delivered, seconds. */
  recoverySec: number;
}

/** Async only: one of several email consumers killed with SIGKILL in the middle of sending. */
export interface CrashTrial extends TrialBase {
  receipts: SideEffectCount;
  /** Receipts in flight (claimed, not yet recorded) in the email group at the kill, all its consumers together. */
  inFlightAtKill: number;
}

export interface CrashScenario {
  ratePerSec: number;
  durationSec: number;
  /** How long the lab's mail server waited before confirming each receipt (a remote server's round trip). */
  smtpReplyDelayMs: number;
  trials: CrashTrial[];
}

export interface ScalabilityTrial extends TrialBase {
  /** Async: its email consumer processes; sync: the one email process it calls. */
  processes: number;
  offered: number;
  /** 2xx answers. */
  accepted: number;
  /** Sync: answered 502 (a timeout waiting for email) though charged. */
  chargedButFailed: number;
  /** Async: receipts per second while a backlog waited; null when none formed. */
  receiptsPerSec: number | null;
  /**
   * From the load's end to the last receipt, seconds: async, the backlog sent; sync, email going on
   * with the calls payments had given up on (their receipts still go out, to payments told "failed").
   */
  sendingAfterLoadSec: number;
  summary: LatencySummary;
}

export interface ScalabilityScenario {
  sideEffectLatencyMs: number;
  /** Receipts one email process sends at once. */
  perProcessConcurrency: number;
  offeredPerSec: number;
  processes: number[];
  trials: ScalabilityTrial[];
}

/** A scenario this run left out, and why. */
export interface Skipped {
  skipped: string;
}

export interface CouplingScenario {
  /** Services each payment's request waited for, from its trace (the gateway included), per traced payment. */
  requestPaths: Record<Mode, string[][]>;
  /** The response time with four side effects, then with three (reports left out). */
  fourthSideEffect:
    | { ratePerSec: number; durationSec: number; withFour: LoadTrial[]; withThree: LoadTrial[] }
    | Skipped;
}

/** A payment, then at once a read that depends on its side effects. */
export interface ReadYourWritesProbe {
  mode: Mode;
  /** The analytics summary read right after the 201 already counted the payment. */
  countedAtOnce: boolean;
  /** From the 201 until analytics counted it, ms. */
  countedAfterMs: number | null;
  /** A report requested right after the 201 listed the payment. */
  reportIncluded: boolean;
}

/** What each system is made of, as it ran, and what the async one's queues looked like. */
export interface MovingParts {
  processes: Record<Mode, { role: string; services: string[] }[]>;
  /** Async: the consumer groups (each with its own lag, retries and dead-letter queue). */
  consumerGroups: string[];
  /** Async, over the run's trials: the most events waiting and the longest lag seen, and in which scenario. */
  peakDepth: { events: number; during: string };
  peakLagMs: { ms: number; during: string };
  /** Async, at the end of the run. */
  deadLettered: number;
  /** Sync: each call's timeout. */
  syncCallTimeoutMs: number;
}

/** One comparison behind a verdict: two sides, each a figure over its trials. */
export interface Check {
  /** What is compared: "p50 at 100 payments/s". */
  label: string;
  unit: 'ms' | '/s' | 'share' | 'count';
  better: 'lower' | 'higher';
  /** The claim: the second side is better than the first. */
  sides: [Side, Side];
  status: Status;
  /** Why it is not shown, or what it rests on. */
  note?: string;
  /** A primary check decides the verdict; a secondary one can only qualify it (the caveat). */
  primary: boolean;
}

export interface Side {
  label: string;
  mode: Mode;
  interval: Interval | null;
}

export type Aspect = 'Latency (initial response)' | 'Coupling' | 'Failure isolation' | 'Scalability';

export interface Verdict {
  aspect: Aspect;
  /** The chapter's row: what it says of each mode. */
  claim: Record<Mode, string>;
  /** From the primary checks: all hold → holds; any does not hold → does not hold; else not shown. */
  status: Status;
  sync: string;
  async: string;
  /** One or two sentences: why this status. */
  because: string;
  /** Where the secondary checks disagree with the status (the tails, say), in words, with the measured reason. */
  caveat?: string;
  /** The machine was too busy, or the trials too far apart, for its scenarios' figures to mean much. */
  warnings: string[];
  checks: Check[];
}

/** A row of "what async costs": the price of the async design, measured in the same run. */
export interface CostRow {
  cost: string;
  sync: string;
  async: string;
}

/** The machine during one scenario, over its trials. */
export interface ScenarioNoise {
  scenario: string;
  trials: number;
  idleShare: Interval | null;
  loadGeneratorCpus: Interval | null;
  otherCpus: Interval | null;
  /** The largest spread between the trials of one of its points (of its main figure). */
  spread: { label: string; share: number } | null;
  warnings: string[];
}

export interface LabReport {
  version: typeof LAB_REPORT_VERSION;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  transport: string;
  /** Trials per scenario point (sync and async each). */
  trials: number;
  verdicts: Verdict[];
  costs: CostRow[];
  noise: ScenarioNoise[];
  latency: LatencyScenario;
  slowdown: SlowdownScenario;
  outage: OutageScenario;
  crash: CrashScenario;
  scalability: ScalabilityScenario | Skipped;
  readYourWrites: { probes: ReadYourWritesProbe[] };
  coupling: CouplingScenario;
  movingParts: MovingParts;
}

/** What the scenarios measured, before the verdicts, costs and noise are drawn from it. */
export type Measured = Omit<LabReport, 'verdicts' | 'costs' | 'noise'>;

export const isSkipped = (value: object): value is Skipped => 'skipped' in value;
