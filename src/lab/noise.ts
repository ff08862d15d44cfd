import { formatCpus, formatInterval, formatPercent, formatQuantity } from './format.js';
import { isSkipped, type Measured, type ScenarioNoise, type TrialBase } from './results.js';
import { intervalOf, relativeSpread } from './stats.js';

/** A scenario's trials, and the figure of each point whose spread between trials tells how steady it was. */
interface ScenarioTrials {
  scenario: string;
  trials: readonly TrialBase[];
  /** Per point and mode: the main figure of each trial. */
  points: { label: string; values: number[] }[];
}

/** Other programs using this share of the machine's CPUs make a scenario's figures noisy. */
export const BUSY_SHARE = 0.15;
/** Less idle than this, and requests waited for a CPU. */
export const SATURATED_IDLE = 0.05;
/** Trials this far apart ((max − min) / median) do not pin a figure down. */
export const WIDE_SPREAD = 0.5;

/** The machine during each scenario: its idle share, the load generator, other programs, the trials' spread. */
export function noiseOf(measured: Measured): ScenarioNoise[] {
  const cpus = measured.machine.cpus;
  return scenarioTrials(measured).map(({ scenario, trials, points }) => {
    const machines = trials.map((t) => t.machine);
    const idleShare = intervalOf(machines.map((m) => m.idleShare));
    const loadGeneratorCpus = intervalOf(machines.map((m) => m.loadGeneratorCpus));
    const otherCpus = intervalOf(machines.flatMap((m) => (m.otherCpus === null ? [] : [m.otherCpus])));
    const spreads = points.flatMap(({ label, values }) => {
      const share = relativeSpread(intervalOf(values));
      return share === null ? [] : [{ label, share }];
    });
    const spread = spreads.reduce<ScenarioNoise['spread']>((w, s) => (w === null || s.share > w.share ? s : w), null);
    const warnings: string[] = [];
    const saturated = machines.filter((m) => m.idleShare < SATURATED_IDLE).length;
    const idleWords = idleShare ? `the CPUs were ${formatPercent(idleShare.median)} idle` : 'the idle time is unknown';
    if (otherCpus && otherCpus.median >= BUSY_SHARE * cpus) {
      warnings.push(
        `the machine was busy: other programs used ${formatCpus(otherCpus.median)} of ${cpus} during the ${scenario} trials (median; up to ${formatCpus(otherCpus.max)}) and ${idleWords}, so their figures carry that noise`,
      );
    } else if (saturated > 0) {
      warnings.push(
        `in ${saturated} of ${machines.length} ${scenario} trials the CPUs were less than ${formatPercent(SATURATED_IDLE)} idle (the systems and the load generator used them all): there, part of each response time was the wait for a CPU`,
      );
    }
    if (spread && spread.share >= WIDE_SPREAD) {
      const widest = points.find((p) => p.label === spread.label);
      const range = widest ? intervalOf(widest.values) : null;
      warnings.push(
        `the ${scenario} trials disagreed widely (${spread.label}: ${range ? `${formatQuantity(range.min)} to ${formatQuantity(range.max)}` : `spread ${formatPercent(spread.share)}`}): a quieter machine or more trials would pin it down`,
      );
    }
    return { scenario, trials: trials.length, idleShare, loadGeneratorCpus, otherCpus, spread, warnings };
  });
}

function scenarioTrials(m: Measured): ScenarioTrials[] {
  const byMode = <T extends TrialBase>(label: string, trials: readonly T[], value: (t: T) => number | null) =>
    (['sync', 'async'] as const).map((mode) => ({
      label: `${label}, ${mode}`,
      values: trials
        .filter((t) => t.mode === mode)
        .flatMap((t) => {
          const v = value(t);
          return v === null ? [] : [v];
        }),
    }));
  const p50 = (t: { summary: { p50Ms: number; succeeded: number } }) =>
    t.summary.succeeded > 0 ? t.summary.p50Ms : null;
  const list: ScenarioTrials[] = [
    {
      scenario: 'latency',
      trials: m.latency.points.flatMap((p) => p.trials),
      points: m.latency.points.flatMap((p) => byMode(`p50 at ${p.ratePerSec}/s`, p.trials, p50)),
    },
    {
      scenario: 'slowdown',
      trials: m.slowdown.trials,
      points: byMode('p50 with email slowed', m.slowdown.trials, p50),
    },
    { scenario: 'outage', trials: m.outage.trials, points: [] },
    { scenario: 'crash', trials: m.crash.trials, points: [] },
  ];
  if (!isSkipped(m.scalability)) {
    const { trials } = m.scalability;
    list.push({
      scenario: 'scalability',
      trials,
      points: m.scalability.processes.map((n) => ({
        label: `receipts/s with ${n} email process${n > 1 ? 'es' : ''}`,
        values: trials.flatMap((t) =>
          t.mode === 'async' && t.processes === n && t.receiptsPerSec !== null ? [t.receiptsPerSec] : [],
        ),
      })),
    });
  }
  const fourth = m.coupling.fourthSideEffect;
  if (!isSkipped(fourth)) {
    list.push({
      scenario: 'coupling',
      trials: [...fourth.withFour, ...fourth.withThree],
      points: [
        ...byMode('p50 with four side effects', fourth.withFour, p50),
        ...byMode('p50 with three', fourth.withThree, p50),
      ],
    });
  }
  return list.filter((s) => s.trials.length > 0);
}

/** The scenario noise table's cells, in order: trials, idle, load generator, other programs, widest spread. */
export function noiseCells(noise: ScenarioNoise): string[] {
  return [
    String(noise.trials),
    formatInterval(noise.idleShare, 'share'),
    formatInterval(noise.loadGeneratorCpus, 'cpu'),
    noise.otherCpus ? formatInterval(noise.otherCpus, 'cpu') : 'unknown',
    noise.spread ? `${formatPercent(noise.spread.share)} (${noise.spread.label})` : '—',
  ];
}
