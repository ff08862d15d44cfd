import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANS } from '../../src/lab/plan.js';
import type { Check, LabReport, TrialBase } from '../../src/lab/results.js';
import { compare, MIN_TRIALS } from '../../src/lab/stats.js';
import { statusOf } from '../../src/lab/verdicts.js';
import { byId, byTag, expectChartsAgree, parseHtml, text } from './html.js';

const STATUSES = ['holds', 'does not hold', 'not shown'];

/**
 * `syncopate lab --quick`, run as a user runs it. The figures are reported, not asserted: these are
 * the behaviours that hold whatever the machine's speed and however busy it is.
 */
describe('syncopate lab --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'syncopate-lab-report-'));
  let report: LabReport;
  let exitCode: number | null;
  let output = '';

  beforeAll(async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'lab', '--quick', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exitCode = await new Promise((resolve) => child.once('exit', resolve));
    report = JSON.parse(readFileSync(join(out, 'lab-report.json'), 'utf8')) as LabReport;
  }, 300_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0 and prints each verdict with its status, and what async costs', () => {
    expect(exitCode, output).toBe(0);
    for (const verdict of report.verdicts) {
      expect(output).toMatch(new RegExp(`(holds|DOES NOT HOLD|not shown) +${verdict.aspect.replace(/[()]/g, '\\$&')}`));
    }
    expect(output).toContain('What async costs:');
  });

  it('keeps every trial: three of each mode per point, interleaved, each with what the machine did', () => {
    const { trials } = PLANS.quick;
    const interleaved = (list: readonly TrialBase[]) => {
      expect(list.map((t) => t.mode)).toEqual(Array.from({ length: trials }, () => ['sync', 'async']).flat());
      expect(list.map((t) => t.trial)).toEqual(Array.from({ length: trials }, (_, i) => [i + 1, i + 1]).flat());
    };
    for (const point of report.latency.points) interleaved(point.trials);
    interleaved(report.slowdown.trials);
    interleaved(report.outage.trials);
    expect(report.crash.trials).toHaveLength(trials);
    const all: TrialBase[] = [
      ...report.latency.points.flatMap((p) => p.trials),
      ...report.slowdown.trials,
      ...report.outage.trials,
      ...report.crash.trials,
    ];
    for (const trial of all) {
      expect(trial.machine.idleShare).toBeGreaterThanOrEqual(0);
      expect(trial.machine.idleShare).toBeLessThanOrEqual(1);
      expect(trial.machine.loadGeneratorCpus).toBeGreaterThan(0);
    }
    expect(report.noise.map((n) => n.scenario)).toEqual(['latency', 'slowdown', 'outage', 'crash']);
  });

  it('gives every verdict a status drawn from its checks, each check from intervals over its trials', () => {
    expect(report.verdicts.map((v) => v.aspect)).toEqual([
      'Latency (initial response)',
      'Coupling',
      'Failure isolation',
      'Scalability',
    ]);
    for (const verdict of report.verdicts) {
      expect(STATUSES).toContain(verdict.status);
      for (const check of verdict.checks) {
        expect(STATUSES).toContain(check.status);
        // The status is what the intervals say; a yes or a no rests on at least three trials a side.
        expect(compare(check.sides[0].interval, check.sides[1].interval, check.better), check.label).toBe(check.status);
        if (check.status !== 'not shown') {
          for (const side of check.sides) expect(side.interval?.n, check.label).toBeGreaterThanOrEqual(MIN_TRIALS);
        }
      }
      expect(verdict.status).toBe(statusOf(verdict.checks));
    }
  });

  it('gives no verdict on what quick mode did not measure, or measured too briefly', () => {
    const scalability = report.verdicts.find((v) => v.aspect === 'Scalability');
    expect(scalability).toMatchObject({ status: 'not shown', checks: [] });
    expect(scalability?.because).toContain('quick mode does not measure scalability');
    const tooShort = (c: Check) => /too (few|short)/.test(c.note ?? '');
    for (const verdict of report.verdicts) {
      for (const check of verdict.checks.filter(tooShort)) expect(check.status, check.label).toBe('not shown');
    }
    // A quick trial has too few answers for a p99: it is not judged.
    const p99 = report.verdicts[0]?.checks.find((c) => c.label.startsWith('p99'));
    expect(p99?.status).toBe('not shown');
  });

  it('draws charts that carry each verdict status and agree with every check', () => {
    const html = readFileSync(join(out, 'lab-report.html'), 'utf8');
    const document = parseHtml(html);
    expectChartsAgree(document, report.verdicts);
    expect(text(byId(document, 'scalability'))).toContain('Not measured: quick mode does not measure scalability');
    expect(byTag(document, 'canvas')).toHaveLength(1);
  });

  it('during the outage every sync request fails and every async request succeeds', () => {
    for (const trial of report.outage.trials) {
      expect(trial.summary.requests).toBeGreaterThan(0);
      if (trial.mode === 'sync') {
        expect(Object.keys(trial.summary.statuses).every((status) => !status.startsWith('2'))).toBe(true);
        expect(trial.errorRate).toBe(1);
      } else {
        expect(Object.keys(trial.summary.statuses)).toEqual(['201']);
        expect(trial.errorRate).toBe(0);
      }
    }
    expect(report.outage.trials.reduce((sum, t) => sum + t.chargedButFailed, 0)).toBeGreaterThan(0);
    expect(report.verdicts.find((v) => v.aspect === 'Failure isolation')?.status).toBe('holds');
  });

  it('after recovery, and after consumers were killed mid-send, no side effect was lost or duplicated', () => {
    const { afterRecovery } = report.outage;
    for (const count of [afterRecovery, ...report.crash.trials.map((t) => t.receipts)]) {
      expect(count.payments).toBeGreaterThan(0);
      expect(count.lost).toBe(0);
      expect(count.duplicated).toBe(0);
      expect(count.deliveredOnce).toBe(count.payments);
    }
    expect(afterRecovery.analyticsCounted).toBe(afterRecovery.payments);
  });

  it('counts the services on each request path from the traces', () => {
    for (const path of report.coupling.requestPaths.async) expect(path).toEqual(['gateway']);
    for (const path of report.coupling.requestPaths.sync) {
      expect(path).toEqual(['gateway', 'email', 'analytics', 'notifications', 'reports']);
    }
    expect(report.verdicts.find((v) => v.aspect === 'Coupling')?.status).toBe('holds');
  });

  it('reports what async costs, measured in the same run', () => {
    expect(report.costs.map((c) => c.cost)).toEqual([
      'Consistency window: from the 201 to the receipt at the mail server',
      'At-least-once delivery: consumers killed mid-send (SIGKILL)',
      'Moving parts added',
      'Read-your-writes: reading right after paying',
    ]);
    // The consistency window rests on every payment's receipt.
    for (const trial of report.latency.points.flatMap((p) => p.trials)) {
      expect(trial.receiptAfterAnswerMs.length).toBe(trial.summary.succeeded);
    }
    // Sync did its side effects before answering: a read right after the 201 sees them.
    const sync = report.readYourWrites.probes.filter((p) => p.mode === 'sync');
    expect(sync.length).toBe(PLANS.quick.readYourWrites.probes);
    for (const probe of sync) expect(probe).toMatchObject({ countedAtOnce: true, reportIncluded: true });
    expect(report.movingParts.consumerGroups).toEqual(
      expect.arrayContaining(['email', 'analytics', 'webhooks', 'live', 'reports-ledger', 'reports']),
    );
  });

  it('writes the Markdown report beside the HTML and JSON', () => {
    const markdown = readFileSync(join(out, 'lab-report.md'), 'utf8');
    expect(markdown).toMatch(/\| Aspect \| Synchronous \| Asynchronous \| Verdict \|/);
    expect(markdown).toContain('## What async costs');
    expect(markdown).toContain('## The machine during the run');
    expect(report.quick).toBe(true);
  });
});
