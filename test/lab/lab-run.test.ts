import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'parse5';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabReport } from '../../src/lab/results.js';

/**
 * `syncopate lab --quick`, run as a user runs it. The figures are reported, not asserted: these
 * are the behaviours that hold whatever the machine's speed.
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
  }, 240_000);

  it('exits 0 and prints the filled table', () => {
    expect(exitCode, output).toBe(0);
    for (const aspect of ['Latency (initial response)', 'Coupling', 'Failure isolation', 'Scalability']) {
      expect(output).toContain(aspect);
    }
  });

  it('during the email outage every sync request fails and every async request succeeds', () => {
    const { statusesDuringOutage: statuses, errorRateDuringOutage: errors } = report.outage;
    expect(Object.values(statuses.sync).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(Object.keys(statuses.sync).every((status) => !status.startsWith('2'))).toBe(true);
    expect(errors.sync).toBe(1);
    expect(Object.keys(statuses.async)).toEqual(['201']);
    expect(errors.async).toBe(0);
    expect(report.outage.syncChargedButFailed).toBeGreaterThan(0);
  });

  it('after recovery, and after consumers were killed, every async side effect happened exactly once', () => {
    for (const count of [report.outage.afterRecovery, report.crash.async]) {
      expect(count.payments).toBeGreaterThan(0);
      expect(count.lost).toBe(0);
      expect(count.duplicated).toBe(0);
      expect(count.deliveredOnce).toBe(count.payments);
      expect(count.analyticsCounted).toBe(count.payments);
    }
  });

  it('counts the services on each request path from the traces', () => {
    expect(report.coupling.requestPathServices.async).toEqual(['gateway']);
    expect(report.coupling.requestPathServices.sync).toEqual(['gateway', 'email', 'analytics', 'notifications']);
  });

  it('writes the report as Markdown, a self-contained HTML page and JSON that parse', () => {
    const markdown = readFileSync(join(out, 'lab-report.md'), 'utf8');
    expect(markdown).toMatch(/\| Aspect \| Synchronous \| Asynchronous \| Claim holds\? \|/);
    const html = readFileSync(join(out, 'lab-report.html'), 'utf8');
    const errors: string[] = [];
    parse(html, { onParseError: (error) => errors.push(error.code) });
    expect(errors).toEqual([]);
    expect(html).toContain('<canvas');
    expect(existsSync(join(out, 'lab-report.json'))).toBe(true);
    expect(report.verdicts.map((v) => v.aspect)).toEqual([
      'Latency (initial response)',
      'Coupling',
      'Failure isolation',
      'Scalability',
    ]);
    expect(report.quick).toBe(true);
  });
});
