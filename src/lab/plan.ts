/**
 * How long and how hard each scenario runs. Every figure a verdict compares comes from `trials`
 * trials of each mode, run one after the other (sync, async, sync, async, …). `--quick` is short
 * but honest: each scenario it runs is long enough to show its point, and the two it leaves out
 * (scalability, and what a fourth side effect costs) are reported as not measured.
 */
export interface LabPlan {
  /** Trials of each mode per scenario point. Loads last whole seconds (the load generator paces by the second). */
  trials: number;
  /** An unmeasured load on each system first, so fresh processes are warm (JIT, pools). */
  warmupSec: number;
  latency: { rates: number[]; durationSec: number };
  /** Email `addedLatencyMs` slower; the rate stays below what a slowed email can serve in sync mode. */
  slowdown: { ratePerSec: number; durationSec: number; addedLatencyMs: number };
  /** Email down for the whole of each trial. */
  outage: { ratePerSec: number; durationSec: number };
  /**
   * Async only: an email consumer killed with SIGKILL a third into each trial's load. The mail
   * server takes `smtpReplyDelayMs` to confirm a receipt (a slow remote server): the consumers stay
   * busy, and most of a receipt's time is between the server having it and the consumer knowing.
   */
  crash: { ratePerSec: number; durationSec: number; smtpReplyDelayMs: number };
  /**
   * A slow side effect (`sideEffectLatencyMs` a receipt): every trial — sync, and async with each
   * number of email processes — is offered `offeredPerSec` for `durationSec`, more than even the
   * most processes can send, so a backlog forms and the consumers set the pace.
   */
  scalability: { offeredPerSec: number; durationSec: number; sideEffectLatencyMs: number; processes: number[] } | null;
  /** The response time with four side effects, then three; null: only the request paths are counted. */
  coupling: { ratePerSec: number; durationSec: number } | null;
  readYourWrites: { probes: number };
  /** How long to wait for side effects to finish after a load. */
  drainTimeoutSec: number;
}

export const PLANS: Record<'quick' | 'full', LabPlan> = {
  quick: {
    trials: 3,
    warmupSec: 1,
    latency: { rates: [40], durationSec: 1 },
    slowdown: { ratePerSec: 10, durationSec: 1, addedLatencyMs: 300 },
    outage: { ratePerSec: 20, durationSec: 1 },
    crash: { ratePerSec: 30, durationSec: 1, smtpReplyDelayMs: 400 },
    scalability: null,
    coupling: null,
    readYourWrites: { probes: 3 },
    drainTimeoutSec: 30,
  },
  full: {
    trials: 3,
    warmupSec: 3,
    latency: { rates: [10, 50, 100, 150], durationSec: 6 },
    slowdown: { ratePerSec: 10, durationSec: 6, addedLatencyMs: 300 },
    outage: { ratePerSec: 20, durationSec: 4 },
    crash: { ratePerSec: 40, durationSec: 4, smtpReplyDelayMs: 400 },
    // One process: 4 receipts at once, 500 ms each, 8/s; four: 32/s, still below the 40/s offered.
    scalability: { offeredPerSec: 40, durationSec: 2, sideEffectLatencyMs: 500, processes: [1, 2, 4] },
    coupling: { ratePerSec: 50, durationSec: 5 },
    readYourWrites: { probes: 10 },
    drainTimeoutSec: 60,
  },
};

/** What quick mode leaves out, in the words the report uses. */
export const NOT_IN_QUICK = {
  scalability:
    'quick mode does not measure scalability: it needs a backlog drained at several consumer counts, about a minute and a half; run the full lab',
  fourthSideEffect:
    'quick mode does not measure what a fourth side effect costs: the difference is a few milliseconds, which needs longer loads than quick mode runs; run the full lab',
};
