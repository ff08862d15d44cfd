import { useEffect, useState } from 'preact/hooks';
import type { Api, FaultRow } from './api.js';
import { ScrollRegion } from './scroll-region.js';

export function FaultsPanel(props: { api: Api; faults: FaultRow[]; onChange(rows: FaultRow[]): void }) {
  const [error, setError] = useState<string | undefined>();
  const patch = async (service: string, settings: Partial<FaultRow>) => {
    const answer = await props.api.admin('PATCH', `/v1/admin/faults/${service}`, settings);
    if (answer.status !== 200) {
      setError(answer.body?.error?.message ?? `HTTP ${answer.status}`);
      return;
    }
    setError(undefined);
    props.onChange(props.faults.map((f) => (f.service === service ? answer.body : f)));
  };
  return (
    <section id="faults" class="panel" aria-labelledby="faults-title">
      <h2 id="faults-title">Faults</h2>
      {error && (
        <p role="alert" class="error-text">
          {error}
        </p>
      )}
      <ScrollRegion label="Fault knobs">
        <table class="faults">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Down</th>
              <th scope="col">Added latency (ms)</th>
              <th scope="col">Error rate (%)</th>
            </tr>
          </thead>
          <tbody>
            {props.faults.map((f) => (
              <FaultRowView key={f.service} fault={f} onPatch={(s) => void patch(f.service, s)} />
            ))}
          </tbody>
        </table>
      </ScrollRegion>
    </section>
  );
}

function FaultRowView(props: { fault: FaultRow; onPatch(settings: Partial<FaultRow>): void }) {
  const { fault } = props;
  const latency = fault.latency && 'fixedMs' in fault.latency ? fault.latency.fixedMs : 0;
  const [latencyText, setLatencyText] = useState(String(latency));
  const [rateText, setRateText] = useState(String(Math.round(fault.errorRate * 100)));
  useEffect(() => setLatencyText(String(latency)), [latency]);
  useEffect(() => setRateText(String(Math.round(fault.errorRate * 100))), [fault.errorRate]);
  const id = `fault-${fault.service}`;
  return (
    <tr class={fault.down ? 'down' : ''}>
      <th scope="row">{fault.service}</th>
      <td>
        <label class="switch">
          <input
            type="checkbox"
            id={`${id}-down`}
            checked={fault.down}
            aria-label={`${fault.service} down`}
            onChange={(e) => props.onPatch({ down: e.currentTarget.checked })}
          />
          <span>{fault.down ? 'down' : 'up'}</span>
        </label>
      </td>
      <td>
        <input
          type="number"
          min={0}
          max={120000}
          step={50}
          class="num"
          aria-label={`${fault.service} added latency in milliseconds`}
          value={latencyText}
          onInput={(e) => setLatencyText(e.currentTarget.value)}
          onChange={(e) => {
            const ms = Math.max(0, Math.min(120_000, Math.round(Number(e.currentTarget.value) || 0)));
            props.onPatch({ latency: ms > 0 ? { fixedMs: ms } : null });
          }}
        />
      </td>
      <td>
        <input
          type="number"
          min={0}
          max={100}
          step={5}
          class="num"
          aria-label={`${fault.service} error rate in percent`}
          value={rateText}
          onInput={(e) => setRateText(e.currentTarget.value)}
          onChange={(e) => {
            const pct = Math.max(0, Math.min(100, Number(e.currentTarget.value) || 0));
            props.onPatch({ errorRate: pct / 100 });
          }}
        />
      </td>
    </tr>
  );
}
