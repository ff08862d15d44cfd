import { useEffect, useState } from 'preact/hooks';
import { formatMs } from './api.js';
import { ScrollRegion } from './scroll-region.js';

interface Verdict {
  aspect: string;
  sync: string;
  async: string;
  holds: boolean;
  because: string;
}

interface Summary {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** The parts of the lab report (src/lab/results.ts) this page shows. */
interface LabReport {
  finishedAt: string;
  quick: boolean;
  transport: string;
  machine: { cpus: number; node: string };
  verdicts: Verdict[];
  latency: { rates: { ratePerSec: number; sync: Summary; async: Summary }[] };
  outage: { errorRateDuringOutage: { sync: number; async: number } };
  scalability: {
    async: { processes: number; sideEffectsPerSec: number }[];
    sync: { processes: number; sideEffectsPerSec: number };
  };
}

interface Bar {
  label: string;
  sync: number;
  async: number;
}

/** A grouped bar chart, sync beside async, drawn as SVG with its numbers as text. */
function BarChart(props: { title: string; bars: Bar[]; format(value: number): string }) {
  const max = Math.max(1e-9, ...props.bars.flatMap((b) => [b.sync, b.async]));
  const rowH = 44;
  const width = 360;
  const labelW = 70;
  const scale = (v: number) => ((width - labelW - 70) * v) / max;
  const height = props.bars.length * rowH + 8;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={props.title}>
        {props.bars.map((bar, i) => {
          const y = i * rowH + 4;
          return (
            <g key={bar.label}>
              <text x={0} y={y + 22} class="label">
                {bar.label}
              </text>
              <rect x={labelW} y={y} width={scale(bar.sync)} height={16} class="bar-sync" />
              <text x={labelW + scale(bar.sync) + 4} y={y + 12} class="label">
                sync {props.format(bar.sync)}
              </text>
              <rect x={labelW} y={y + 19} width={scale(bar.async)} height={16} class="bar-async" />
              <text x={labelW + scale(bar.async) + 4} y={y + 31} class="label">
                async {props.format(bar.async)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function LabResults(props: { available: boolean }) {
  const [report, setReport] = useState<LabReport | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!props.available) return;
    fetch('/v1/dashboard/lab_report')
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        setReport((await response.json()) as LabReport);
      })
      .catch((e: unknown) => setError(String(e)));
  }, [props.available]);
  const top = report?.latency.rates.at(-1);
  return (
    <section id="lab" class="panel wide" aria-labelledby="lab-title">
      <h2 id="lab-title">Lab results</h2>
      {!props.available && (
        <p class="muted">
          No lab report yet: run <code>npm run lab</code> (or <code>npm run lab -- --quick</code>), then reload.
        </p>
      )}
      {error && <p class="error-text">The lab report could not be read: {error}</p>}
      {report && (
        <>
          <p class="muted">
            {report.quick ? 'Quick run' : 'Full run'} finished {new Date(report.finishedAt).toLocaleString()} on{' '}
            {report.machine.cpus} CPUs, Node {report.machine.node}, transport {report.transport} ·{' '}
            <a href="/v1/dashboard/lab_report.html" target="_blank" rel="noopener">
              the full report with its charts
            </a>
          </p>
          <ScrollRegion label="Verdicts">
            <table class="verdicts">
              <thead>
                <tr>
                  <th scope="col">Aspect</th>
                  <th scope="col">Sync</th>
                  <th scope="col">Async</th>
                  <th scope="col">Holds</th>
                  <th scope="col">Because</th>
                </tr>
              </thead>
              <tbody>
                {report.verdicts.map((v) => (
                  <tr key={v.aspect}>
                    <th scope="row">{v.aspect}</th>
                    <td>{v.sync}</td>
                    <td>{v.async}</td>
                    <td>{v.holds ? '✓ yes' : '✗ no'}</td>
                    <td>{v.because}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <div class="charts">
            {top && (
              <BarChart
                title={`Response time at ${top.ratePerSec} payments/s`}
                format={formatMs}
                bars={[
                  { label: 'p50', sync: top.sync.p50Ms, async: top.async.p50Ms },
                  { label: 'p95', sync: top.sync.p95Ms, async: top.async.p95Ms },
                  { label: 'p99', sync: top.sync.p99Ms, async: top.async.p99Ms },
                ]}
              />
            )}
            <BarChart
              title="Error rate while email was down"
              format={(v) => `${Math.round(v * 100)}%`}
              bars={[
                {
                  label: 'errors',
                  sync: report.outage.errorRateDuringOutage.sync,
                  async: report.outage.errorRateDuringOutage.async,
                },
              ]}
            />
            <BarChart
              title="Side effects per second, by email processes"
              format={(v) => `${Math.round(v)}/s`}
              bars={report.scalability.async.map((a) => ({
                label: `${a.processes} proc.`,
                sync: report.scalability.sync.sideEffectsPerSec,
                async: a.sideEffectsPerSec,
              }))}
            />
          </div>
        </>
      )}
    </section>
  );
}
