/**
 * The durability table: each test writes what it measured into the run's results directory, and
 * the global teardown prints the table from those files, so every figure comes from this run.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CrashFigures } from './crash.js';
import type { FencingFigures } from './fencing.js';

export interface TransportEntry {
  /** Orders the rows. */
  order: number;
  transport: string;
  /** The settings the figures depend on. */
  setting: string;
  crash?: CrashFigures & { seconds: number };
  fencing?: FencingFigures & { seconds: number; fence: string };
  /** A row with nothing measured: why. */
  note?: string;
}

export function record(
  dir: string,
  key: string,
  entry: Partial<TransportEntry> & { order: number; transport: string },
) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${key}.json`);
  let previous: Partial<TransportEntry> = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // The first part of this row.
  }
  writeFileSync(file, JSON.stringify({ ...previous, ...entry }, null, 2));
}

export function readEntries(dir: string): TransportEntry[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as TransportEntry)
    .sort((a, b) => a.order - b.order);
}

const HEADERS = [
  'Transport',
  'Setting',
  'SIGKILLs survived',
  'Confirmed',
  'Rejected',
  'In flight at each kill',
  'Consumed',
  'Lost',
  'Duplicated',
  'Late ack of a consumer stopped past its lease',
  'Seconds',
];

/** A Markdown table (readable as text too). */
export function formatTable(entries: readonly TransportEntry[]): string {
  const rows = entries.map((entry) => {
    const { crash, fencing } = entry;
    if (!crash && !fencing)
      return [entry.transport, entry.setting, entry.note ?? 'not run', ...HEADERS.slice(3).map(() => '—')];
    const seconds = (crash?.seconds ?? 0) + (fencing?.seconds ?? 0);
    return [
      entry.transport,
      entry.setting,
      crash ? (crash.lost === 0 ? `${crash.kills} of ${crash.kills}` : 'no: events lost') : 'not run',
      crash ? String(crash.confirmed) : '—',
      crash ? String(crash.rejected) : '—',
      crash ? crash.inFlightAtKills.map((n) => (n == null ? 'n/a' : String(n))).join(', ') : '—',
      crash
        ? `${crash.consumed}${crash.unconfirmedDelivered > 0 ? ` (${crash.unconfirmedDelivered} unconfirmed)` : ''}`
        : '—',
      crash ? String(crash.lost) : '—',
      crash ? String(crash.duplicated) : '—',
      fencing
        ? `refused (${fencing.fence}): back as attempt ${fencing.cameBackAs} after the new holder failed`
        : 'not run',
      String(seconds),
    ];
  });
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
