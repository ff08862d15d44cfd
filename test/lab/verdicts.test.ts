import { describe, expect, it } from 'vitest';
import { conclude } from '../../src/lab/conclude.js';
import type { Interval, LoadTrial, Measured, Verdict } from '../../src/lab/results.js';
import { backlogRate } from '../../src/lab/scenarios/scalability.js';
import { compare, intervalOf } from '../../src/lab/stats.js';
import { check, statusOf } from '../../src/lab/verdicts.js';
import { sampleMeasured } from './fixture.js';

const range = (...values: number[]) => intervalOf(values) as Interval;
const verdictOf = (measured: Measured, aspect: Verdict['aspect']) =>
  conclude(measured).verdicts.find((v) => v.aspect === aspect) as Verdict;

/** Sets one percentile of every trial of a mode, trial by trial. */
function setPercentile(trials: LoadTrial[], mode: 'sync' | 'async', key: 'p50Ms' | 'p99Ms', values: number[]) {
  trials
    .filter((t) => t.mode === mode)
    .forEach((t, i) => {
      t.summary[key] = values[i] as number;
    });
}

describe('a check between two sides over their trials', () => {
  it('holds only when the ranges do not overlap and the claimed side is the better one', () => {
    expect(compare(range(100, 110, 120), range(20, 25, 30), 'lower')).toBe('holds');
    expect(compare(range(20, 25, 30), range(100, 110, 120), 'lower')).toBe('does not hold');
    expect(compare(range(8, 8.1, 7.9), range(31, 31.5, 31.4), 'higher')).toBe('holds');
  });

  it('is not shown when the ranges overlap, however far apart the medians', () => {
    expect(compare(range(40, 100, 101), range(20, 21, 41), 'lower')).toBe('not shown');
    expect(compare(range(50, 50, 50), range(50, 50, 50), 'lower')).toBe('not shown');
  });

  it('is not shown on fewer than three trials a side, or a side not measured', () => {
    expect(compare(range(100, 110), range(20, 25), 'lower')).toBe('not shown');
    expect(compare(null, range(20, 25, 30), 'lower')).toBe('not shown');
    const unmeasured = check({
      label: 'p99 at 10/s',
      unit: 'ms',
      better: 'lower',
      sides: [
        { label: 'sync', mode: 'sync', interval: null },
        { label: 'async', mode: 'async', interval: range(1, 2, 3) },
      ],
      primary: false,
    });
    expect(unmeasured).toMatchObject({ status: 'not shown', note: 'not measured' });
  });

  it('decides a verdict from its primary checks only: one against, and the verdict does not hold', () => {
    const make = (status: 'holds' | 'does not hold' | 'not shown', primary: boolean) =>
      ({ status, primary }) as Parameters<typeof statusOf>[0][number];
    expect(statusOf([make('holds', true), make('does not hold', false)])).toBe('holds');
    expect(statusOf([make('holds', true), make('not shown', true)])).toBe('not shown');
    expect(statusOf([make('not shown', true), make('does not hold', true)])).toBe('does not hold');
    expect(statusOf([])).toBe('not shown');
  });
});

describe('the latency verdict', () => {
  it('says "not shown", never "holds", when the typical payment is inside the noise at one rate', () => {
    const measured = sampleMeasured();
    const trials = measured.latency.points[0]?.trials as LoadTrial[];
    setPercentile(trials, 'sync', 'p50Ms', [50, 30, 55]);
    setPercentile(trials, 'async', 'p50Ms', [20, 35, 22]);
    const verdict = verdictOf(measured, 'Latency (initial response)');
    expect(verdict.status).toBe('not shown');
    expect(verdict.because).toContain('not shown by this run: p50 at 25/s (sync 50 ms (30–55), async 22 ms (20–35)');
    expect(verdict.checks.find((c) => c.label === 'p50 at 25/s')?.note).toBe(
      'the ranges overlap: inside the noise of this run',
    );
  });

  it('does not hold when async is slower beyond the noise at a rate', () => {
    const measured = sampleMeasured();
    const trials = measured.latency.points[1]?.trials as LoadTrial[];
    setPercentile(trials, 'sync', 'p50Ms', [40, 42, 41]);
    setPercentile(trials, 'async', 'p50Ms', [60, 61, 65]);
    const verdict = verdictOf(measured, 'Latency (initial response)');
    expect(verdict.status).toBe('does not hold');
    expect(verdict.because).toContain("async's typical payment was slower beyond the noise: p50 at 100/s");
  });

  it('looks at the tails too: where they disagree it says so, with what the machine did', () => {
    const verdict = verdictOf(sampleMeasured(), 'Latency (initial response)');
    expect(verdict.status).toBe('holds');
    expect(verdict.checks.find((c) => c.label === 'p99 at 100/s')?.status).toBe('does not hold');
    expect(verdict.caveat).toMatch(
      /^Async answers the typical payment faster; at 100\/s its slowest 1% were slower \(p99 [\d.]+ ms \([\d.–]+\) against [\d.]+ ms \([\d.–]+\)\): during those async trials its consumers used 0\.40 CPU while the request path used 0\.60 CPU .* the CPUs were 4\.0% idle, up to 70 events waited in the queues/,
    );
    expect(verdict.because).toContain('not judged (too few answers a trial): p99 with email +300 ms');
  });
});

describe('scenarios too short to show their point', () => {
  it('gives no verdict on scalability when quick mode left it out', () => {
    const verdict = verdictOf({ ...sampleMeasured(), scalability: { skipped: 'not in quick mode' } }, 'Scalability');
    expect(verdict).toMatchObject({ status: 'not shown', because: 'not in quick mode', checks: [] });
  });

  it('gives no verdict on scalability when no backlog formed: the consumers then measure the load', () => {
    const measured = sampleMeasured();
    if ('skipped' in measured.scalability) throw new Error('the fixture measures scalability');
    for (const t of measured.scalability.trials) if (t.processes === 4 && t.trial > 1) t.receiptsPerSec = null;
    const verdict = verdictOf(measured, 'Scalability');
    expect(verdict.status).toBe('not shown');
    const growth = verdict.checks.find((c) => c.label === 'receipts per second, 1 → 4 email processes');
    expect(growth?.status).toBe('not shown');
    expect(growth?.note).toContain('too short: in 2 trials no backlog formed');
  });

  it('measures receipts per second over whole rounds of a backlog, and not without one', () => {
    // Four at a time, a round every 500 ms, the load over long before the last round.
    const rounds = [500, 1_000, 1_500, 2_000].flatMap((at) => [at, at + 1, at + 2, at + 3]);
    expect(backlogRate(rounds, 4, 200, 500)).toBe(8);
    // The consumers kept up: the last receipt came right after the load ended.
    expect(backlogRate(rounds, 4, 1_900, 500)).toBeNull();
    // Too few rounds to tell.
    expect(backlogRate(rounds.slice(0, 8), 4, 0, 500)).toBeNull();
  });
});

describe('the failure isolation verdict', () => {
  it('does not hold when a killed consumer lost a receipt, whatever the outage showed', () => {
    const measured = sampleMeasured();
    const trial = measured.crash.trials[1];
    if (trial) trial.receipts = { ...trial.receipts, deliveredOnce: trial.receipts.payments - 1, lost: 1 };
    const verdict = verdictOf(measured, 'Failure isolation');
    expect(verdict.status).toBe('does not hold');
    expect(verdict.because).toBe('async lost 1 receipt when a consumer was killed');
  });
});

describe('the noise', () => {
  it('warns on the verdicts whose scenarios ran on a busy machine or whose trials disagreed widely', () => {
    const measured = sampleMeasured();
    for (const t of measured.outage.trials) t.machine = { ...t.machine, otherCpus: 1.2, idleShare: 0.01 };
    const slow = measured.slowdown.trials.filter((t) => t.mode === 'sync');
    slow.forEach((t, i) => {
      t.summary.p50Ms = [300, 480, 320][i] as number;
    });
    const report = conclude(measured);
    const isolation = report.verdicts.find((v) => v.aspect === 'Failure isolation');
    expect(isolation?.warnings).toEqual([
      'the machine was busy: other programs used 1.20 CPU of 2 during the outage trials (median; up to 1.20 CPU) and the CPUs were 1.0% idle, so their figures carry that noise',
    ]);
    const latency = report.verdicts.find((v) => v.aspect === 'Latency (initial response)');
    expect(latency?.warnings).toContain(
      'the slowdown trials disagreed widely (p50 with email slowed, sync: 300 to 480): a quieter machine or more trials would pin it down',
    );
    const outage = report.noise.find((n) => n.scenario === 'outage');
    expect(outage?.otherCpus).toEqual({ median: 1.2, min: 1.2, max: 1.2, n: 6 });
  });
});
