import { useEffect, useState } from 'preact/hooks';
// The lab's own chart geometry and report shape: the dashboard draws what the report's checks say.
import { type ChartRow, chartRows, STATUS_MARK } from '../../src/lab/check-chart.js';
import { LAB_REPORT_VERSION, type LabReport, type Status, type Verdict } from '../../src/lab/results.js';
import { ScrollRegion } from './scroll-region.js';

function StatusBadge(props: { status: Status }) {
  return (
    <strong class={`status ${props.status.replace(/ /g, '-')}`}>
      {STATUS_MARK[props.status]} {props.status}
    </strong>
  );
}

const WIDTH = 400;
const LABEL_W = 92;
const BAR_W = 150;
const ROW_H = 74;
const BAR_H = 10;

/** One check: its status, and each side's range over the trials as a bar with a tick at the median. */
function CheckRow(props: { row: ChartRow; y: number }) {
  const { row, y } = props;
  const x = (fraction: number) => LABEL_W + fraction * BAR_W;
  return (
    <g class={`row ${row.status.replace(/ /g, '-')}`} data-status={row.status}>
      <text x={0} y={y + 12} class="check">
        {STATUS_MARK[row.status]} {row.label}
        {row.primary ? '' : ' (qualifies)'}
      </text>
      <text x={0} y={y + 26} class="status-text">
        {row.status}
        {row.note ? ` — ${row.note}` : ''}
      </text>
      {row.zero > 0 && <line x1={x(row.zero)} x2={x(row.zero)} y1={y + 31} y2={y + 34 + 2 * BAR_H + 9} class="zero" />}
      {row.bars.map((bar, i) => {
        const top = y + 34 + i * (BAR_H + 6);
        return (
          <g key={bar.mode + bar.label}>
            <text x={0} y={top + BAR_H - 1} class="label">
              {bar.label}
            </text>
            <rect x={LABEL_W} y={top} width={BAR_W} height={BAR_H} class="track" />
            {bar.span && (
              <>
                <rect
                  x={x(bar.span.from)}
                  y={top}
                  width={Math.max(2, x(bar.span.to) - x(bar.span.from))}
                  height={BAR_H}
                  // Orange the side the chapter says is worse (sync, or fewer processes), blue the better.
                  class={`range ${i === 0 ? 'bar-sync' : 'bar-async'}`}
                  data-side={i}
                />
                <line
                  x1={x(bar.span.median)}
                  x2={x(bar.span.median)}
                  y1={top - 2}
                  y2={top + BAR_H + 2}
                  class="median"
                />
              </>
            )}
            <text x={LABEL_W + BAR_W + 6} y={top + BAR_H - 1} class="label">
              {bar.text}
            </text>
          </g>
        );
      })}
    </g>
  );
}

/**
 * A verdict's chart: its checks, primary first, drawn from the intervals their statuses come from,
 * under the verdict's own status. A verdict without checks gets no chart, only why.
 */
function VerdictChart(props: { verdict: Verdict }) {
  const { verdict } = props;
  const rows = chartRows(verdict.checks);
  return (
    <figure class="chart" data-status={verdict.status}>
      <figcaption>
        {verdict.aspect}: <StatusBadge status={verdict.status} />
      </figcaption>
      {rows.length === 0 ? (
        <p class="muted">No chart: {verdict.because}.</p>
      ) : (
        <svg
          viewBox={`0 0 ${WIDTH} ${rows.length * ROW_H + 4}`}
          width="100%"
          role="img"
          aria-label={`${verdict.aspect}: ${verdict.status}. ${rows
            .map(
              (r) =>
                `${r.label}: ${r.bars[0].label} ${r.bars[0].text}, ${r.bars[1].label} ${r.bars[1].text}, ${r.status}`,
            )
            .join('. ')}`}
        >
          {rows.map((row, i) => (
            <CheckRow key={row.label} row={row} y={i * ROW_H} />
          ))}
        </svg>
      )}
    </figure>
  );
}

/** The median over the scenarios of what other programs used: the machine's state in one phrase. */
function machineState(report: LabReport): string {
  const others = report.noise.flatMap((n) => (n.otherCpus ? [n.otherCpus.median] : [])).sort((a, b) => a - b);
  const warned = report.noise.filter((n) => n.warnings.length > 0).length;
  const median = others[Math.floor(others.length / 2)];
  return `${median === undefined ? 'other programs: unknown' : `other programs used ${median.toFixed(2)} CPU of ${report.machine.cpus}`}${warned > 0 ? ` · ${warned} noisy scenario${warned > 1 ? 's' : ''}` : ''}`;
}

export function LabResults(props: { available: boolean }) {
  const [report, setReport] = useState<LabReport | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!props.available) return;
    fetch('/v1/dashboard/lab_report')
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = (await response.json()) as Partial<LabReport>;
        if (body.version !== LAB_REPORT_VERSION) {
          throw new Error('it was written by an older version of the lab: run npm run lab again');
        }
        setReport(body as LabReport);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [props.available]);
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
            {report.machine.cpus} CPUs, Node {report.machine.node}, transport {report.transport}; {report.trials} trials
            a mode per point; {machineState(report)} ·{' '}
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
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {report.verdicts.map((v) => (
                  <tr key={v.aspect}>
                    <th scope="row">{v.aspect}</th>
                    <td>
                      <em>{v.claim.sync}</em> — {v.sync}
                    </td>
                    <td>
                      <em>{v.claim.async}</em> — {v.async}
                    </td>
                    <td>
                      <StatusBadge status={v.status} /> {v.because}
                      {v.caveat && (
                        <p class="caveat">
                          <strong>But:</strong> {v.caveat}
                        </p>
                      )}
                      {v.warnings.length > 0 && (
                        <ul class="warnings">
                          {v.warnings.map((w) => (
                            <li key={w}>{w}</li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <div class="charts">
            {report.verdicts.map((v) => (
              <VerdictChart key={v.aspect} verdict={v} />
            ))}
          </div>
          <h3>What async costs</h3>
          <ScrollRegion label="What async costs">
            <table class="costs">
              <thead>
                <tr>
                  <th scope="col">Cost</th>
                  <th scope="col">Sync</th>
                  <th scope="col">Async</th>
                </tr>
              </thead>
              <tbody>
                {report.costs.map((c) => (
                  <tr key={c.cost}>
                    <th scope="row">{c.cost}</th>
                    <td>{c.sync}</td>
                    <td>{c.async}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </>
      )}
    </section>
  );
}
