/**
 * The report page's charts: each verdict's checks as an SVG drawn here (the same geometry as the
 * dashboard's, from the same intervals as the statuses), and the percentile curve, which
 * Chart.js (inlined) draws in the browser from the embedded data.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ChartRow, chartRows, STATUS_MARK } from './check-chart.js';
import type { Verdict } from './results.js';

const WIDTH = 640;
/** The sides' names, left of their bars. */
const LABEL_W = 120;
/** Each side's figure, right of its bar. */
const TEXT_W = 170;
const BAR_W = WIDTH - LABEL_W - TEXT_W - 16;
const ROW_H = 58;
const BAR_H = 12;

export function escapeXml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A verdict's checks, one row each: the two sides' ranges over their trials as bars, their medians
 * as ticks, the status mark, on the row's own scale. Null for a verdict without checks.
 */
export function verdictChartSvg(verdict: Verdict, id: string): string | null {
  const rows = chartRows(verdict.checks);
  if (rows.length === 0) return null;
  const height = rows.length * ROW_H + 8;
  const title = `${verdict.aspect}: ${verdict.status}`;
  const desc = rows
    .map(
      (r) =>
        `${r.label}: ${r.bars[0].label} ${r.bars[0].text}, ${r.bars[1].label} ${r.bars[1].text} — ${r.status}${r.note ? ` (${r.note})` : ''}`,
    )
    .join('. ');
  return [
    `<svg class="checks" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" data-status="${escapeXml(verdict.status)}">`,
    `<title id="${id}-title">${escapeXml(title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(desc)}</desc>`,
    ...rows.map((row, i) => rowSvg(row, i * ROW_H + 4)),
    '</svg>',
  ].join('\n');
}

function rowSvg(row: ChartRow, y: number): string {
  const x = (fraction: number) => LABEL_W + fraction * BAR_W;
  const bars = row.bars.map((bar, i) => {
    const top = y + 20 + i * (BAR_H + 6);
    const parts = [
      `<text class="side" x="0" y="${top + BAR_H - 2}">${escapeXml(bar.label)}</text>`,
      `<rect class="track" x="${LABEL_W}" y="${top}" width="${BAR_W}" height="${BAR_H}"/>`,
      `<text class="figure" x="${LABEL_W + BAR_W + 8}" y="${top + BAR_H - 2}">${escapeXml(bar.text)}</text>`,
    ];
    if (bar.span) {
      const from = x(bar.span.from);
      // A range of one value still shows: at least 2 units wide.
      const width = Math.max(2, x(bar.span.to) - from);
      const median = x(bar.span.median).toFixed(1);
      parts.push(
        `<rect class="range ${i === 0 ? 'against' : 'claimed'}" data-side="${i}" data-from="${bar.span.from.toFixed(4)}" data-to="${bar.span.to.toFixed(4)}" x="${from.toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${BAR_H}"/>`,
        `<line class="median" x1="${median}" x2="${median}" y1="${top - 2}" y2="${top + BAR_H + 2}"/>`,
      );
    }
    return parts.join('');
  });
  const zero =
    row.zero > 0
      ? `<line class="zero" x1="${x(row.zero)}" x2="${x(row.zero)}" y1="${y + 17}" y2="${y + 20 + 2 * BAR_H + 9}"/>`
      : '';
  const head = `${STATUS_MARK[row.status]} ${row.label}${row.primary ? '' : ' (qualifies)'}: `;
  return [
    `<g class="row ${row.status.replace(/ /g, '-')}" data-status="${escapeXml(row.status)}">`,
    `<text x="0" y="${y + 12}"><tspan class="check">${escapeXml(head)}</tspan><tspan class="status">${escapeXml(row.status)}${row.note ? escapeXml(` — ${row.note}`) : ''}</tspan></text>`,
    ...bars,
    zero,
    '</g>',
  ].join('\n');
}

export const CHART_CSS = `
svg.checks { display: block; max-width: 48rem; margin: .5rem 0 1rem; font-size: 11px; }
svg.checks .track { fill: var(--stripe); }
svg.checks .range.against { fill: var(--sync); }
svg.checks .range.claimed { fill: var(--async); }
svg.checks .median { stroke: var(--text); stroke-width: 2; }
svg.checks .zero { stroke: var(--muted); stroke-dasharray: 2 2; }
svg.checks .check { font-weight: 600; fill: var(--text); }
svg.checks .status, svg.checks .side, svg.checks .figure { fill: var(--muted); }
svg.checks .does-not-hold .status { fill: var(--no); }
svg.checks .holds .status { fill: var(--yes); }
`;

/**
 * Draws the percentile curve from the embedded data (#lab-data): the response times of every
 * trial at the highest rate, pooled per mode. Plain browser JavaScript, kept as text so that no
 * transpiler helper leaks into the page.
 */
export const CHARTS_SCRIPT = `
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
  var points = (data.latency && data.latency.points) || [];
  var top = points[points.length - 1];
  if (!top) return;
  var pooled = {};
  MODES.forEach(function (mode) {
    var all = [];
    top.trials.forEach(function (t) { if (t.mode === mode && t.latenciesMs) all = all.concat(t.latenciesMs); });
    pooled[mode] = all.sort(function (a, b) { return a - b; });
  });
  var percentiles = [];
  for (var p = 0; p <= 99; p++) percentiles.push(p);
  percentiles.push(99.5, 99.9, 100);
  var canvas = document.getElementById('chart-latency');
  if (!canvas) return;
  new Chart(canvas, {
    type: 'line',
    data: {
      datasets: MODES.map(function (mode) {
        return {
          label: NAMES[mode],
          data: percentiles.map(function (q) { return { x: q, y: nearestRank(pooled[mode], q) }; }),
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
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
