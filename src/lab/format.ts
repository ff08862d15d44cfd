/** How the lab writes numbers: in the verdicts, the costs, the report and the terminal alike. */
import type { Check, Interval } from './results.js';

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
export function formatDeltaMs(ms: number): string {
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

/** CPUs used (CPU-seconds per second): "0.62 CPU". */
export function formatCpus(cpus: number): string {
  return formatValue(cpus, 'cpu');
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

/** A check's units, CPUs (CPU-seconds per second) and seconds. */
type Unit = Check['unit'] | 'cpu' | 's';

/** A bare figure in its unit, without the unit's word: "121", "20%", "7.8". */
export function formatBare(value: number, unit: Unit): string {
  if (unit === 'ms') return formatMs(value);
  if (unit === 'cpu') return isNumber(value) ? value.toFixed(2) : '—';
  if (unit === 'share') return formatPercent(value);
  if (unit === '/s' || unit === 's') return formatQuantity(value);
  return formatCount(value);
}

/** A figure with its unit: "121 ms", "20%", "7.8/s", "5". */
export function formatValue(value: number, unit: Unit): string {
  const bare = formatBare(value, unit);
  if (bare === '—') return bare;
  const suffix = { ms: ' ms', '/s': '/s', cpu: ' CPU', s: ' s', share: '', count: '' }[unit];
  return `${bare}${suffix}`;
}

/** A signed figure with its unit, for differences: "+57 ms". */
export function formatSigned(value: number, unit: Unit): string {
  if (unit === 'ms') return `${formatDeltaMs(value)} ms`;
  const text = formatValue(Math.abs(value), unit);
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

/**
 * The median over the trials with their range: "121 ms (115–130)", "+5 ms (−2 to +12)"; the
 * range is left out when every trial gave the same figure.
 */
export function formatInterval(interval: Interval | null, unit: Unit, signed = false): string {
  if (!interval) return '—';
  const one = (v: number) => (signed ? formatSigned(v, unit) : formatValue(v, unit));
  const bare = (v: number) => (signed ? formatSigned(v, unit).replace(/ (ms|CPU)$/, '') : formatBare(v, unit));
  if (interval.min === interval.max) return one(interval.median);
  return `${one(interval.median)} (${bare(interval.min)}${signed ? ' to ' : '–'}${bare(interval.max)})`;
}
