import { formatInterval, formatMs, formatQuantity, plural } from './format.js';
import type { CostRow, LoadTrial, Measured, ReadYourWritesProbe } from './results.js';
import { intervalOf, percentile } from './stats.js';

/**
 * What async costs: the rows the chapter's table leaves out, from the same run — how long the side
 * effects lag the answer, what at-least-once delivery resends when a consumer dies, the moving
 * parts it adds, and the reads that may not see a payment yet (where sync is the right call).
 */
export function costsOf(measured: Measured): CostRow[] {
  return [consistencyWindow(measured), atLeastOnce(measured), movingParts(measured), readYourWrites(measured)];
}

/** "p50 45 ms (40–52), p99 120 ms": per-trial p50s, and the p99 of every trial's receipts together. */
function windowOf(trials: readonly LoadTrial[]): string {
  const async = trials.filter((t) => t.mode === 'async' && t.receiptAfterAnswerMs.length > 0);
  if (async.length === 0) return 'not measured';
  const p50 = intervalOf(async.map((t) => percentile(t.receiptAfterAnswerMs, 50)));
  const all = async.flatMap((t) => t.receiptAfterAnswerMs).sort((a, b) => a - b);
  return `p50 ${formatInterval(p50, 'ms')}, p99 ${formatMs(percentile(all, 99))} ms (${plural(all.length, 'receipt')})`;
}

function consistencyWindow({ latency, slowdown }: Measured): CostRow {
  const points = latency.points;
  const first = points[0];
  const last = points.at(-1);
  const at = (point: (typeof points)[number]) => `at ${point.ratePerSec}/s ${windowOf(point.trials)}`;
  const rates = first && last && first !== last ? `${at(first)}; ${at(last)}` : first ? at(first) : 'not measured';
  const syncBefore = intervalOf(
    slowdown.trials
      .concat(points.flatMap((p) => p.trials))
      .filter((t) => t.mode === 'sync' && t.receiptAfterAnswerMs.length > 0)
      .map((t) => -percentile(t.receiptAfterAnswerMs, 50)),
  );
  return {
    cost: 'Consistency window: from the 201 to the receipt at the mail server',
    sync: `none: the receipt is out before the answer (p50 ${formatInterval(syncBefore, 'ms')} before it), so its time is part of sync's response time`,
    async: `${rates}; with email +${slowdown.addedLatencyMs} ms: ${windowOf(slowdown.trials)}`,
  };
}

function atLeastOnce({ crash }: Measured): CostRow {
  const sum = (pick: (t: (typeof crash.trials)[number]) => number) => crash.trials.reduce((s, t) => s + pick(t), 0);
  const held = crash.trials.map((t) => t.inFlightAtKill).join(', ');
  return {
    cost: 'At-least-once delivery: consumers killed mid-send (SIGKILL)',
    sync: 'nothing is redelivered, so nothing is sent twice: a request whose email call dies fails instead (as in the outage), and only a retry by the client sends the receipt',
    async: `${plural(crash.trials.length, 'consumer')} killed, one a trial, while others ran (${held} receipts in flight at the kills): lost ${sum((t) => t.receipts.lost)} of ${formatQuantity(sum((t) => t.receipts.payments))}, duplicate receipts ${sum((t) => t.receipts.duplicated)}, resends ${sum((t) => t.receipts.resends)} (a receipt the mail server had taken just before the kill, sent again with the same Message-ID: mailboxes show one). The price of never losing one: every consumer must be idempotent`,
  };
}

function movingParts({ movingParts: parts, coupling }: Measured): CostRow {
  const calls = Math.max(0, (coupling.requestPaths.sync[0]?.length ?? 1) - 1);
  const processes = parts.processes.async.length;
  return {
    cost: 'Moving parts added',
    sync: `no queue; ${plural(calls, 'call')} a payment, each with a timeout to tune (${formatQuantity(parts.syncCallTimeoutMs / 1_000)} s here) and a service that must be up for the payment to succeed`,
    async: `a queue with ${plural(parts.consumerGroups.length, 'consumer group')} (${parts.consumerGroups.join(', ')}), each with its own lag, retries and dead-letter queue to watch — in this run the queues held up to ${plural(parts.peakDepth.events, 'event')} (${parts.peakDepth.during}) and the oldest waited ${formatMs(parts.peakLagMs.ms)} ms (${parts.peakLagMs.during}); ${plural(parts.deadLettered, 'dead letter')} at the end; an inbox (dedup) table per consumer. Both ran as the same ${processes} processes here`,
  };
}

function readYourWrites({ readYourWrites: { probes } }: Measured): CostRow {
  const of = (mode: ReadYourWritesProbe['mode']) => probes.filter((p) => p.mode === mode);
  const describe = (list: readonly ReadYourWritesProbe[]) => {
    const counted = list.filter((p) => p.countedAtOnce).length;
    const listed = list.filter((p) => p.reportIncluded).length;
    const after = intervalOf(
      list.flatMap((p) => (p.countedAtOnce || p.countedAfterMs === null ? [] : [p.countedAfterMs])),
    );
    return `a report requested right after the 201 listed the payment ${listed} of ${list.length} times; analytics read at once counted it ${counted} of ${list.length} times${after ? ` (the others after ${formatInterval(after, 'ms')})` : ''}`;
  };
  return {
    cost: 'Read-your-writes: reading right after paying',
    sync: describe(of('sync')),
    async: `${describe(of('async'))}: a screen that must show the payment at once should read from payments, not from what the side effects built`,
  };
}
