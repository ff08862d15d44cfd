import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { type LabProgress, runLab, SCENARIOS, type ScenarioName } from '../lab/lab.js';
import { writeReport } from '../lab/report.js';
import type { LabReport, Status } from '../lab/results.js';

export interface LabCommandOptions {
  quick?: boolean;
  transport?: string;
  out: string;
}

/**
 * `syncopate lab`: both systems side by side, the scenarios with a progress bar each, then the
 * report (Markdown, HTML, JSON) and the verdicts on the terminal. Returns the exit code.
 */
export async function lab(options: LabCommandOptions): Promise<number> {
  const progress = process.stderr.isTTY ? barProgress() : lineProgress();
  const report = await runLab(
    { quick: options.quick ?? false, ...(options.transport ? { transportUrl: options.transport } : {}) },
    progress,
  ).finally(() => progress.stop());
  const files = await writeReport(report, resolve(options.out));
  process.stdout.write(
    `\n${summaryOf(report)}\n\nReport: ${files.html}\n        ${files.markdown}\n        ${files.json}\n`,
  );
  return 0;
}

/** The verdicts, what async costs and the machine's state, as plain text for the terminal. */
function summaryOf(report: LabReport): string {
  const verdicts = report.verdicts.map((v) =>
    [
      `${STATUS_WORDS[v.status].padEnd(16)} ${v.aspect}`,
      `    sync:  ${v.sync}`,
      `    async: ${v.async}`,
      `    ${v.because}`,
      ...(v.caveat ? [`    but: ${v.caveat}`] : []),
      ...v.warnings.map((w) => `    ! ${w}`),
    ].join('\n'),
  );
  const costs = report.costs.map((c) => `  ${c.cost}\n    sync:  ${c.sync}\n    async: ${c.async}`);
  return [...verdicts, '', 'What async costs:', ...costs].join('\n');
}

const STATUS_WORDS: Record<Status, string> = {
  holds: 'holds',
  'does not hold': 'DOES NOT HOLD',
  'not shown': 'not shown',
};

/** A bar per scenario on a terminal. */
function barProgress(): LabProgress & { stop(): void } {
  const bars = new cliProgress.MultiBar(
    { format: ' {bar} {percentage}% | {scenario} {detail}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const byName = new Map<ScenarioName, cliProgress.SingleBar>();
  for (const scenario of SCENARIOS)
    byName.set(scenario, bars.create(100, 0, { scenario: scenario.padEnd(22), detail: '' }));
  return {
    update(scenario, fraction, detail) {
      byName.get(scenario)?.update(Math.round(fraction * 100), { detail: detail ?? '' });
    },
    stop: () => bars.stop(),
  };
}

/** Without a terminal (CI, a pipe): a line when a scenario starts, moves to a new step, and ends. */
function lineProgress(): LabProgress & { stop(): void } {
  const started = Date.now();
  let last = '';
  return {
    update(scenario, fraction, detail) {
      const state = fraction === 0 ? 'started' : fraction === 1 ? 'done' : detail;
      const line = `${scenario}: ${state}`;
      if (!state || line === last) return;
      last = line;
      const seconds = ((Date.now() - started) / 1_000).toFixed(1);
      process.stderr.write(`[${seconds.padStart(5)} s] ${line}\n`);
    },
    stop() {},
  };
}
