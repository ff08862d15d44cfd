/**
 * The lab's report: one content model (sections of paragraphs, tables and chart slots) rendered
 * twice, as Markdown (lab-report.md) and as one self-contained HTML page with Chart.js inlined
 * (lab-report.html), beside the raw data (lab-report.json).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { LabReport, LatencySummary, Mode, SideEffectCount, TimelineBucket, Verdict } from './results.js';

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

/** Inline text: plain (escaped by each renderer), code, strong, a verdict badge, a link, or a run. */
type Inline =
  | string
  | { code: string }
  | { strong: string }
  | { verdict: boolean }
  | { link: string; href: string }
  | readonly Inline[];

interface Table {
  caption: string;
  head: readonly string[];
  rows: readonly (readonly Inline[])[];
  /** Per column; numbers right-aligned. */
  align?: readonly ('left' | 'right')[];
}

interface Chart {
  /** Canvas id; the page's script builds the chart into it. */
  id: string;
  /** What the chart shows (aria-label). */
  label: string;
  caption: Inline;
  /** Read by browsers without scripts and by anyone who cannot see the chart. */
  fallback: string;
}

type Block =
  | { kind: 'p'; text: Inline }
  | { kind: 'table'; table: Table; htmlOnly?: boolean; collapsed?: boolean }
  | { kind: 'chart'; chart: Chart };

interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

const MODES: readonly Mode[] = ['sync', 'async'];
const MODE_NAMES: Record<Mode, string> = { sync: 'Synchronous', async: 'Asynchronous' };
const ASPECTS: readonly Verdict['aspect'][] = [
  'Latency (initial response)',
  'Coupling',
  'Failure isolation',
  'Scalability',
];

// ---------------------------------------------------------------------------------------------
// Number formatting

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function withSeparators(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Milliseconds: one decimal below 10, else an integer. */
export function formatMs(ms: number): string {
  if (!isNumber(ms)) return '—';
  return Math.abs(Math.round(ms * 10) / 10) < 10 ? ms.toFixed(1) : withSeparators(Math.round(ms));
}

/** A signed difference in milliseconds: "+302", "−0.4". */
function formatDeltaMs(ms: number): string {
  if (!isNumber(ms)) return '—';
  const text = formatMs(Math.abs(ms));
  return ms > 0 ? `+${text}` : ms < 0 ? `−${text}` : '±0';
}

/** Per second, or seconds: whole numbers as they are, else one decimal below 100, else an integer. */
export function formatQuantity(value: number): string {
  if (!isNumber(value)) return '—';
  if (Number.isInteger(value)) return withSeparators(value);
  return Math.abs(value) < 100 ? value.toFixed(1) : withSeparators(Math.round(value));
}

export function formatCount(value: number): string {
  return isNumber(value) ? withSeparators(Math.round(value)) : '—';
}

/** A share (0–1) as a percentage; never shows 0% or 100% for a share that is neither. */
export function formatPercent(share: number): string {
  if (!isNumber(share)) return '—';
  if (share === 0) return '0%';
  if (share === 1) return '100%';
  const percent = share * 100;
  if (percent > 0 && percent < 0.1) return '<0.1%';
  if (percent < 100 && percent > 99.9) return '>99.9%';
  return `${percent.toFixed(1)}%`;
}

function share(part: number, whole: number): string {
  return isNumber(whole) && whole > 0 ? formatPercent(part / whole) : '—';
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

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
  if (!isNumber(ms) || ms < 0) return undefined;
  const seconds = Math.round(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return minutes > 0 ? `${minutes} min ${rest} s` : `${rest} s`;
}

function reportDate(report: LabReport): string {
  const match = /^\d{4}-\d{2}-\d{2}/.exec(report.startedAt);
  return match ? match[0] : report.startedAt;
}

// ---------------------------------------------------------------------------------------------
// Sections

function headline(report: LabReport): Inline[] {
  const { machine } = report;
  const duration = formatDuration(report.startedAt, report.finishedAt);
  return [
    [
      'Run from ',
      formatInstant(report.startedAt),
      ' to ',
      formatInstant(report.finishedAt),
      duration ? ` (${duration})` : '',
      report.quick ? ' — a quick run: shorter loads, so the figures are indicative only.' : '.',
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
  ];
}

function verdictSection(report: LabReport): Section {
  const rows = ASPECTS.map((aspect): Inline[] => {
    const verdict = report.verdicts.find((v) => v.aspect === aspect);
    if (!verdict) return [aspect, '—', '—', 'not measured'];
    return [aspect, verdict.sync, verdict.async, [{ verdict: verdict.holds }, ' — ', verdict.because]];
  });
  const judged = report.verdicts.filter((v) => ASPECTS.includes(v.aspect));
  const holding = judged.filter((v) => v.holds).length;
  return {
    id: 'verdicts',
    title: 'Synchronous vs asynchronous: the textbook’s table, measured',
    blocks: [
      {
        kind: 'table',
        table: {
          caption: 'What the textbook claims for each aspect, and whether this run bears it out',
          head: ['Aspect', 'Synchronous', 'Asynchronous', 'Claim holds?'],
          rows,
        },
      },
      { kind: 'p', text: `The claim holds for ${holding} of ${judged.length} aspects measured.` },
    ],
  };
}

/** Requests, p50/p95/p99/max, 2xx/s and error rate of one load. */
function summaryCells(s: LatencySummary): Inline[] {
  return [
    formatCount(s.requests),
    formatMs(s.p50Ms),
    formatMs(s.p95Ms),
    formatMs(s.p99Ms),
    formatMs(s.maxMs),
    formatQuantity(s.throughputPerSec),
    formatPercent(errorRate(s.statuses)),
  ];
}

const SUMMARY_HEAD = ['Requests', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'max (ms)', '2xx/s', 'Errors'];
const SUMMARY_ALIGN = SUMMARY_HEAD.map(() => 'right' as const);

function latencySection(report: LabReport): Section {
  const { rates, distribution } = report.latency;
  const highest = rates.reduce<number | undefined>(
    (max, r) => (max === undefined || r.ratePerSec > max ? r.ratePerSec : max),
    undefined,
  );
  const curve = MODES.map((mode) => {
    const sorted = distribution[mode] ?? [];
    const at = (p: number) => formatMs(nearestRank(sorted, p));
    return `${MODE_NAMES[mode]}: p50 ${at(50)} ms, p90 ${at(90)} ms, p99 ${at(99)} ms, max ${at(100)} ms (${plural(sorted.length, 'response')})`;
  }).join('; ');
  return {
    id: 'latency',
    title: 'Latency under steady load',
    blocks: [
      {
        kind: 'p',
        text: 'Payments at a steady rate, the same stream to both systems at the same time: the time until the client has its answer. Errors are non-2xx answers and requests with no answer.',
      },
      {
        kind: 'table',
        table: {
          caption: 'Response time per rate',
          head: ['Rate (req/s)', 'Duration (s)', 'Mode', ...SUMMARY_HEAD],
          rows: rates.flatMap((r) =>
            MODES.map((mode) => [
              formatQuantity(r.ratePerSec),
              formatQuantity(r.durationSec),
              MODE_NAMES[mode],
              ...summaryCells(r[mode]),
            ]),
          ),
          align: ['right', 'right', 'left', ...SUMMARY_ALIGN],
        },
      },
      {
        kind: 'table',
        table: {
          caption:
            'Asynchronous, eventual completion: from sending the request until the payment’s last side effect was done (a sample)',
          head: ['Rate (req/s)', 'Samples', 'p50 (ms)', 'p95 (ms)', 'max (ms)'],
          rows: rates.map((r) => [
            formatQuantity(r.ratePerSec),
            formatCount(r.asyncEventualLag.samples),
            formatMs(r.asyncEventualLag.p50Ms),
            formatMs(r.asyncEventualLag.p95Ms),
            formatMs(r.asyncEventualLag.maxMs),
          ]),
          align: ['right', 'right', 'right', 'right', 'right'],
        },
      },
      {
        kind: 'chart',
        chart: {
          id: 'chart-latency',
          label: `Response time by percentile, synchronous vs asynchronous, at ${highest === undefined ? 'the highest rate' : `${formatQuantity(highest)} requests per second`}`,
          caption: [
            'Response-time percentiles at the highest rate',
            highest === undefined ? '' : ` (${formatQuantity(highest)} req/s)`,
            ': x is the percentile, y the response time.',
          ],
          fallback: curve,
        },
      },
    ],
  };
}

function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function slowDownstreamSection(report: LabReport): Section {
  const s = report.slowDownstream;
  const deltas = MODES.map(
    (mode) =>
      `${MODE_NAMES[mode].toLowerCase()} ${formatDeltaMs(s.during[mode].p50Ms - s.before[mode].p50Ms)} ms (p99 ${formatDeltaMs(s.during[mode].p99Ms - s.before[mode].p99Ms)} ms)`,
  );
  return {
    id: 'slow-downstream',
    title: `Slow downstream: email ${formatMs(s.addedLatencyMs)} ms slower`,
    blocks: [
      {
        kind: 'p',
        text: `At ${formatQuantity(s.ratePerSec)} req/s, before and while email answers ${formatMs(s.addedLatencyMs)} ms slower. Change in p50: ${deltas.join('; ')}.`,
      },
      {
        kind: 'table',
        table: {
          caption: 'Response time before and during the slowdown',
          head: ['Mode', 'Phase', ...SUMMARY_HEAD],
          rows: MODES.flatMap((mode) => [
            [MODE_NAMES[mode], 'before', ...summaryCells(s.before[mode])],
            [MODE_NAMES[mode], 'during', ...summaryCells(s.during[mode])],
          ]),
          align: ['left', 'left', ...SUMMARY_ALIGN],
        },
      },
    ],
  };
}

function sideEffectTable(caption: string, count: SideEffectCount, paymentsLabel: string): Table {
  const row = (label: string, value: number, withShare = true): Inline[] => [
    label,
    formatCount(value),
    withShare ? share(value, count.payments) : '',
  ];
  return {
    caption,
    head: ['Outcome', 'Payments', 'Share'],
    rows: [
      row(paymentsLabel, count.payments, false),
      row('Receipt delivered exactly once', count.deliveredOnce),
      row('Lost (no receipt)', count.lost),
      row('Duplicated (more than one distinct receipt)', count.duplicated),
      ['Resends (same receipt sent again; a mail server keeps one)', formatCount(count.resends), ''],
      row('Counted by analytics', count.analyticsCounted),
    ],
    align: ['left', 'right', 'right'],
  };
}

function outageSection(report: LabReport): Section {
  const o = report.outage;
  const atSecs = [...new Set(MODES.flatMap((mode) => (o.timeline[mode] ?? []).map((b) => b.atSec)))].sort(
    (a, b) => a - b,
  );
  const bucketAt = (mode: Mode, at: number): TimelineBucket | undefined =>
    (o.timeline[mode] ?? []).find((b) => b.atSec === at);
  const cell = (bucket: TimelineBucket | undefined): string =>
    bucket
      ? `${formatCount(bucket.errors)} / ${formatCount(bucket.requests)} (${share(bucket.errors, bucket.requests)})`
      : '—';
  return {
    id: 'failure-handling',
    title: 'Failure handling',
    blocks: [
      {
        kind: 'p',
        text: `Email down for ${formatQuantity(o.outageSec)} s, from ${formatQuantity(o.downAtSec)} s to ${formatQuantity(o.upAtSec)} s into a load of ${formatQuantity(o.ratePerSec)} req/s, then back.`,
      },
      {
        kind: 'table',
        table: {
          caption: 'What the client saw while email was down',
          head: ['Mode', 'Responses', 'Error rate'],
          rows: MODES.map((mode) => [
            MODE_NAMES[mode],
            formatStatuses(o.statusesDuringOutage[mode] ?? {}),
            formatPercent(o.errorRateDuringOutage[mode]),
          ]),
          align: ['left', 'left', 'right'],
        },
      },
      {
        kind: 'chart',
        chart: {
          id: 'chart-outage',
          label: 'Error rate over time through the email outage, synchronous vs asynchronous',
          caption: `Error rate per ${formatQuantity(bucketWidth(o.timeline))} s of load; the shaded band is the outage (${formatQuantity(o.downAtSec)}–${formatQuantity(o.upAtSec)} s).`,
          fallback: `Error rate during the outage: ${MODES.map((m) => `${MODE_NAMES[m]} ${formatPercent(o.errorRateDuringOutage[m])}`).join(', ')}. The table of errors per second follows the chart.`,
        },
      },
      {
        kind: 'table',
        htmlOnly: true,
        collapsed: true,
        table: {
          caption: 'Errors / requests per time bucket',
          head: ['From (s)', ...MODES.map((m) => MODE_NAMES[m])],
          rows: atSecs.map((at) => [
            `${formatQuantity(at)}${at >= o.downAtSec && at < o.upAtSec ? ' (email down)' : ''}`,
            ...MODES.map((mode) => cell(bucketAt(mode, at))),
          ]),
          align: ['left', 'right', 'right'],
        },
      },
      {
        kind: 'table',
        table: sideEffectTable(
          'Asynchronous: what happened to the side effects once email was back',
          o.afterRecovery,
          'Payments answered 201 during the scenario',
        ),
      },
      {
        kind: 'p',
        text: [
          { strong: 'Synchronous:' },
          ` ${plural(o.syncChargedButFailed, 'payment was', 'payments were')} charged while the client was told the request failed.`,
        ],
      },
    ],
  };
}

function bucketWidth(timeline: Record<Mode, TimelineBucket[]>): number {
  let width = Number.POSITIVE_INFINITY;
  for (const mode of MODES) {
    const buckets = timeline[mode] ?? [];
    for (let i = 1; i < buckets.length; i++) {
      const gap = (buckets[i]?.atSec ?? 0) - (buckets[i - 1]?.atSec ?? 0);
      if (gap > 0 && gap < width) width = gap;
    }
  }
  return Number.isFinite(width) ? width : 1;
}

function scalabilitySection(report: LabReport): Section {
  const s = report.scalability;
  return {
    id: 'scalability',
    title: 'Scalability',
    blocks: [
      {
        kind: 'p',
        text: `Email takes ${formatMs(s.sideEffectLatencyMs)} ms per receipt and one email process sends ${formatCount(s.perProcessConcurrency)} at once; ${formatQuantity(s.offeredPerSec)} payments/s offered for ${formatQuantity(s.durationSec)} s. Asynchronous: more email consumer processes; synchronous: the same work on the request path.`,
      },
      {
        kind: 'table',
        table: {
          caption: 'Throughput against email processes',
          head: [
            'Mode',
            'Email processes',
            'Accepted/s',
            'Side effects/s',
            'Drain after load (s)',
            'Errors',
            'p99 (ms)',
          ],
          rows: [
            ...s.async.map((r) => [
              MODE_NAMES.async,
              formatCount(r.processes),
              formatQuantity(r.acceptedPerSec),
              formatQuantity(r.sideEffectsPerSec),
              formatQuantity(r.drainSec),
              '—',
              '—',
            ]),
            [
              MODE_NAMES.sync,
              formatCount(s.sync.processes),
              formatQuantity(s.sync.acceptedPerSec),
              formatQuantity(s.sync.sideEffectsPerSec),
              '—',
              formatPercent(s.sync.errorRate),
              formatMs(s.sync.p99Ms),
            ],
          ],
          align: ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
        },
      },
      {
        kind: 'chart',
        chart: {
          id: 'chart-scalability',
          label:
            'Side effects per second against the number of asynchronous email processes, with the synchronous figure',
          caption: 'Side effects per second: asynchronous per number of email processes, synchronous beside it.',
          fallback: [
            ...s.async.map(
              (r) => `${plural(r.processes, 'process', 'processes')} (async): ${formatQuantity(r.sideEffectsPerSec)}/s`,
            ),
            `${plural(s.sync.processes, 'process', 'processes')} (sync): ${formatQuantity(s.sync.sideEffectsPerSec)}/s`,
          ].join('; '),
        },
      },
    ],
  };
}

function crashSection(report: LabReport): Section {
  const c = report.crash;
  return {
    id: 'crash',
    title: 'Crash: consumer processes killed',
    blocks: [
      {
        kind: 'p',
        text: `${plural(c.killed, 'consumer process', 'consumer processes')} killed with SIGKILL during ${formatQuantity(c.durationSec)} s of load at ${formatQuantity(c.ratePerSec)} req/s.`,
      },
      { kind: 'table', table: sideEffectTable('Asynchronous: side effects afterwards', c.async, 'Payments') },
      {
        kind: 'table',
        table: {
          caption: 'Synchronous: requests while its email process was dead',
          head: ['Requests', 'Failed', 'Failure rate', 'Charged without a receipt'],
          rows: [
            [
              formatCount(c.sync.requests),
              formatCount(c.sync.failed),
              share(c.sync.failed, c.sync.requests),
              formatCount(c.sync.chargedWithoutReceipt),
            ],
          ],
          align: ['right', 'right', 'right', 'right'],
        },
      },
    ],
  };
}

function couplingSection(report: LabReport): Section {
  const c = report.coupling;
  const services = (mode: Mode): Inline[] => {
    const names = c.requestPathServices[mode] ?? [];
    return names.flatMap((name, i): Inline[] => (i === 0 ? [{ code: name }] : [', ', { code: name }]));
  };
  return {
    id: 'coupling',
    title: 'Coupling',
    blocks: [
      {
        kind: 'table',
        table: {
          caption: 'Services on the request path (from one payment’s trace, the gateway included)',
          head: ['Mode', 'Count', 'Services'],
          rows: MODES.map((mode) => [
            MODE_NAMES[mode],
            formatCount((c.requestPathServices[mode] ?? []).length),
            services(mode),
          ]),
          align: ['left', 'right', 'left'],
        },
      },
      {
        kind: 'table',
        table: {
          caption: 'What a fourth side effect costs the request: p50',
          head: ['Mode', 'Three side effects (ms)', 'Four (ms)', 'Change (ms)'],
          rows: MODES.map((mode) => {
            const { before, after } = c.p50Ms[mode];
            return [MODE_NAMES[mode], formatMs(before), formatMs(after), formatDeltaMs(after - before)];
          }),
          align: ['left', 'right', 'right', 'right'],
        },
      },
      {
        kind: 'chart',
        chart: {
          id: 'chart-coupling',
          label: 'Median response time with three and with four side effects, synchronous vs asynchronous',
          caption: 'p50 with three side effects, then with a fourth added.',
          fallback: MODES.map(
            (m) =>
              `${MODE_NAMES[m]}: ${formatMs(c.p50Ms[m].before)} ms, then ${formatMs(c.p50Ms[m].after)} ms with a fourth side effect`,
          ).join('; '),
        },
      },
    ],
  };
}

function sections(report: LabReport): Section[] {
  return [
    verdictSection(report),
    latencySection(report),
    slowDownstreamSection(report),
    outageSection(report),
    scalabilitySection(report),
    crashSection(report),
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
  if ('verdict' in inline) return inline.verdict ? '**yes**' : '**no**';
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
      ' · raw data: ',
      { link: REPORT_FILES.json, href: REPORT_FILES.json },
    ]),
    '',
  );
  for (const section of sections(report)) {
    out.push(`## ${escapeMarkdown(section.title)}`, '');
    for (const block of section.blocks) {
      if (block.kind === 'p') out.push(inlineMarkdown(block.text), '');
      else if (block.kind === 'table' && !block.htmlOnly) out.push(tableMarkdown(block.table), '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

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
  if ('verdict' in inline)
    return inline.verdict ? '<strong class="verdict yes">yes</strong>' : '<strong class="verdict no">no</strong>';
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

function chartHtml(chart: Chart): string {
  return [
    '<figure class="chart">',
    `<div class="canvas-box"><canvas id="${escapeHtml(chart.id)}" role="img" aria-label="${escapeHtml(chart.label)}"><p>${escapeHtml(chart.fallback)}</p></canvas></div>`,
    `<figcaption>${inlineHtml(chart.caption)}</figcaption>`,
    '</figure>',
  ].join('\n');
}

const CSS = `
:root { color-scheme: light; --text: #1d1f23; --muted: #5b6270; --line: #d9dde3; --stripe: #f6f7f9;
  --sync: #d55e00; --async: #0072b2; --yes: #1a7f37; --no: #b42318; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--text); background: #fff; line-height: 1.5;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 .75rem; }
h2 { font-size: 1.3rem; margin: 2.5rem 0 .75rem; padding-top: .5rem; border-top: 1px solid var(--line); }
p { margin: .5rem 0 1rem; }
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
.verdict { display: inline-block; padding: 0 .45em; border-radius: 3px; color: #fff; }
.verdict.yes { background: var(--yes); }
.verdict.no { background: var(--no); }
#verdicts tbody th, #verdicts td:not(:last-child) { min-width: 7rem; }
figure.chart { margin: 1rem 0 1.75rem; }
.canvas-box { position: relative; height: 20rem; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; }
details { margin: 0 0 1.25rem; }
summary { cursor: pointer; color: var(--muted); margin-bottom: .5rem; }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  main { padding: 1rem .75rem 2rem; }
  h1 { font-size: 1.4rem; }
  .canvas-box { height: 16rem; }
  th, td { padding: .35rem .45rem; }
}
@media print { .canvas-box { break-inside: avoid; } a { color: inherit; } }
`;

/**
 * Builds the charts from the embedded data (#lab-data). Plain browser JavaScript, kept as text so
 * that no transpiler helper leaks into the page.
 */
const CHARTS_SCRIPT = `
(function () {
  'use strict';
  var source = document.getElementById('lab-data');
  if (!source || typeof Chart === 'undefined') return;
  var data = JSON.parse(source.textContent);
  var MODES = ['sync', 'async'];
  var NAMES = { sync: 'Synchronous', async: 'Asynchronous' };
  var COLORS = { sync: '#d55e00', async: '#0072b2' };
  var reduceMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#1d1f23';
  Chart.defaults.maintainAspectRatio = false;
  if (reduceMotion) Chart.defaults.animation = false;

  function finite(v) { return typeof v === 'number' && isFinite(v); }
  function ms(v) { return finite(v) ? (Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US')) : '—'; }
  function nearestRank(sorted, p) {
    if (!sorted || sorted.length === 0) return null;
    var rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }
  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return null;
    return new Chart(canvas, config);
  }

  // (a) Response time by percentile at the highest rate.
  var percentiles = [];
  for (var p = 0; p <= 99; p++) percentiles.push(p);
  percentiles.push(99.5, 99.9, 100);
  var distribution = (data.latency && data.latency.distribution) || {};
  make('chart-latency', {
    type: 'line',
    data: {
      datasets: MODES.map(function (mode) {
        return {
          label: NAMES[mode],
          data: percentiles.map(function (q) { return { x: q, y: nearestRank(distribution[mode], q) }; }),
          borderColor: COLORS[mode], backgroundColor: COLORS[mode], borderWidth: 2, pointRadius: 0, tension: 0
        };
      })
    },
    options: {
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', min: 0, max: 100, title: { display: true, text: 'Percentile' } },
        y: { beginAtZero: true, title: { display: true, text: 'Response time (ms)' } }
      },
      plugins: {
        tooltip: { callbacks: {
          title: function (items) { return items.length ? 'p' + items[0].parsed.x : ''; },
          label: function (item) { return item.dataset.label + ': ' + ms(item.parsed.y) + ' ms'; }
        } }
      }
    }
  });

  // (b) Error rate over time through the outage, the outage shaded.
  var outage = data.outage || {};
  var timeline = outage.timeline || {};
  var width = Infinity;
  MODES.forEach(function (mode) {
    var buckets = timeline[mode] || [];
    for (var i = 1; i < buckets.length; i++) {
      var gap = buckets[i].atSec - buckets[i - 1].atSec;
      if (gap > 0 && gap < width) width = gap;
    }
  });
  if (!isFinite(width)) width = 1;
  var outageBand = {
    id: 'outageBand',
    beforeDatasetsDraw: function (chart, args, opts) {
      var x = chart.scales.x, area = chart.chartArea;
      if (!x || !area || !finite(opts.from) || !finite(opts.to)) return;
      var left = Math.max(area.left, x.getPixelForValue(opts.from));
      var right = Math.min(area.right, x.getPixelForValue(opts.to));
      if (!(right > left)) return;
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = 'rgba(120, 120, 120, 0.16)';
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      ctx.fillStyle = '#5b6270';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText('email down', (left + right) / 2, area.top + 4);
      ctx.restore();
    }
  };
  make('chart-outage', {
    type: 'line',
    plugins: [outageBand],
    data: {
      datasets: MODES.map(function (mode) {
        var buckets = timeline[mode] || [];
        var points = buckets.map(function (b) {
          return { x: b.atSec, y: b.requests > 0 ? (100 * b.errors) / b.requests : null };
        });
        if (buckets.length) points.push({ x: buckets[buckets.length - 1].atSec + width, y: points[points.length - 1].y });
        return {
          label: NAMES[mode], data: points, stepped: 'before', spanGaps: false,
          borderColor: COLORS[mode], backgroundColor: COLORS[mode], borderWidth: 2, pointRadius: 0
        };
      })
    },
    options: {
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'Seconds into the load' } },
        y: { min: 0, max: 100, title: { display: true, text: 'Error rate' },
          ticks: { callback: function (v) { return v + '%'; } } }
      },
      plugins: {
        outageBand: { from: outage.downAtSec, to: outage.upAtSec },
        tooltip: { callbacks: {
          title: function (items) { return items.length ? items[0].parsed.x + ' s' : ''; },
          label: function (item) {
            return item.dataset.label + ': ' + (finite(item.parsed.y) ? item.parsed.y.toFixed(1) + '%' : 'no requests');
          }
        } }
      }
    }
  });

  // (c) Side effects per second against async email processes, sync beside them.
  var scalability = data.scalability || {};
  var asyncRuns = scalability.async || [];
  var sync = scalability.sync;
  var labels = asyncRuns.map(function (r) { return r.processes + ' (async)'; });
  if (sync) labels.push(sync.processes + ' (sync)');
  make('chart-scalability', {
    type: 'bar',
    data: {
      labels: labels,
      datasets: [
        { label: NAMES.async, backgroundColor: COLORS.async,
          data: asyncRuns.map(function (r) { return r.sideEffectsPerSec; }).concat(sync ? [null] : []) },
        { label: NAMES.sync, backgroundColor: COLORS.sync,
          data: asyncRuns.map(function () { return null; }).concat(sync ? [sync.sideEffectsPerSec] : []) }
      ]
    },
    options: {
      skipNull: true,
      scales: {
        x: { title: { display: true, text: 'Email processes' } },
        y: { beginAtZero: true, title: { display: true, text: 'Side effects per second' } }
      }
    }
  });

  // (d) p50 before and after a fourth side effect.
  var coupling = (data.coupling && data.coupling.p50Ms) || {};
  make('chart-coupling', {
    type: 'bar',
    data: {
      labels: MODES.map(function (m) { return NAMES[m]; }),
      datasets: [
        { label: 'Three side effects', backgroundColor: '#9db4cc',
          data: MODES.map(function (m) { return coupling[m] ? coupling[m].before : null; }) },
        { label: 'Four side effects', backgroundColor: '#27486b',
          data: MODES.map(function (m) { return coupling[m] ? coupling[m].after : null; }) }
      ]
    },
    options: {
      scales: { y: { beginAtZero: true, title: { display: true, text: 'p50 (ms)' } } },
      plugins: { tooltip: { callbacks: {
        label: function (item) { return item.dataset.label + ': ' + ms(item.parsed.y) + ' ms'; }
      } } }
    }
  });
})();
`;

let chartJsSource: string | undefined;

/** Chart.js's UMD build, read once from the installed package (its exports map hides dist/). */
export function chartJsUmd(): string {
  if (chartJsSource === undefined) {
    const main = createRequire(import.meta.url).resolve('chart.js');
    const text = readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
    chartJsSource = inlineScript(text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
  }
  return chartJsSource;
}

/** Script text safe inside `<script>`: nothing that would end or confuse the element. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function renderHtml(report: LabReport, options: { chartJs?: string } = {}): string {
  let tables = 0;
  const chartJs = options.chartJs === undefined ? chartJsUmd() : inlineScript(options.chartJs);
  const title = `Syncopate lab report — ${reportDate(report)}`;
  const body: string[] = [];
  for (const section of sections(report)) {
    body.push(`<section id="${escapeHtml(section.id)}" aria-labelledby="${escapeHtml(section.id)}-title">`);
    body.push(`<h2 id="${escapeHtml(section.id)}-title">${escapeHtml(section.title)}</h2>`);
    for (const block of section.blocks) {
      if (block.kind === 'p') body.push(`<p>${inlineHtml(block.text)}</p>`);
      else if (block.kind === 'table') body.push(tableHtml(block.table, `table-${++tables}`, block.collapsed));
      else body.push(chartHtml(block.chart));
    }
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
<p>${inlineHtml(['Also: ', { link: REPORT_FILES.markdown, href: REPORT_FILES.markdown }, ' (Markdown) · ', { link: REPORT_FILES.json, href: REPORT_FILES.json }, ' (raw data).'])}</p>
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
