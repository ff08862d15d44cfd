import { useCallback, useState } from 'preact/hooks';
import { AnalyticsPanel } from './analytics-panel.js';
import { Api, forgetKeys, type Keys, loadKeys, type PaymentRun, type SpanRecord, saveKeys } from './api.js';
import { FaultsPanel } from './faults-panel.js';
import { FlowPanel } from './flow-panel.js';
import { KeyForm } from './keys-form.js';
import { LabResults } from './lab.js';
import { useLiveState } from './live-state.js';
import { PayPanel } from './pay-panel.js';
import { QueuesPanel } from './queues-panel.js';

export function App() {
  const [keys, setKeys] = useState<Keys | undefined>(() => loadKeys());
  if (!keys) {
    return (
      <KeyForm
        onKeys={(k) => {
          saveKeys(k);
          setKeys(k);
        }}
      />
    );
  }
  return (
    <Dashboard
      api={new Api(keys)}
      onSignOut={() => {
        forgetKeys();
        setKeys(undefined);
      }}
    />
  );
}

/** The page once the keys are set: the panels side by side, sharing the live state and the payments made here. */
function Dashboard(props: { api: Api; onSignOut(): void }) {
  const { api } = props;
  const { config, connection, queues, faults, setFaults, authError, addSpans, spansOf } = useLiveState(api);
  const [runs, setRuns] = useState<PaymentRun[]>([]);
  const [selected, setSelected] = useState<string | undefined>();

  const onPaid = useCallback(
    (run: PaymentRun) => {
      setRuns((list) => [run, ...list].slice(0, 50));
      setSelected(run.id);
      if (!run.id.startsWith('pay_')) return;
      const path =
        run.mode === 'sync' ? `/v1/dashboard/sync/traces/${run.id}` : `/v1/traces/${encodeURIComponent(run.id)}`;
      // The stream brings the spans as they end; the trace fills in whatever ended before the page heard.
      const fetchTrace = () =>
        api.call<{ spans: SpanRecord[] }>('GET', path).then((answer) => {
          if (answer.status === 200) addSpans(run.id, answer.body.spans);
        });
      void fetchTrace();
      // And again a little later: a span the stream missed (a reconnect, a slow tab) is not lost for good.
      for (const delayMs of [1_000, 3_000, 8_000]) setTimeout(() => void fetchTrace(), delayMs);
    },
    [api, addSpans],
  );

  const current = runs.find((r) => r.id === selected);
  const currentSpans = selected ? spansOf(selected) : [];

  return (
    <>
      <a class="skip" href="#flow">
        Skip to the payment flow
      </a>
      <header class="top">
        <h1>Syncopate</h1>
        <nav aria-label="Sections">
          <a href="#pay">Pay</a>
          <a href="#flow">Flow</a>
          <a href="#queues">Queues</a>
          <a href="#faults">Faults</a>
          <a href="#analytics">Analytics</a>
          <a href="#lab">Lab</a>
        </nav>
        <span class={`conn conn-${connection}`} role="status" data-testid="connection">
          {connection === 'live' ? 'live' : connection === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
        <button type="button" class="link" onClick={props.onSignOut}>
          Change keys
        </button>
      </header>
      {authError && (
        <p class="banner-error" role="alert">
          {authError}{' '}
          <button type="button" onClick={props.onSignOut}>
            Enter the keys again
          </button>
        </p>
      )}
      <main class="grid">
        <div class="col-left">
          <PayPanel api={api} syncAvailable={config.sync_system} onPaid={onPaid} />
          <FaultsPanel api={api} faults={faults} onChange={setFaults} />
        </div>
        <div class="col-right">
          <FlowPanel runs={runs} selected={selected} onSelect={setSelected} run={current} spans={currentSpans} />
        </div>
        <QueuesPanel api={api} queues={queues} />
        <AnalyticsPanel api={api} payments={runs.length} />
        <LabResults available={config.lab_report} />
      </main>
    </>
  );
}
