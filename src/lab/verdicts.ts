import { formatCpus, formatInterval, formatPercent, formatQuantity, formatValue, plural } from './format.js';
import {
  type Aspect,
  type Check,
  isSkipped,
  type LoadTrial,
  type Measured,
  type Mode,
  type ScenarioNoise,
  type Side,
  type Status,
  type Verdict,
} from './results.js';
import { compare, differenceOf, intervalOf, MIN_ANSWERS, MIN_TRIALS } from './stats.js';

/** The chapter's table: what it claims of each mode, per aspect. */
export const CLAIMS: Record<Aspect, Record<Mode, string>> = {
  'Latency (initial response)': { sync: 'Higher', async: 'Lower (initial response)' },
  Coupling: { sync: 'Tight', async: 'Loose' },
  'Failure isolation': { sync: 'Weak', async: 'Strong' },
  Scalability: { sync: 'Limited', async: 'High' },
};

/** Which scenarios' machine noise bears on each verdict. */
const SCENARIOS_OF: Record<Aspect, readonly string[]> = {
  'Latency (initial response)': ['latency', 'slowdown'],
  Coupling: ['coupling'],
  'Failure isolation': ['outage', 'crash'],
  Scalability: ['scalability'],
};

/** The textbook's table, filled in from the trials: a verdict per row, the checks behind it, and why. */
export function verdictsOf(measured: Measured, noise: readonly ScenarioNoise[]): Verdict[] {
  const withWarnings = (verdict: Omit<Verdict, 'warnings' | 'claim'>): Verdict => ({
    ...verdict,
    claim: CLAIMS[verdict.aspect],
    warnings: noise.filter((n) => SCENARIOS_OF[verdict.aspect].includes(n.scenario)).flatMap((n) => n.warnings),
  });
  return [latency(measured), coupling(measured), isolation(measured), scalability(measured)].map(withWarnings);
}

// ---------------------------------------------------------------------------------------------
// Checks

interface CheckInput {
  label: string;
  unit: Check['unit'];
  better: Check['better'];
  sides: [Side, Side];
  primary: boolean;
  note?: string;
}

export function check(input: CheckInput): Check {
  const status = compare(input.sides[0].interval, input.sides[1].interval, input.better);
  let note = input.note;
  if (status === 'not shown' && note === undefined) {
    const [a, b] = input.sides;
    if (!a.interval || !b.interval) note = 'not measured';
    else if (Math.min(a.interval.n, b.interval.n) < MIN_TRIALS) note = `fewer than ${MIN_TRIALS} trials`;
    else note = 'the ranges overlap: inside the noise of this run';
  }
  return { ...input, status, ...(note === undefined ? {} : { note }) };
}

/** All primary checks hold → holds; any does not → does not hold; otherwise not shown. */
export function statusOf(checks: readonly Check[]): Status {
  const primary = checks.filter((c) => c.primary);
  if (primary.length === 0) return 'not shown';
  if (primary.some((c) => c.status === 'does not hold')) return 'does not hold';
  return primary.every((c) => c.status === 'holds') ? 'holds' : 'not shown';
}

const side = (mode: Mode, values: readonly number[], label: string = mode): Side => ({
  label,
  mode,
  interval: intervalOf(values),
});

const ofMode = <T extends { mode: Mode }>(trials: readonly T[], mode: Mode) => trials.filter((t) => t.mode === mode);

const median = (values: readonly number[]) => intervalOf(values)?.median ?? Number.NaN;

// ---------------------------------------------------------------------------------------------
// Latency

const PERCENTILES = [
  { name: 'p50', key: 'p50Ms', words: 'the typical payment' },
  { name: 'p95', key: 'p95Ms', words: 'its slowest 5%' },
  { name: 'p99', key: 'p99Ms', words: 'its slowest 1%' },
] as const;
type Percentile = (typeof PERCENTILES)[number];

/** One percentile of a point, sync against async; a trial with too few answers for it does not count. */
function percentileCheck(trials: readonly LoadTrial[], p: Percentile, where: string): Check {
  const sides = (['sync', 'async'] as const).map((mode) => {
    const enough = ofMode(trials, mode).filter((t) => t.summary.succeeded >= MIN_ANSWERS[p.name]);
    return side(
      mode,
      enough.map((t) => t.summary[p.key]),
    );
  }) as [Side, Side];
  const fewest = Math.min(...trials.map((t) => t.summary.succeeded));
  const tooFew = fewest < MIN_ANSWERS[p.name];
  const failed = trials.filter((t) => t.summary.succeeded < t.summary.requests * 0.99);
  return check({
    label: `${p.name} ${where}`,
    unit: 'ms',
    better: 'lower',
    sides,
    primary: p.name === 'p50',
    ...(tooFew
      ? { note: `a ${p.name} needs ${MIN_ANSWERS[p.name]} answers a trial; a trial here had ${fewest}` }
      : failed.length > 0
        ? { note: `of the successful answers only: ${failed.length} trials had more than 1% errors` }
        : {}),
  });
}

/** What the machine did during a point's trials: why a tail may be slower. */
function reasonAt(trials: readonly LoadTrial[]): string {
  const async = ofMode(trials, 'async');
  const sync = ofMode(trials, 'sync');
  const cpus = (list: readonly LoadTrial[], part: 'requestPath' | 'sideEffects') =>
    median(list.flatMap((t) => (t.machine.systemCpus ? [t.machine.systemCpus[part]] : [])));
  const parts: string[] = [];
  const consumers = cpus(async, 'sideEffects');
  if (Number.isFinite(consumers)) {
    parts.push(
      `during those async trials its consumers used ${formatCpus(consumers)} while the request path used ${formatCpus(cpus(async, 'requestPath'))} (in sync's trials the same services used ${formatCpus(cpus(sync, 'sideEffects'))}, inside the requests)`,
    );
  }
  const idle = median(async.map((t) => t.machine.idleShare));
  if (Number.isFinite(idle)) parts.push(`the CPUs were ${formatPercent(idle)} idle`);
  const depth = Math.max(0, ...async.map((t) => t.queues?.maxDepth ?? 0));
  const lag = Math.max(0, ...async.map((t) => t.queues?.maxLagMs ?? 0));
  parts.push(`up to ${plural(depth, 'event')} waited in the queues (the oldest ${formatValue(lag, 'ms')})`);
  return `${parts.join(', ')}: async takes the side effects off the request, not off the machine, and on shared CPUs a burst of consumer work still delays some requests`;
}

function latency({ latency: scenario, slowdown }: Measured): Omit<Verdict, 'warnings' | 'claim'> {
  const points = scenario.points.map((point) => ({
    point,
    checks: PERCENTILES.map((p) => percentileCheck(point.trials, p, `at ${point.ratePerSec}/s`)),
  }));
  const slowWhere = `with email +${slowdown.addedLatencyMs} ms`;
  const slowChecks = PERCENTILES.map((p) => percentileCheck(slowdown.trials, p, slowWhere));
  const checks = [...points.flatMap((p) => p.checks), ...slowChecks];
  const status = statusOf(checks);

  const top = points.at(-1);
  const describe = (mode: Mode) => {
    if (!top) return 'not measured';
    const [p50, , p99] = top.checks;
    const tail = p99?.note?.startsWith('a p99 needs') ? top.checks[1] : p99;
    const at = (c: Check | undefined) =>
      c ? `${c.label.split(' ')[0]} ${formatInterval(c.sides[mode === 'sync' ? 0 : 1].interval, 'ms')}` : '';
    const slow = slowChecks[0]?.sides[mode === 'sync' ? 0 : 1].interval ?? null;
    return `${at(p50)}, ${at(tail)} at ${top.point.ratePerSec}/s; email +${slowdown.addedLatencyMs} ms → p50 ${formatInterval(slow, 'ms')}`;
  };

  const primaries = checks.filter((c) => c.primary);
  const p50Rates = points.map((p) => p.checks[0] as Check);
  const slowP50 = slowChecks[0] as Check;
  let because: string;
  if (status === 'holds') {
    because = `async answered the typical payment (p50) faster at every rate measured (${p50Rates.length}), with no overlap between the ${MIN_TRIALS} trials of each mode, and kept its response time when email slowed down (p50 ${formatInterval(slowP50.sides[1].interval, 'ms')} against sync's ${formatInterval(slowP50.sides[0].interval, 'ms')})`;
  } else if (status === 'does not hold') {
    const against = primaries.filter((c) => c.status === 'does not hold');
    because = `async's typical payment was slower beyond the noise: ${against.map((c) => `${c.label} (async ${formatInterval(c.sides[1].interval, 'ms')}, sync ${formatInterval(c.sides[0].interval, 'ms')})`).join('; ')}`;
  } else {
    const open = primaries.filter((c) => c.status === 'not shown');
    because = `not shown by this run: ${open.map((c) => `${c.label} (sync ${formatInterval(c.sides[0].interval, 'ms')}, async ${formatInterval(c.sides[1].interval, 'ms')}; ${c.note})`).join('; ')}`;
  }

  // The tails: where they say otherwise than the typical payment, say so, and what the machine did.
  const caveats: string[] = [];
  for (const { point, checks: pointChecks } of points) {
    const against = pointChecks.filter((c) => !c.primary && c.status === 'does not hold');
    if (against.length === 0) continue;
    const words = against.map((c) => PERCENTILES.find((p) => c.label.startsWith(p.name))?.words ?? c.label);
    const figures = against.map(
      (c) =>
        `${c.label.split(' ')[0]} ${formatInterval(c.sides[1].interval, 'ms')} against ${formatInterval(c.sides[0].interval, 'ms')}`,
    );
    const lead =
      caveats.length === 0 && pointChecks[0]?.status === 'holds' ? 'async answers the typical payment faster; ' : '';
    caveats.push(
      `${lead}at ${point.ratePerSec}/s ${words.join(' and ')} were slower (${figures.join(', ')}): ${reasonAt(point.trials)}`,
    );
  }
  const slowTails = slowChecks.filter((c) => !c.primary && c.status === 'does not hold');
  if (slowTails.length > 0) {
    caveats.push(`with email slowed, async's ${slowTails.map((c) => c.label.split(' ')[0]).join(' and ')} were slower`);
  }
  const tails = checks.filter((c) => !c.primary);
  const tailsHold = tails.filter((c) => c.status === 'holds').map((c) => c.label);
  const tailsOpen = tails.filter((c) => c.status === 'not shown');
  const tooFew = tailsOpen.filter((c) => c.note?.includes('answers a trial'));
  const overlapping = tailsOpen.filter((c) => !tooFew.includes(c));
  const tailWords = [
    tailsHold.length > 0 ? `faster too: ${tailsHold.join(', ')}` : '',
    overlapping.length > 0 ? `inside the noise: ${overlapping.map((c) => c.label).join(', ')}` : '',
    tooFew.length > 0 ? `not judged (too few answers a trial): ${tooFew.map((c) => c.label).join(', ')}` : '',
  ].filter(Boolean);
  if (tailWords.length > 0) because = `${because}. The slower answers (p95, p99) — ${tailWords.join('; ')}`;
  return {
    aspect: 'Latency (initial response)',
    status,
    sync: describe('sync'),
    async: describe('async'),
    because,
    ...(caveats.length > 0 ? { caveat: capitalize(caveats.join('. ')) } : {}),
    checks,
  };
}

// ---------------------------------------------------------------------------------------------
// Coupling

function coupling({ coupling: scenario }: Measured): Omit<Verdict, 'warnings' | 'claim'> {
  const paths = scenario.requestPaths;
  const checks: Check[] = [
    check({
      label: 'services each request waited for',
      unit: 'count',
      better: 'lower',
      sides: [
        side(
          'sync',
          paths.sync.map((p) => p.length),
        ),
        side(
          'async',
          paths.async.map((p) => p.length),
        ),
      ],
      primary: true,
      note: `counted from the trace of ${plural(Math.min(paths.sync.length, paths.async.length), 'payment')} each`,
    }),
  ];
  const fourth = scenario.fourthSideEffect;
  const cost = (mode: Mode) => {
    if (isSkipped(fourth)) return null;
    const p50s = (trials: readonly LoadTrial[]) => ofMode(trials, mode).map((t) => t.summary.p50Ms);
    return differenceOf(intervalOf(p50s(fourth.withFour)), intervalOf(p50s(fourth.withThree)));
  };
  if (!isSkipped(fourth)) {
    checks.push(
      check({
        label: `p50 cost of a fourth side effect at ${fourth.ratePerSec}/s`,
        unit: 'ms',
        better: 'lower',
        sides: [
          { label: 'sync', mode: 'sync', interval: cost('sync') },
          { label: 'async', mode: 'async', interval: cost('async') },
        ],
        primary: false,
      }),
    );
  }
  const status = statusOf(checks);
  const names = (mode: Mode) => paths[mode][0] ?? [];
  const count = (mode: Mode) => plural(names(mode).length, 'service');
  const costText = (mode: Mode) =>
    isSkipped(fourth)
      ? 'a fourth side effect: not measured in quick mode'
      : `a fourth side effect: p50 ${formatInterval(cost(mode), 'ms', true)}`;
  const costCheck = checks[1];
  const caveat = !costCheck
    ? undefined
    : costCheck.status === 'holds'
      ? undefined
      : costCheck.status === 'does not hold'
        ? `Yet a fourth side effect cost async's response time more than sync's in this run (async ${formatInterval(costCheck.sides[1].interval, 'ms', true)}, sync ${formatInterval(costCheck.sides[0].interval, 'ms', true)}): its consumer shares the CPUs with the requests`
        : `What a fourth side effect cost could not be told apart in this run (sync ${formatInterval(costCheck.sides[0].interval, 'ms', true)}, async ${formatInterval(costCheck.sides[1].interval, 'ms', true)}: the ranges overlap)`;
  const because =
    status === 'holds'
      ? `in every traced payment the async request waited for ${count('async')} and the sync one for ${count('sync')}${costCheck?.status === 'holds' ? `; one more side effect cost sync ${formatInterval(cost('sync'), 'ms', true)} at p50 and async ${formatInterval(cost('async'), 'ms', true)}` : ''}`
      : status === 'does not hold'
        ? 'the async request waited for as many services as the sync one'
        : 'the traces did not tell the request paths apart';
  return {
    aspect: 'Coupling',
    status,
    sync: `${count('sync')} on the request path (${names('sync').join(', ')}); ${costText('sync')}`,
    async: `${count('async')} on the request path (${names('async').join(', ')}); ${costText('async')}`,
    because,
    ...(caveat ? { caveat } : {}),
    checks,
  };
}

// ---------------------------------------------------------------------------------------------
// Failure isolation

function isolation({ outage, crash }: Measured): Omit<Verdict, 'warnings' | 'claim'> {
  const errors = (mode: Mode) =>
    side(
      mode,
      ofMode(outage.trials, mode).map((t) => t.errorRate),
    );
  const withoutReceipt = (mode: Mode) =>
    side(
      mode,
      ofMode(outage.trials, mode).map((t) =>
        mode === 'sync'
          ? t.chargedButFailed / Math.max(1, t.summary.requests)
          : (t.receipts?.lost ?? 0) / Math.max(1, t.receipts?.payments ?? 0),
      ),
    );
  const checks = [
    check({
      label: 'payments failed while email was down',
      unit: 'share',
      better: 'lower',
      sides: [errors('sync'), errors('async')],
      primary: true,
    }),
    check({
      label: 'payments charged but left without a receipt',
      unit: 'share',
      better: 'lower',
      sides: [withoutReceipt('sync'), withoutReceipt('async')],
      primary: true,
      note: 'async counted once email was back',
    }),
  ];
  const killed = crash.trials.reduce(
    (sum, t) => ({ payments: sum.payments + t.receipts.payments, lost: sum.lost + t.receipts.lost }),
    { payments: 0, lost: 0 },
  );
  const checked = statusOf(checks);
  // A receipt lost to a killed consumer breaks the claim whatever the outage showed.
  const status: Status = killed.lost > 0 ? 'does not hold' : checked;
  const recovered = outage.afterRecovery;
  const charged = outage.trials.reduce((sum, t) => sum + t.chargedButFailed, 0);
  const because =
    killed.lost > 0
      ? `async lost ${plural(killed.lost, 'receipt')} when a consumer was killed`
      : status === 'holds'
        ? `in every trial the email outage failed sync's payments and none of async's; every async receipt arrived once email was back, and a consumer killed mid-send lost none`
        : status === 'does not hold'
          ? 'async failed as many payments as sync during the outage, or left more without a receipt'
          : `not shown by this run: ${checks
              .filter((c) => c.status === 'not shown')
              .map((c) => `${c.label} (${c.note})`)
              .join('; ')}`;
  return {
    aspect: 'Failure isolation',
    status,
    sync: `${formatInterval(errors('sync').interval, 'share')} of payments failed while email was down; ${plural(charged, 'was', 'were')} charged all the same, told "failed", and got no receipt`,
    async: `${formatInterval(errors('async').interval, 'share')} failed; once email was back ${formatQuantity(recovered.deliveredOnce)}/${formatQuantity(recovered.payments)} receipts arrived once (lost ${recovered.lost}, duplicated ${recovered.duplicated}) within ${formatQuantity(outage.recoverySec)} s; consumers killed mid-send (${crash.trials.length}) lost ${killed.lost} of ${formatQuantity(killed.payments)}`,
    because,
    checks,
  };
}

// ---------------------------------------------------------------------------------------------
// Scalability

function scalability({ scalability: scenario }: Measured): Omit<Verdict, 'warnings' | 'claim'> {
  if (isSkipped(scenario)) {
    return {
      aspect: 'Scalability',
      status: 'not shown',
      sync: 'not measured',
      async: 'not measured',
      because: scenario.skipped,
      checks: [],
    };
  }
  const { trials, offeredPerSec } = scenario;
  const counts = [...new Set(scenario.processes)].sort((a, b) => a - b);
  const fewest = counts[0] ?? 1;
  const most = counts.at(-1) ?? 1;
  const share = (t: (typeof trials)[number]) => t.accepted / Math.max(1, t.offered);
  const asyncAt = (n: number) => trials.filter((t) => t.mode === 'async' && t.processes === n);
  const rateSide = (n: number): Side => ({
    label: `${n} email process${n > 1 ? 'es' : ''}`,
    mode: 'async',
    interval: intervalOf(asyncAt(n).flatMap((t) => (t.receiptsPerSec === null ? [] : [t.receiptsPerSec]))),
  });
  const noBacklog = (n: number) => asyncAt(n).filter((t) => t.receiptsPerSec === null).length;
  const rateCheck = (n: number, primary: boolean) => {
    const missing = noBacklog(fewest) + noBacklog(n);
    return check({
      label: `receipts per second, ${fewest} → ${n} email processes`,
      unit: '/s',
      better: 'higher',
      sides: [rateSide(fewest), rateSide(n)],
      primary,
      ...(missing > 0
        ? {
            note: `too short: in ${plural(missing, 'trial')} no backlog formed (the consumers kept up), which measures the offered load, not the consumers`,
          }
        : {}),
    });
  };
  const accepted = check({
    label: `payments accepted at ${offeredPerSec}/s offered, ${fewest} email process`,
    unit: 'share',
    better: 'higher',
    sides: [side('sync', ofMode(trials, 'sync').map(share)), side('async', asyncAt(fewest).map(share))],
    primary: true,
  });
  const checks = [accepted, rateCheck(most, true), ...counts.slice(1, -1).map((n) => rateCheck(n, false))];
  const status = statusOf(checks);
  const syncTrials = ofMode(trials, 'sync');
  const charged = median(syncTrials.map((t) => t.chargedButFailed));
  const rates = counts.map((n) => formatInterval(rateSide(n).interval, '/s'));
  const concurrency = scenario.perProcessConcurrency;
  const ideal = counts.map((n) => formatQuantity((n * concurrency * 1_000) / scenario.sideEffectLatencyMs));
  const because =
    status === 'holds'
      ? `async took every payment at a rate sync could not, and its receipts per second grew with consumer processes (${fewest} → ${most}: ${rates[0]} → ${rates.at(-1)})`
      : status === 'does not hold'
        ? `${checks
            .filter((c) => c.primary && c.status === 'does not hold')
            .map((c) => c.label)
            .join('; ')}: the other way round`
        : `not shown by this run: ${checks
            .filter((c) => c.primary && c.status === 'not shown')
            .map((c) => `${c.label} (${c.note})`)
            .join('; ')}`;
  const middle = checks.slice(2).filter((c) => c.status !== 'holds');
  return {
    aspect: 'Scalability',
    status,
    sync: `accepted ${formatInterval(accepted.sides[0].interval, 'share')} of ${offeredPerSec}/s offered: email (${scenario.sideEffectLatencyMs} ms a receipt, ${concurrency} at a time) caps the request rate; a median ${formatQuantity(charged)} payments a trial were charged but told "failed" (a timeout), and email went on ${formatInterval(intervalOf(syncTrials.map((t) => t.sendingAfterLoadSec)), 's')} after the load with the calls payments had given up on`,
    async: `accepted ${formatInterval(accepted.sides[1].interval, 'share')}; receipts ${rates.join(' → ')} with ${counts.join(' → ')} email processes (at most ${ideal.join(' → ')})`,
    because,
    ...(middle.length > 0 ? { caveat: `Not shown: ${middle.map((c) => `${c.label} (${c.note})`).join('; ')}` } : {}),
    checks,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
