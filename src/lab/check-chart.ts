/**
 * The geometry of a verdict's chart, shared by the HTML report and the dashboard (no Node import
 * here): one row per check, each side a bar spanning its trials' range with a tick at their median,
 * on the row's own scale. The chart is drawn from the very intervals the check's status comes from,
 * so it cannot say otherwise than the verdict.
 */
import { formatInterval } from './format.js';
import type { Check, Interval, Mode, Status } from './results.js';

export interface ChartBar {
  mode: Mode;
  label: string;
  /** "121 ms (115–130)", or "not measured". */
  text: string;
  /** Positions on the row's scale, 0–1; null when the side was not measured. */
  span: { from: number; to: number; median: number } | null;
}

export interface ChartRow {
  label: string;
  status: Status;
  note?: string;
  primary: boolean;
  /** Where zero sits on the row's scale, 0–1. */
  zero: number;
  bars: [ChartBar, ChartBar];
}

export const STATUS_MARK: Record<Status, string> = { holds: '✓', 'does not hold': '✗', 'not shown': '–' };

/** Rows for a verdict's checks: primary checks first, in their order. */
export function chartRows(checks: readonly Check[]): ChartRow[] {
  const ordered = [...checks.filter((c) => c.primary), ...checks.filter((c) => !c.primary)];
  return ordered.map((check) => {
    const intervals = check.sides.map((s) => s.interval).filter((i): i is Interval => i !== null);
    const low = Math.min(0, ...intervals.map((i) => i.min));
    const high = Math.max(0, ...intervals.map((i) => i.max));
    // A little room beyond the highest figure; a flat row (all zero) still has a scale.
    const top = high > low ? high + (high - low) * 0.08 : low + 1;
    const at = (value: number) => (value - low) / (top - low);
    const signed = check.unit === 'ms' && low < 0;
    const bar = (i: 0 | 1): ChartBar => {
      const side = check.sides[i];
      return {
        mode: side.mode,
        label: side.label,
        text: side.interval ? formatInterval(side.interval, check.unit, signed) : 'not measured',
        span: side.interval
          ? { from: at(side.interval.min), to: at(side.interval.max), median: at(side.interval.median) }
          : null,
      };
    };
    return {
      label: check.label,
      status: check.status,
      ...(check.note === undefined ? {} : { note: check.note }),
      primary: check.primary,
      zero: at(0),
      bars: [bar(0), bar(1)],
    };
  });
}
