/**
 * The lab's report: one content model (sections of headings, paragraphs, tables and charts)
 * rendered twice, as Markdown (lab-report.md) and as one self-contained HTML page (lab-report.html:
 * the verdicts' charts as SVG, the percentile curve by an inlined Chart.js), beside the raw data
 * with every trial (lab-report.json).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { STATUS_MARK } from './check-chart.js';
import { formatCount, formatInterval, formatMs, formatPercent, formatQuantity, plural } from './format.js';
import { BUSY_SHARE, noiseCells, SATURATED_IDLE, WIDE_SPREAD } from './noise.js';
import { CHART_CSS, CHARTS_SCRIPT, chartJsUmd, escapeXml, inlineScript, verdictChartSvg } from './report-charts.js';
import {
  type Check,
  isSkipped,
  type LabReport,
  type LatencySummary,
  type LoadTrial,
  type MachineUse,
  type Mode,
  type SideEffectCount,
  type Status,
} from './results.js';
import { intervalOf, MIN_TRIALS } from './stats.js';

export const REPORT_FILES = { markdown: 'lab-report.md', html: 'lab-report.html', json: 'lab-report.json' } as const;

/** Writes the three files into `directory` (created if missing); returns their absolute paths. */
export async function writeReport(
  report: LabReport,
  directory: string,
): Promise<{ markdown: string; html: string; json: string }> {
  await mkdir(directory, { recursive: true });
  const paths = {
    markdown: resolve(directory, REPORT_FILES.markdown),
    html: resolve(directory, REPORT_FILES.html),
    json: resolve(directory, REPORT_FILES.json),
  };
  await Promise.all([
    writeFile(paths.markdown, renderMarkdown(report)),
    writeFile(paths.html, renderHtml(report)),
    writeFile(paths.json, `${JSON.stringify(report, null, 2)}\n`),
  ]);
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Content model

/** Inline text: plain (escaped by each renderer), code, strong, emphasis, a status badge, a link, or a run. */
type Inline =
  | string
  | { code: string }
  | { strong: string }
  | { em: string }
  | { status: Status }
  | { link: string; href: string }
  | readonly Inline[];

interface Table {
  caption: string;
  head: readonly string[];
  rows: readonly (readonly Inline[])[];
  /** Per column; numbers right-aligned. */
  align?: readonly ('left' | 'right')[];
}

type Block =
  | { kind: 'p'; text: Inline }
  | { kind: 'h3'; id: string; text: Inline }
  | { kind: 'list'; items: Inline[] }
  | { kind: 'table'; table: Table; collapsed?: boolean }
  /** HTML only: a verdict's chart, drawn as SVG. */
  | { kind: 'svg'; svg: string; caption: Inline }
  /** HTML only: a chart the page's script draws (Chart.js), with a text fallback. */
  | { kind: 'canvas'; id: string; label: string; caption: Inline; fallback: string };

interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

const MODES: readonly Mode[] = ['sync', 'async'];
const MODE_NAMES: Record<Mode, string> = { sync: 'Synchronous', async: 'Asynchronous' };

// ---------------------------------------------------------------------------------------------
// Figures

const isSuccess = (status: string) => /^2\d\d$/.test(status);

/** The non-2xx share of the responses (connection errors and timeouts included). */
export function errorRate(statuses: Record<string, number>): number {
  let total = 0;
  let errors = 0;
  for (const [status, count] of Object.entries(statuses)) {
    total += count;
    if (!isSuccess(status)) errors += count;
  }
  return total > 0 ? errors / total : Number.NaN;
}

/** "201 × 950 · 503 × 50", most frequent first; "0" is no response (connection error or timeout). */
export function formatStatuses(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses).filter(([, count]) => count > 0);
  if (entries.length === 0) return 'none';
  return entries
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([status, count]) => `${status === '0' ? 'no response' : status} × ${formatCount(count)}`)
    .join(' · ');
}

function formatInstant(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function formatDuration(fromIso: string, toIso: string): string | undefined {
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return minutes > 0 ? `${minutes} min ${rest} s` : `${rest} s`;
}

function reportDate(report: LabReport): string {
  const match = /^\d{4}-\d{2}-\d{2}/.exec(report.startedAt);
  return match ? match[0] : report.startedAt;
}

const idle = (m: MachineUse) => formatPercent(m.idleShare);

// ---------------------------------------------------------------------------------------------
// Sections

function headline(report: LabReport): Inline[] {
  const { machine } = report;
  const duration = formatDuration(report.startedAt, report.finishedAt);
  const others = intervalOf(report.noise.flatMap((n) => (n.otherCpus ? [n.otherCpus.median] : [])));
  const warned = report.noise.filter((n) => n.warnings.length > 0).map((n) => n.scenario);
  return [
    [
      'Run from ',
      formatInstant(report.startedAt),
      ' to ',
      formatInstant(report.finishedAt),
      duration ? ` (${duration})` : '',
      report.quick ? ' — a quick run: short loads, one rate, and two aspects left out (it says which).' : '.',
      ` Every figure compared is the median of ${report.trials} trials per mode, run in turn (sync, async, sync, async, …), with their range.`,
    ],
    [
      { strong: 'Machine:' },
      ` ${plural(machine.cpus, 'CPU')} (`,
      machine.cpuModel,
      `), ${formatQuantity(machine.memoryGiB)} GiB memory, Node `,
      machine.node,
      ' on ',
      machine.platform,
      '. ',
      { strong: 'Transport:' },
      ' ',
      { code: report.transport },
      '.',
    ],
    [
      { strong: 'Machine state:' },
      others
        ? ` other programs used ${formatInterval(others, 'cpu')} of ${machine.cpus} during the scenarios (median per scenario, and their range)`
        : ' what other programs used could not be read on this platform',
      warned.length > 0
        ? `; the noise warnings below concern ${warned.join(', ')}.`
        : '; no scenario was flagged as too noisy.',
    ],
  ];
}

function verdictSection(report: LabReport): Section {
  const rows = report.verdicts.map((v): Inline[] => [
    v.aspect,
    [{ em: v.claim.sync }, ' — ', v.sync],
    [{ em: v.claim.async }, ' — ', v.async],
    [
      { status: v.status },
      ' — ',
      v.because,
      v.caveat ? [' ', { strong: 'But:' }, ' ', v.caveat] : '',
      v.warnings.length > 0 ? [' ', { strong: 'Noise:' }, ` ${plural(v.warnings.length, 'warning')} below.`] : '',
    ],
  ]);
  const count = (status: Status) => report.verdicts.filter((v) => v.status === status).length;
  const warnings = report.verdicts.filter((v) => v.warnings.length > 0);
  return {
    id: 'verdicts',
    title: 'Synchronous vs asynchronous: the chapter’s table, measured',
    blocks: [
      {
        kind: 'table',
        table: {
          caption: 'What the chapter claims for each aspect (in italics), what this run measured, and the verdict',
          head: ['Aspect', 'Synchronous', 'Asynchronous', 'Verdict'],
          rows,
        },
      },
      {
        kind: 'p',
        text: `Of ${report.verdicts.length} aspects: ${count('holds')} hold, ${count('does not hold')} do not hold, ${count('not shown')} not shown by this run. A verdict holds only when the trials of the two modes do not overlap; “not shown” means the difference was inside the noise, the scenario was too short, or this run did not measure it.`,
      },
      ...(warnings.length > 0
        ? [
            { kind: 'p' as const, text: { strong: 'Noise warnings' } },
            {
              kind: 'list' as const,
              items: warnings.flatMap((v) => v.warnings.map((w): Inline => [{ strong: `${v.aspect}:` }, ' ', w])),
            },
          ]
        : []),
    ],
  };
}

function sideCell(check: Check, index: 0 | 1): string {
  const side = check.sides[index];
  const signed = check.unit === 'ms' && check.label.includes('cost');
  return `${side.label}: ${side.interval ? formatInterval(side.interval, check.unit, signed) : 'not measured'}`;
}

function evidenceSection(report: LabReport): Section {
  const blocks: Block[] = [
    {
      kind: 'p',
      text: `Each figure is the median of its trials, with their range in parentheses. A check holds when the two ranges do not overlap and the second side (the one the chapter says is better) is on the better side; it does not hold when they do not overlap the other way round; otherwise this run does not show it. With ${MIN_TRIALS} trials a side, ranges this far apart happen by chance about once in twenty. A verdict holds when all its deciding checks hold and does not hold when one of them does not; the other checks (the tails, the cost of a fourth side effect) can only qualify it.`,
    },
  ];
  report.verdicts.forEach((verdict, i) => {
    blocks.push({ kind: 'h3', id: `evidence-${i + 1}`, text: [verdict.aspect, ': ', { status: verdict.status }] });
    const svg = verdictChartSvg(verdict, `verdict-chart-${i + 1}`);
    if (svg) {
      blocks.push({
        kind: 'svg',
        svg,
        caption: [
          { status: verdict.status },
          ` ${verdict.aspect}: each bar spans a side's trials, the tick is their median; each row has its own scale. Orange: the side the chapter says is worse (sync, or fewer consumer processes); blue: the side it says is better.`,
        ],
      });
    }
    if (verdict.checks.length === 0) {
      blocks.push({ kind: 'p', text: ['No checks: ', verdict.because, '.'] });
      return;
    }
    blocks.push({
      kind: 'table',
      table: {
        caption: `${verdict.aspect}: the checks`,
        head: ['Check', 'Against', 'Claimed better', 'Status', 'Note'],
        rows: verdict.checks.map((c) => [
          `${c.label}${c.primary ? ' (decides)' : ''}`,
          sideCell(c, 0),
          sideCell(c, 1),
          { status: c.status },
          c.note ?? '',
        ]),
      },
    });
  });
  return { id: 'evidence', title: 'How each verdict was reached', blocks };
}

function costsSection(report: LabReport): Section {
  return {
    id: 'costs',
    title: 'What async costs',
    blocks: [
      {
        kind: 'p',
        text: 'The rows the chapter’s table leaves out, measured in the same run: what the asynchronous design pays for its shorter answers and its isolation.',
      },
      {
        kind: 'table',
        table: {
          caption: 'The price of the asynchronous design',
          head: ['Cost', 'Synchronous', 'Asynchronous'],
          rows: report.costs.map((c) => [c.cost, c.sync, c.async]),
        },
      },
    ],
  };
}

function noiseSection(report: LabReport): Section {
  return {
    id: 'noise',
    title: 'The machine during the run',
    blocks: [
      {
        kind: 'p',
        text: [
          'Both systems, the load generator and the mail server share this machine’s CPUs, and on a shared machine so do other programs. Per trial the lab reads the share of CPU time left idle (',
          { code: '/proc/stat' },
          '), its own CPU (the load generator and the mail server), each process of the systems under test (',
          { code: '/proc/<pid>/stat' },
          '), and counts the rest as other programs. Figures below: the median over a scenario’s trials, and their range.',
        ],
      },
      {
        kind: 'table',
        table: {
          caption: 'Per scenario',
          head: ['Scenario', 'Trials', 'Idle CPU', 'Load generator', 'Other programs', 'Widest spread between trials'],
          rows: report.noise.map((n) => [n.scenario, ...noiseCells(n)]),
          align: ['left', 'right', 'right', 'right', 'right', 'left'],
        },
      },
      {
        kind: 'p',
        text: `The warnings drawn from these figures are listed under the verdicts they concern. A scenario is flagged when other programs used ${formatPercent(BUSY_SHARE)} of the CPUs or more, when its trials left the CPUs less than ${formatPercent(SATURATED_IDLE)} idle, or when the trials of one of its points were more than ${formatPercent(WIDE_SPREAD)} of their median apart.`,
      },
    ],
  };
}

function summaryCells(s: LatencySummary): Inline[] {
  return [
    formatCount(s.requests),
    formatMs(s.p50Ms),
    formatMs(s.p95Ms),
    formatMs(s.p99Ms),
    formatMs(s.maxMs),
    formatPercent(errorRate(s.statuses)),
  ];
}

const SUMMARY_HEAD = ['Requests', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'max (ms)', 'Errors'];

function loadTrialsTable(caption: string, trials: readonly LoadTrial[], withRate: boolean): Table {
  const head = [
    ...(withRate ? ['Rate (req/s)'] : []),
    'Mode',
    'Trial',
    ...SUMMARY_HEAD,
    'Receipt after the 201, p50 (ms)',
    'Queue depth, max',
    'Idle CPU',
  ];
  return {
    caption,
    head,
    rows: trials.map((t) => [
      ...(withRate ? [formatQuantity(t.ratePerSec)] : []),
      MODE_NAMES[t.mode],
      String(t.trial),
      ...summaryCells(t.summary),
      t.mode === 'async' && t.receiptAfterAnswerMs.length > 0
        ? formatMs(intervalOf(t.receiptAfterAnswerMs)?.median ?? Number.NaN)
        : '—',
      t.queues ? formatCount(t.queues.maxDepth) : '—',
      idle(t.machine),
    ]),
    align: head.map((_, i) => (i === (withRate ? 1 : 0) ? 'left' : 'right')),
  };
}

function latencySection(report: LabReport): Section {
  const { points, durationSec } = report.latency;
  const top = points.at(-1);
  const verdict = report.verdicts.find((v) => v.aspect === 'Latency (initial response)');
  const atTop = (verdict?.checks ?? []).filter((c) => top && c.label.endsWith(` at ${top.ratePerSec}/s`));
  const pooled = (mode: Mode) =>
    (top?.trials ?? [])
      .filter((t) => t.mode === mode)
      .flatMap((t) => t.latenciesMs ?? [])
      .sort((a, b) => a - b);
  const curve = MODES.map((mode) => {
    const sorted = pooled(mode);
    const at = (p: number) => formatMs(nearestRank(sorted, p));
    return `${MODE_NAMES[mode]}: p50 ${at(50)} ms, p90 ${at(90)} ms, p99 ${at(99)} ms, max ${at(100)} ms (${plural(sorted.length, 'response')})`;
  }).join('; ');
  return {
    id: 'latency',
    title: 'Latency under steady load',
    blocks: [
      {
        kind: 'p',
        text: `Payments at a steady rate for ${formatQuantity(durationSec)} s a trial, to one system at a time: the time until the client has its answer (percentiles of the successful answers; errors are non-2xx answers and requests with no answer), and, in async mode, how long after the 201 the receipt reached the mail server.`,
      },
      {
        kind: 'table',
        table: loadTrialsTable(
          'Every trial',
          points.flatMap((p) => p.trials),
          true,
        ),
        collapsed: true,
      },
      ...(top
        ? [
            {
              kind: 'canvas' as const,
              id: 'chart-latency',
              label: `Response time by percentile, synchronous vs asynchronous, at ${formatQuantity(top.ratePerSec)} requests per second, all trials pooled`,
              caption: [
                `Response-time percentiles at ${formatQuantity(top.ratePerSec)} req/s, every trial of each mode pooled: x is the percentile, y the response time. A pooled curve hides how far the trials were apart; the checks compare trial by trial — at this rate: `,
                ...atTop.flatMap((c, i): Inline[] => [
                  i === 0 ? '' : ', ',
                  `${c.label.split(' ')[0]} `,
                  { status: c.status },
                ]),
                '; the latency verdict: ',
                verdict ? { status: verdict.status } : 'not made',
                '.',
              ],
              fallback: curve,
            },
          ]
        : []),
    ],
  };
}

function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function slowdownSection(report: LabReport): Section {
  const s = report.slowdown;
  return {
    id: 'slowdown',
    title: `Slow downstream: email ${formatMs(s.addedLatencyMs)} ms slower`,
    blocks: [
      {
        kind: 'p',
        text: `At ${formatQuantity(s.ratePerSec)} req/s for ${formatQuantity(s.durationSec)} s a trial, with email answering ${formatMs(s.addedLatencyMs)} ms slower: sync waits for it before answering; async answers, and its receipts go out later.`,
      },
      { kind: 'table', table: loadTrialsTable('Every trial', s.trials, false), collapsed: true },
    ],
  };
}

function sideEffectTable(caption: string, count: SideEffectCount & { analyticsCounted?: number }): Table {
  const share = (value: number) => (count.payments > 0 ? formatPercent(value / count.payments) : '—');
  return {
    caption,
    head: ['Outcome', 'Payments', 'Share'],
    rows: [
      ['Payments answered 201', formatCount(count.payments), ''],
      ['Receipt delivered exactly once', formatCount(count.deliveredOnce), share(count.deliveredOnce)],
      ['Lost (no receipt)', formatCount(count.lost), share(count.lost)],
      ['Duplicated (more than one distinct receipt)', formatCount(count.duplicated), share(count.duplicated)],
      ['Resends (same receipt sent again; a mail server keeps one)', formatCount(count.resends), ''],
      ...(count.analyticsCounted === undefined
        ? []
        : [['Counted by analytics', formatCount(count.analyticsCounted), share(count.analyticsCounted)]]),
    ],
    align: ['left', 'right', 'right'],
  };
}

function outageSection(report: LabReport): Section {
  const o = report.outage;
  const charged = o.trials.reduce((sum, t) => sum + t.chargedButFailed, 0);
  return {
    id: 'failure-handling',
    title: 'Failure handling: email down',
    blocks: [
      {
        kind: 'p',
        text: `Email down (connections dropped) for the whole of every trial: ${formatQuantity(o.ratePerSec)} req/s for ${formatQuantity(o.durationSec)} s a trial, then email back up and the async receipts counted at the mail server.`,
      },
      {
        kind: 'table',
        table: {
          caption: 'Every trial: what the client saw',
          head: [
            'Mode',
            'Trial',
            'Responses',
            'Error rate',
            'Charged, told “failed”',
            'Receipts once email was back',
            'Idle CPU',
          ],
          rows: o.trials.map((t) => [
            MODE_NAMES[t.mode],
            String(t.trial),
            formatStatuses(t.summary.statuses),
            formatPercent(t.errorRate),
            formatCount(t.chargedButFailed),
            t.receipts ? `${formatCount(t.receipts.deliveredOnce)} of ${formatCount(t.receipts.payments)} once` : '—',
            idle(t.machine),
          ]),
          align: ['left', 'right', 'left', 'right', 'right', 'right', 'right'],
        },
      },
      {
        kind: 'table',
        table: sideEffectTable(
          `Asynchronous: the side effects once email was back (the last receipt ${formatQuantity(o.recoverySec)} s after)`,
          o.afterRecovery,
        ),
      },
      {
        kind: 'p',
        text: [
          { strong: 'Synchronous:' },
          ` ${plural(charged, 'payment was', 'payments were')} charged while the client was told the request failed, and none of them got a receipt.`,
        ],
      },
    ],
  };
}

function crashSection(report: LabReport): Section {
  const c = report.crash;
  return {
    id: 'crash',
    title: 'Crash: a consumer killed mid-send',
    blocks: [
      {
        kind: 'p',
        text: `Asynchronous only. Several email consumers run (one more than there are trials); in each trial, ${formatQuantity(c.ratePerSec)} req/s for ${formatQuantity(c.durationSec)} s, and a third of the way in one consumer is killed with SIGKILL while it holds receipts; the others go on and take the dead one's receipts once their lease runs out. The lab’s mail server waits ${formatMs(c.smtpReplyDelayMs)} ms before confirming each receipt, as a remote server’s round trip would, so a kill can land after the server has a receipt and before the consumer recorded it: that receipt is sent again.`,
      },
      {
        kind: 'table',
        table: {
          caption: 'Every trial',
          head: ['Trial', 'Payments', 'In flight at the kill', 'Lost', 'Duplicated', 'Resends', 'Idle CPU'],
          rows: c.trials.map((t) => [
            String(t.trial),
            formatCount(t.receipts.payments),
            formatCount(t.inFlightAtKill),
            formatCount(t.receipts.lost),
            formatCount(t.receipts.duplicated),
            formatCount(t.receipts.resends),
            idle(t.machine),
          ]),
          align: ['right', 'right', 'right', 'right', 'right', 'right', 'right'],
        },
      },
    ],
  };
}

function scalabilitySection(report: LabReport): Section {
  const s = report.scalability;
  if (isSkipped(s)) {
    return { id: 'scalability', title: 'Scalability', blocks: [{ kind: 'p', text: `Not measured: ${s.skipped}.` }] };
  }
  return {
    id: 'scalability',
    title: 'Scalability',
    blocks: [
      {
        kind: 'p',
        text: `Email takes ${formatMs(s.sideEffectLatencyMs)} ms per receipt and one email process sends ${formatCount(s.perProcessConcurrency)} at once. Every trial is offered ${formatQuantity(s.offeredPerSec)} payments/s: sync with its one email process on the request path; async with ${s.processes.join(', ')} email consumer processes, whose receipts per second are measured while a backlog waits.`,
      },
      {
        kind: 'table',
        table: {
          caption: 'Every trial',
          head: [
            'Mode',
            'Trial',
            'Email processes',
            'Offered',
            'Accepted',
            'Charged, told “failed”',
            'Receipts/s (backlog)',
            'Sending after the load (s)',
            'Idle CPU',
          ],
          rows: s.trials.map((t) => [
            MODE_NAMES[t.mode],
            String(t.trial),
            formatCount(t.processes),
            formatCount(t.offered),
            `${formatCount(t.accepted)} (${formatPercent(t.accepted / Math.max(1, t.offered))})`,
            formatCount(t.chargedButFailed),
            t.receiptsPerSec === null ? (t.mode === 'async' ? 'no backlog' : '—') : formatQuantity(t.receiptsPerSec),
            formatQuantity(t.sendingAfterLoadSec),
            idle(t.machine),
          ]),
          align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
        },
        collapsed: true,
      },
    ],
  };
}

function readYourWritesSection(report: LabReport): Section {
  const { probes } = report.readYourWrites;
  return {
    id: 'read-your-writes',
    title: 'Read-your-writes: reading right after paying',
    blocks: [
      {
        kind: 'p',
        text: 'One payment at a time, and the moment its 201 arrives, two reads that depend on its side effects: the analytics summary, and a CSV report of the last hour. Sync did its side effects before answering; async did not yet.',
      },
      {
        kind: 'table',
        table: {
          caption: 'Every probe',
          head: ['Mode', 'Analytics counted it at once', 'Counted after (ms)', 'Report listed it'],
          rows: probes.map((p) => [
            MODE_NAMES[p.mode],
            p.countedAtOnce ? 'yes' : 'no',
            p.countedAfterMs === null ? 'never' : formatMs(p.countedAfterMs),
            p.reportIncluded ? 'yes' : 'no',
          ]),
          align: ['left', 'left', 'right', 'left'],
        },
      },
    ],
  };
}

function couplingSection(report: LabReport): Section {
  const c = report.coupling;
  const services = (mode: Mode): Inline[] =>
    (c.requestPaths[mode][0] ?? []).flatMap((name, i): Inline[] =>
      i === 0 ? [{ code: name }] : [', ', { code: name }],
    );
  const fourth = c.fourthSideEffect;
  return {
    id: 'coupling',
    title: 'Coupling',
    blocks: [
      {
        kind: 'table',
        table: {
          caption: 'Services each payment’s request waited for, from its trace (the gateway included)',
          head: ['Mode', 'Traced payments', 'Services', 'Which'],
          rows: MODES.map((mode) => [
            MODE_NAMES[mode],
            formatCount(c.requestPaths[mode].length),
            c.requestPaths[mode].map((p) => p.length).join(', '),
            services(mode),
          ]),
          align: ['left', 'right', 'right', 'left'],
        },
      },
      isSkipped(fourth)
        ? { kind: 'p', text: `What a fourth side effect costs: not measured (${fourth.skipped}).` }
        : {
            kind: 'table',
            table: loadTrialsTable(
              `Every trial at ${formatQuantity(fourth.ratePerSec)} req/s: with four side effects (reports included), then with three`,
              [...fourth.withFour, ...fourth.withThree],
              false,
            ),
            collapsed: true,
          },
    ],
  };
}

function sections(report: LabReport): Section[] {
  return [
    verdictSection(report),
    evidenceSection(report),
    costsSection(report),
    noiseSection(report),
    latencySection(report),
    slowdownSection(report),
    outageSection(report),
    crashSection(report),
    scalabilitySection(report),
    readYourWritesSection(report),
    couplingSection(report),
  ];
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Escapes text for a Markdown table cell or paragraph (renders as the same text). */
function escapeMarkdown(text: string): string {
  return String(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

function codeSpan(text: string): string {
  const flat = String(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function inlineMarkdown(inline: Inline): string {
  if (typeof inline === 'string') return escapeMarkdown(inline);
  if (Array.isArray(inline)) return inline.map(inlineMarkdown).join('');
  if ('code' in inline) return codeSpan(inline.code);
  if ('strong' in inline) return `**${escapeMarkdown(inline.strong)}**`;
  if ('em' in inline) return `*${escapeMarkdown(inline.em)}*`;
  if ('status' in inline) return `**${STATUS_MARK[inline.status]} ${inline.status}**`;
  if ('link' in inline) return `[${escapeMarkdown(inline.link)}](${inline.href})`;
  return '';
}

function tableMarkdown(table: Table): string {
  if (table.rows.length === 0) return `**${escapeMarkdown(table.caption)}:** no data.`;
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const rule = table.head.map((_, i) => (table.align?.[i] === 'right' ? '---:' : '---'));
  return [
    `**${escapeMarkdown(table.caption)}**`,
    '',
    line(table.head.map(escapeMarkdown)),
    line(rule),
    ...table.rows.map((row) => line(row.map((cell) => inlineMarkdown(cell) || ' '))),
  ].join('\n');
}

export function renderMarkdown(report: LabReport): string {
  const out: string[] = [`# Syncopate lab report — ${escapeMarkdown(reportDate(report))}`, ''];
  for (const line of headline(report)) out.push(inlineMarkdown(line), '');
  out.push(
    inlineMarkdown([
      'Charts: ',
      { link: REPORT_FILES.html, href: REPORT_FILES.html },
      ' · every trial: ',
      { link: REPORT_FILES.json, href: REPORT_FILES.json },
    ]),
    '',
  );
  for (const section of sections(report)) {
    out.push(`## ${escapeMarkdown(section.title)}`, '');
    for (const block of section.blocks) {
      if (block.kind === 'p') out.push(inlineMarkdown(block.text), '');
      else if (block.kind === 'h3') out.push(`### ${inlineMarkdown(block.text)}`, '');
      else if (block.kind === 'list') out.push(...block.items.map((item) => `- ${inlineMarkdown(item)}`), '');
      else if (block.kind === 'table') out.push(tableMarkdown(block.table), '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

export const escapeHtml = escapeXml;

/** JSON for a `<script type="application/json">`: no `<`, `>` or `&` left to end the element early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function inlineHtml(inline: Inline): string {
  if (typeof inline === 'string') return escapeHtml(inline);
  if (Array.isArray(inline)) return inline.map(inlineHtml).join('');
  if ('code' in inline) return `<code>${escapeHtml(inline.code)}</code>`;
  if ('strong' in inline) return `<strong>${escapeHtml(inline.strong)}</strong>`;
  if ('em' in inline) return `<em>${escapeHtml(inline.em)}</em>`;
  if ('status' in inline) {
    return `<strong class="status ${inline.status.replace(/ /g, '-')}">${STATUS_MARK[inline.status]} ${escapeHtml(inline.status)}</strong>`;
  }
  if ('link' in inline) return `<a href="${escapeHtml(inline.href)}">${escapeHtml(inline.link)}</a>`;
  return '';
}

function tableHtml(table: Table, id: string, collapsed = false): string {
  const cls = (i: number) => (table.align?.[i] === 'right' ? ' class="num"' : '');
  const body =
    table.rows.length === 0
      ? `<tr><td colspan="${table.head.length}">No data.</td></tr>`
      : table.rows
          .map(
            (row) =>
              `<tr>${row.map((cell, i) => (i === 0 ? `<th scope="row"${cls(i)}>${inlineHtml(cell)}</th>` : `<td${cls(i)}>${inlineHtml(cell)}</td>`)).join('')}</tr>`,
          )
          .join('\n');
  const html = [
    `<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0">`,
    '<table>',
    `<caption id="${id}">${escapeHtml(table.caption)}</caption>`,
    `<thead><tr>${table.head.map((h, i) => `<th scope="col"${cls(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${body}\n</tbody>`,
    '</table>',
    '</div>',
  ].join('\n');
  return collapsed ? `<details>\n<summary>${escapeHtml(table.caption)}</summary>\n${html}\n</details>` : html;
}

function blockHtml(block: Block, nextTableId: () => string): string {
  switch (block.kind) {
    case 'p':
      return `<p>${inlineHtml(block.text)}</p>`;
    case 'h3':
      return `<h3 id="${escapeHtml(block.id)}">${inlineHtml(block.text)}</h3>`;
    case 'list':
      return `<ul>\n${block.items.map((item) => `<li>${inlineHtml(item)}</li>`).join('\n')}\n</ul>`;
    case 'table':
      return tableHtml(block.table, nextTableId(), block.collapsed);
    case 'svg':
      return `<figure class="chart">\n${block.svg}\n<figcaption>${inlineHtml(block.caption)}</figcaption>\n</figure>`;
    case 'canvas':
      return [
        '<figure class="chart">',
        `<div class="canvas-box"><canvas id="${escapeHtml(block.id)}" role="img" aria-label="${escapeHtml(block.label)}"><p>${escapeHtml(block.fallback)}</p></canvas></div>`,
        `<figcaption>${inlineHtml(block.caption)}</figcaption>`,
        '</figure>',
      ].join('\n');
  }
}

const CSS = `
:root { color-scheme: light; --text: #1d1f23; --muted: #5b6270; --line: #d9dde3; --stripe: #f6f7f9;
  --sync: #d55e00; --async: #0072b2; --yes: #1a7f37; --no: #b42318; --unknown: #6e7781; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--text); background: #fff; line-height: 1.5;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 .75rem; }
h2 { font-size: 1.3rem; margin: 2.5rem 0 .75rem; padding-top: .5rem; border-top: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.75rem 0 .5rem; }
p, li { margin: .5rem 0 1rem; }
header p { color: var(--muted); }
a { color: var(--async); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .9em;
  background: var(--stripe); padding: .05em .3em; border-radius: 3px; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; margin: 0 0 1.25rem; }
.table-wrap:focus-visible { outline: 2px solid var(--async); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 .4rem; }
th, td { padding: .4rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--text); white-space: nowrap; }
tbody th { font-weight: 600; }
tbody tr:nth-child(even) { background: var(--stripe); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { display: inline-block; padding: 0 .45em; border-radius: 3px; color: #fff; white-space: nowrap; }
.status.holds { background: var(--yes); }
.status.does-not-hold { background: var(--no); }
.status.not-shown { background: var(--unknown); }
#verdicts tbody th, #verdicts td:not(:last-child) { min-width: 8rem; }
figure.chart { margin: 1rem 0 1.75rem; }
.canvas-box { position: relative; height: 20rem; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; }
details { margin: 0 0 1.25rem; }
summary { cursor: pointer; color: var(--muted); margin-bottom: .5rem; }
${CHART_CSS}
@media (max-width: 40rem) {
  body { font-size: 15px; }
  main { padding: 1rem .75rem 2rem; }
  h1 { font-size: 1.4rem; }
  .canvas-box { height: 16rem; }
  th, td { padding: .35rem .45rem; }
}
@media print { .canvas-box { break-inside: avoid; } a { color: inherit; } }
`;

export function renderHtml(report: LabReport, options: { chartJs?: string } = {}): string {
  let tables = 0;
  const nextTableId = () => `table-${++tables}`;
  const chartJs = options.chartJs === undefined ? chartJsUmd() : inlineScript(options.chartJs);
  const title = `Syncopate lab report — ${reportDate(report)}`;
  const body: string[] = [];
  for (const section of sections(report)) {
    body.push(`<section id="${escapeHtml(section.id)}" aria-labelledby="${escapeHtml(section.id)}-title">`);
    body.push(`<h2 id="${escapeHtml(section.id)}-title">${escapeHtml(section.title)}</h2>`);
    for (const block of section.blocks) body.push(blockHtml(block, nextTableId));
    body.push('</section>');
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(title)}</h1>
${headline(report)
  .map((line) => `<p>${inlineHtml(line)}</p>`)
  .join('\n')}
<p>${inlineHtml(['Also: ', { link: REPORT_FILES.markdown, href: REPORT_FILES.markdown }, ' (Markdown) · ', { link: REPORT_FILES.json, href: REPORT_FILES.json }, ' (every trial).'])}</p>
</header>
${body.join('\n')}
</main>
<script type="application/json" id="lab-data">${scriptJson(report)}</script>
<script>
${chartJs}
</script>
<script>${CHARTS_SCRIPT}</script>
</body>
</html>
`;
}
