import type { LabReport, Verdict } from './results.js';

const ms = (value: number) => (value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`);
const pct = (share: number) => `${Math.round(share * 1000) / 10}%`;

/** The textbook's table, filled in from the measurements, with a verdict per row and the reason for it. */
export function verdictsOf(report: Omit<LabReport, 'verdicts'>): Verdict[] {
  return [latency(report), coupling(report), isolation(report), scalability(report)];
}

function latency({ latency, slowDownstream }: Omit<LabReport, 'verdicts'>): Verdict {
  const rows = latency.rates;
  const faster = rows.filter((r) => r.async.p50Ms < r.sync.p50Ms).length;
  const top = rows.at(-1);
  const slow = slowDownstream.during;
  const holds = faster === rows.length && slow.async.p50Ms < slow.sync.p50Ms;
  return {
    aspect: 'Latency (initial response)',
    sync: top
      ? `p50 ${ms(top.sync.p50Ms)}, p99 ${ms(top.sync.p99Ms)} at ${top.ratePerSec}/s; email +${slowDownstream.addedLatencyMs} ms → p50 ${ms(slow.sync.p50Ms)}`
      : 'not measured',
    async: top
      ? `p50 ${ms(top.async.p50Ms)}, p99 ${ms(top.async.p99Ms)} at ${top.ratePerSec}/s (side effects done after p50 ${ms(top.asyncEventualLag.p50Ms)}); email +${slowDownstream.addedLatencyMs} ms → p50 ${ms(slow.async.p50Ms)}`
      : 'not measured',
    holds,
    because: holds
      ? `async answered faster at every rate (${faster}/${rows.length}) and kept its response time when email slowed down`
      : `async answered faster at ${faster} of ${rows.length} rates${slow.async.p50Ms < slow.sync.p50Ms ? '' : ', and not when email slowed down'}`,
  };
}

function coupling({ coupling }: Omit<LabReport, 'verdicts'>): Verdict {
  const { requestPathServices: path, p50Ms } = coupling;
  const syncCost = p50Ms.sync.after - p50Ms.sync.before;
  const asyncCost = p50Ms.async.after - p50Ms.async.before;
  const holds = path.async.length < path.sync.length && syncCost > asyncCost;
  return {
    aspect: 'Coupling',
    sync: `${path.sync.length} services on the request path (${path.sync.join(', ')}); a 4th side effect: p50 ${signed(syncCost)}`,
    async: `${path.async.length} service${path.async.length === 1 ? '' : 's'} on the request path (${path.async.join(', ')}); a 4th consumer: p50 ${signed(asyncCost)}`,
    holds,
    because: holds
      ? `the async request waits for ${path.async.length} service${path.async.length === 1 ? '' : 's'}, the sync one for ${path.sync.length}; one more side effect cost sync ${signed(syncCost)} at p50, async ${signed(asyncCost)}`
      : 'the measurements do not show async depending on fewer services and paying less for a new side effect',
  };
}

function isolation({ outage, crash }: Omit<LabReport, 'verdicts'>): Verdict {
  const { errorRateDuringOutage: errors, afterRecovery } = outage;
  const clean =
    afterRecovery.lost === 0 &&
    afterRecovery.duplicated === 0 &&
    crash.async.lost === 0 &&
    crash.async.duplicated === 0;
  const holds = errors.async < errors.sync && clean;
  return {
    aspect: 'Failure isolation',
    sync: `${pct(errors.sync)} of payments failed while email was down (${outage.syncChargedButFailed} charged, told "failed", no receipt)`,
    async: `${pct(errors.async)} failed; after recovery ${afterRecovery.deliveredOnce}/${afterRecovery.payments} receipts arrived once (lost ${afterRecovery.lost}, duplicated ${afterRecovery.duplicated})`,
    holds,
    because: holds
      ? 'the email outage never reached the client in async mode, and every side effect still happened exactly once'
      : clean
        ? 'async did not fail fewer requests than sync during the outage'
        : 'async lost or duplicated side effects',
  };
}

function scalability({ scalability }: Omit<LabReport, 'verdicts'>): Verdict {
  const runs = scalability.async;
  const first = runs[0];
  const last = runs.at(-1);
  const grows = first !== undefined && last !== undefined && last.sideEffectsPerSec > first.sideEffectsPerSec * 1.5;
  const holds = grows && (last?.acceptedPerSec ?? 0) >= scalability.sync.acceptedPerSec;
  return {
    aspect: 'Scalability',
    sync: `${scalability.sync.acceptedPerSec}/s accepted of ${scalability.offeredPerSec}/s offered (${pct(scalability.sync.errorRate)} failed, p99 ${ms(scalability.sync.p99Ms)}): the slow side effect caps the request rate`,
    async: `${last?.acceptedPerSec ?? 0}/s accepted; side effects ${runs.map((r) => `${r.sideEffectsPerSec}/s`).join(' → ')} with ${runs.map((r) => r.processes).join(' → ')} consumer processes`,
    holds,
    because: holds
      ? 'async took every payment while its side-effect throughput grew with consumer processes'
      : grows
        ? 'async accepted fewer payments per second than sync'
        : 'side-effect throughput did not grow with more consumer processes',
  };
}

function signed(deltaMs: number): string {
  const rounded = Math.abs(deltaMs) < 10 ? Math.round(deltaMs * 10) / 10 : Math.round(deltaMs);
  return `${rounded >= 0 ? '+' : ''}${rounded} ms`;
}
