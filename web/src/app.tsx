import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  Api,
  type DeadLetter,
  type FaultRow,
  forgetKeys,
  formatMs,
  type Json,
  type Keys,
  loadKeys,
  type Mode,
  type PaymentRun,
  type QueueRow,
  type SpanRecord,
  saveKeys,
  TEST_CARDS,
} from './api.js';
import { effectsOf, SequenceDiagram, stepsOf } from './flow.js';
import { LabResults } from './lab.js';

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

function KeyForm(props: { onKeys(keys: Keys): void }) {
  const [apiKey, setApiKey] = useState('');
  const [adminKey, setAdminKey] = useState('');
  return (
    <main class="keys">
      <h1>Syncopate dashboard</h1>
      <p>
        Enter the API key and the admin key <code>npm start</code> printed (its dashboard link carries them in the URL
        fragment, which is never sent to the server). They stay in this tab only.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (apiKey.trim() && adminKey.trim()) props.onKeys({ apiKey: apiKey.trim(), adminKey: adminKey.trim() });
        }}
      >
        <label>
          API key
          <input
            name="api_key"
            autocomplete="off"
            required
            value={apiKey}
            onInput={(e) => setApiKey(e.currentTarget.value)}
          />
        </label>
        <label>
          Admin key
          <input
            name="admin_key"
            autocomplete="off"
            required
            value={adminKey}
            onInput={(e) => setAdminKey(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Open the dashboard</button>
      </form>
    </main>
  );
}

type Connection = 'connecting' | 'live' | 'reconnecting';

function Dashboard(props: { api: Api; onSignOut(): void }) {
  const { api } = props;
  const [config, setConfig] = useState<{ sync_system: boolean; lab_report: boolean }>({
    sync_system: false,
    lab_report: false,
  });
  const [connection, setConnection] = useState<Connection>('connecting');
  const [queues, setQueues] = useState<QueueRow[]>([]);
  const [faults, setFaults] = useState<FaultRow[]>([]);
  const [runs, setRuns] = useState<PaymentRun[]>([]);
  const [selected, setSelected] = useState<string | undefined>();
  const [, setVersion] = useState(0);
  const spans = useRef(new Map<string, Map<string, SpanRecord>>());
  const [authError, setAuthError] = useState<string | undefined>();

  const addSpans = useCallback((paymentId: string, records: readonly SpanRecord[]) => {
    const known = spans.current.get(paymentId) ?? new Map<string, SpanRecord>();
    for (const record of records) known.set(record.spanId, record);
    spans.current.set(paymentId, known);
    setVersion((v) => v + 1);
  }, []);

  useEffect(() => {
    void fetch('/v1/dashboard/config')
      .then((r) => r.json())
      .then(setConfig)
      .catch(() => undefined);
    void api.admin('GET', '/v1/admin/queues').then((answer) => {
      if (answer.status === 401) setAuthError('The admin key was refused.');
      else if (answer.status === 200) setQueues(answer.body.data);
    });
    void api.call('GET', '/v1/payments?limit=1').then((answer) => {
      if (answer.status === 401) setAuthError('The API key was refused.');
    });
  }, [api]);

  useEffect(() => {
    const source = new EventSource(api.streamUrl());
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection('reconnecting');
    source.addEventListener('span', (event) => {
      const { payment_id, span } = JSON.parse((event as MessageEvent<string>).data) as {
        payment_id: string | null;
        span: SpanRecord;
      };
      if (payment_id) addSpans(payment_id, [span]);
    });
    source.addEventListener('queues', (event) => setQueues(JSON.parse((event as MessageEvent<string>).data)));
    source.addEventListener('faults', (event) => setFaults(JSON.parse((event as MessageEvent<string>).data)));
    return () => source.close();
  }, [api, addSpans]);

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
      if (run.mode === 'sync') setTimeout(() => void fetchTrace(), 1_000);
    },
    [api, addSpans],
  );

  const current = runs.find((r) => r.id === selected);
  const currentSpans = selected ? [...(spans.current.get(selected)?.values() ?? [])] : [];

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

function PayPanel(props: { api: Api; syncAvailable: boolean; onPaid(run: PaymentRun): void }) {
  const [card, setCard] = useState<string>(TEST_CARDS[0].number);
  const [amount, setAmount] = useState('19.99');
  const [currency, setCurrency] = useState('usd');
  const [email, setEmail] = useState('you@example.com');
  const [mode, setMode] = useState<Mode>('async');
  const [busy, setBusy] = useState(false);
  const [last, setLast] = useState<PaymentRun | undefined>();

  const pay = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const minor = currency === 'jpy' ? Math.round(Number(amount)) : Math.round(Number(amount) * 100);
    const body = {
      amount: minor,
      currency,
      card: { number: card, exp_month: 12, exp_year: new Date().getFullYear() + 3, cvc: '123' },
      customer: { email },
      description: 'Dashboard payment',
    };
    const path = mode === 'sync' ? '/v1/dashboard/sync/payments' : '/v1/payments';
    try {
      const answer = await props.api.call('POST', path, { body, idempotent: true });
      const payment = answer.body?.payment ?? answer.body;
      const run: PaymentRun = {
        id: typeof payment?.id === 'string' ? payment.id : `request_${Date.now()}`,
        mode,
        status: answer.status,
        paymentStatus: answer.status === 402 ? 'declined' : (payment?.status ?? answer.body?.error?.code ?? 'error'),
        ms: answer.ms,
        card,
        amount: minor,
        currency,
        at: Date.now(),
        error: answer.body?.error ? `${answer.body.error.code}: ${answer.body.error.message}` : undefined,
      };
      setLast(run);
      props.onPaid(run);
    } catch (error) {
      setLast({
        id: `request_${Date.now()}`,
        mode,
        status: 0,
        paymentStatus: 'network error',
        ms: 0,
        card,
        amount: minor,
        currency,
        at: Date.now(),
        error: String(error),
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section id="pay" class="panel" aria-labelledby="pay-title">
      <h2 id="pay-title">Pay</h2>
      <form onSubmit={pay} class="pay-form">
        <label>
          Test card
          <select name="card" value={card} onChange={(e) => setCard(e.currentTarget.value)}>
            {TEST_CARDS.map((c) => (
              <option key={c.number} value={c.number}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <div class="row">
          <label>
            Amount
            <input
              name="amount"
              inputMode="decimal"
              required
              pattern="[0-9]+([.][0-9]{1,2})?"
              value={amount}
              onInput={(e) => setAmount(e.currentTarget.value)}
            />
          </label>
          <label>
            Currency
            <select name="currency" value={currency} onChange={(e) => setCurrency(e.currentTarget.value)}>
              <option value="usd">USD</option>
              <option value="eur">EUR</option>
              <option value="gbp">GBP</option>
              <option value="jpy">JPY</option>
            </select>
          </label>
        </div>
        <label>
          Receipt to
          <input name="email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        {props.syncAvailable && (
          <fieldset class="mode">
            <legend>Side effects</legend>
            <label>
              <input type="radio" name="mode" checked={mode === 'async'} onChange={() => setMode('async')} /> async
              (this system: events)
            </label>
            <label>
              <input type="radio" name="mode" checked={mode === 'sync'} onChange={() => setMode('sync')} /> sync (the
              sync system: calls before answering)
            </label>
          </fieldset>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Paying…' : 'Pay'}
        </button>
      </form>
      <div aria-live="polite" data-testid="pay-result" class="pay-result">
        {last && (
          <p class={`result result-${last.status >= 200 && last.status < 300 ? 'ok' : 'bad'}`}>
            <strong data-testid="payment-status">{last.paymentStatus}</strong> · HTTP {last.status || '–'} · answered in{' '}
            {formatMs(last.ms)} ({last.mode}){last.error && <span class="error-text"> · {last.error}</span>}
          </p>
        )}
      </div>
    </section>
  );
}

function FlowPanel(props: {
  runs: PaymentRun[];
  selected: string | undefined;
  onSelect(id: string): void;
  run: PaymentRun | undefined;
  spans: SpanRecord[];
}) {
  const steps = useMemo(() => stepsOf(props.spans), [props.spans]);
  const effects = useMemo(() => effectsOf(steps), [steps]);
  const response = steps.find((s) => s.kind === 'response' && s.from === 'payments' && s.to === 'client');
  const start = steps[0]?.at ?? 0;
  return (
    <section id="flow" class="panel" aria-labelledby="flow-title" tabIndex={-1}>
      <h2 id="flow-title">Payment flow</h2>
      {props.runs.length === 0 ? (
        <p class="muted">Pay, and its flow appears here as it happens: the answer first, the side effects after.</p>
      ) : (
        <>
          <fieldset class="runs">
            <legend class="sr-only">Payments made here</legend>
            {props.runs.slice(0, 8).map((run) => (
              <button
                type="button"
                key={run.id}
                aria-pressed={run.id === props.selected}
                onClick={() => props.onSelect(run.id)}
                class="run"
              >
                {run.mode === 'sync' ? 'sync · ' : ''}
                {run.paymentStatus} · {formatMs(run.ms)}
              </button>
            ))}
          </fieldset>
          {props.run && (
            <p class="flow-summary" data-testid="flow-summary">
              <code>{props.run.id}</code>
              {response && ` · answered after ${formatMs(response.at - start)}`}
            </p>
          )}
          <ul class="effects" aria-live="polite" aria-label="Side effects of this payment">
            {effects.map((effect) => (
              <li key={effect.group} class={`effect effect-${effect.state}`} data-testid={`effect-${effect.group}`}>
                <strong>{effect.group}</strong>: {effect.state}
                {effect.state === 'done' && ` at +${formatMs(effect.atMs)}`} · {effect.attempts}{' '}
                {effect.attempts === 1 ? 'attempt' : 'attempts'}
                {effect.lastError && effect.state !== 'done' && <span class="error-text"> · {effect.lastError}</span>}
              </li>
            ))}
          </ul>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
          <section class="diagram" tabIndex={0} aria-label="Sequence diagram (scrolls)">
            {steps.length > 0 ? (
              <SequenceDiagram steps={steps} title={`Sequence of payment ${props.run?.id ?? ''}`} />
            ) : (
              <p class="muted">Waiting for the trace…</p>
            )}
          </section>
        </>
      )}
    </section>
  );
}

function FaultsPanel(props: { api: Api; faults: FaultRow[]; onChange(rows: FaultRow[]): void }) {
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
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <section class="table-scroll" tabIndex={0} aria-label="Fault knobs (scrolls)">
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
      </section>
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

function QueuesPanel(props: { api: Api; queues: QueueRow[] }) {
  const [group, setGroup] = useState<string | undefined>();
  const count = props.queues.find((q) => q.group === group)?.dead_lettered;
  return (
    <section id="queues" class="panel wide" aria-labelledby="queues-title">
      <h2 id="queues-title">Queues</h2>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <section class="table-scroll" tabIndex={0} aria-label="Queue figures (scrolls)">
        <table class="queues" data-testid="queues">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Waiting</th>
              <th scope="col">Delayed</th>
              <th scope="col">In flight</th>
              <th scope="col">Lag</th>
              <th scope="col">Handled</th>
              <th scope="col">Retries</th>
              <th scope="col">Dead-lettered</th>
              <th scope="col">
                <span class="sr-only">Dead-letter queue</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.queues.map((q) => (
              <tr key={q.group} data-group={q.group}>
                <th scope="row">{q.group}</th>
                <td>{q.waiting}</td>
                <td>{q.delayed ?? '–'}</td>
                <td>{q.in_flight}</td>
                <td>{formatMs(q.oldest_waiting_age_ms)}</td>
                <td>{q.this_process.handled}</td>
                <td class={q.this_process.retries > 0 ? 'warn' : ''}>{q.this_process.retries}</td>
                <td class={q.dead_lettered > 0 ? 'bad' : ''} data-testid={`dead-${q.group}`}>
                  {q.dead_lettered}
                </td>
                <td>
                  <button
                    type="button"
                    class="small"
                    aria-expanded={group === q.group}
                    aria-controls="dead-letters"
                    onClick={() => setGroup(group === q.group ? undefined : q.group)}
                  >
                    Dead letters<span class="sr-only"> of {q.group}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <p class="muted small-print">
        Waiting, delayed, in flight, dead-lettered and lag are the queue's; handled and retries count this process's
        consumers since it started.
      </p>
      {group && <DeadLetters api={props.api} group={group} count={count ?? 0} />}
    </section>
  );
}

function DeadLetters(props: { api: Api; group: string; count: number }) {
  const { api, group, count } = props;
  const [letters, setLetters] = useState<DeadLetter[]>([]);
  const [inspected, setInspected] = useState<DeadLetter | undefined>();
  const [message, setMessage] = useState('');
  const load = useCallback(async () => {
    const answer = await api.admin<{ data: DeadLetter[] }>('GET', `/v1/admin/dead_letters/${group}?limit=50`);
    if (answer.status === 200) setLetters(answer.body.data);
  }, [api, group]);
  // The count comes with every queues event: the list is read again when it changes.
  useEffect(() => {
    void load();
  }, [load, count]);
  const act = async (method: string, path: string, done: (body: Json) => string) => {
    const answer = await api.admin(method, path);
    setMessage(answer.status === 200 ? done(answer.body) : (answer.body?.error?.message ?? `HTTP ${answer.status}`));
    setInspected(undefined);
    await load();
  };
  const base = `/v1/admin/dead_letters/${group}`;
  return (
    <div id="dead-letters" class="dlq" data-testid="dead-letters">
      <h3>
        Dead letters of <code>{group}</code> ({count})
      </h3>
      <div class="actions">
        <button
          type="button"
          disabled={count === 0}
          onClick={() => void act('POST', `${base}/replay_all`, (b) => `Replayed ${b.replayed}.`)}
        >
          Replay all
        </button>
        <button
          type="button"
          class="danger"
          disabled={count === 0}
          onClick={() => {
            if (confirm(`Discard every dead letter of ${group}? They will not be delivered.`)) {
              void act('DELETE', base, (b) => `Purged ${b.purged}.`);
            }
          }}
        >
          Purge all
        </button>
        <span aria-live="polite" class="muted" data-testid="dlq-message">
          {message}
        </span>
      </div>
      {letters.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="letters">
          {letters.map((letter) => (
            <li key={letter.event_id} data-event-id={letter.event_id}>
              <div>
                <code>{letter.type}</code> · payment <code>{letter.event?.subject ?? '?'}</code> · {letter.attempts}{' '}
                attempts · {new Date(letter.dead_lettered_at).toLocaleTimeString()}
              </div>
              <div class="error-text">Last error: {letter.reason}</div>
              <div class="actions">
                <button type="button" class="small" onClick={() => setInspected(letter)}>
                  Inspect<span class="sr-only"> {letter.event_id}</span>
                </button>
                <button
                  type="button"
                  class="small"
                  onClick={() =>
                    void act('POST', `${base}/${letter.event_id}/replay`, () => `Replayed ${letter.event_id}.`)
                  }
                >
                  Replay<span class="sr-only"> {letter.event_id}</span>
                </button>
                <button
                  type="button"
                  class="small danger"
                  onClick={() => {
                    if (confirm(`Discard ${letter.event_id}?`)) {
                      void act('DELETE', `${base}/${letter.event_id}`, () => `Purged ${letter.event_id}.`);
                    }
                  }}
                >
                  Purge<span class="sr-only"> {letter.event_id}</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {inspected && (
        <div class="inspect">
          <h4>
            Event <code>{inspected.event_id}</code>
          </h4>
          <pre>{JSON.stringify(inspected.event ?? inspected.body, null, 2)}</pre>
          <button type="button" class="small" onClick={() => setInspected(undefined)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}

interface Report {
  id: string;
  status: 'pending' | 'ready' | 'failed';
  from: string;
  to: string;
  download_url: string | null;
  failure_reason: string | null;
  httpStatus: number;
}

function AnalyticsPanel(props: { api: Api; payments: number }) {
  const { api } = props;
  const [totals, setTotals] = useState<Json[]>([]);
  const [reports, setReports] = useState<Report[]>([]);
  const refresh = useCallback(async () => {
    const answer = await api.call('GET', '/v1/analytics/summary');
    if (answer.status === 200) setTotals(answer.body.totals);
  }, [api]);
  // Analytics counts asynchronously: read again shortly after each payment made here.
  useEffect(() => {
    void refresh();
    const timer = setTimeout(() => void refresh(), 1_000);
    return () => clearTimeout(timer);
  }, [refresh, props.payments]);

  const poll = useCallback(
    async (id: string) => {
      for (let i = 0; i < 120; i++) {
        const answer = await api.call('GET', `/v1/reports/${id}`);
        if (answer.status === 200) {
          setReports((list) => list.map((r) => (r.id === id ? { ...r, ...answer.body } : r)));
          if (answer.body.status !== 'pending') return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    [api],
  );
  const request = async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 86_400_000);
    const answer = await api.call('POST', '/v1/reports', {
      body: { from: from.toISOString(), to: to.toISOString() },
      idempotent: true,
    });
    if (answer.status !== 202) return;
    setReports((list) => [{ ...answer.body, httpStatus: answer.status }, ...list].slice(0, 10));
    void poll(answer.body.id);
  };
  const download = async (report: Report) => {
    const response = await fetch(report.download_url ?? '', {
      headers: { authorization: `Bearer ${api.keys.apiKey}` },
    });
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `${report.id}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <section id="analytics" class="panel wide" aria-labelledby="analytics-title">
      <h2 id="analytics-title">Analytics and reports</h2>
      <div class="two">
        <div>
          <h3>Summary</h3>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
          <section class="table-scroll" tabIndex={0} aria-label="Analytics summary (scrolls)">
            <table>
              <thead>
                <tr>
                  <th scope="col">Currency</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Gross</th>
                  <th scope="col">Success rate</th>
                </tr>
              </thead>
              <tbody>
                {totals.length === 0 && (
                  <tr>
                    <td colSpan={5} class="muted">
                      No payments counted yet.
                    </td>
                  </tr>
                )}
                {totals.map((t) => (
                  <tr key={t.currency}>
                    <th scope="row">{String(t.currency).toUpperCase()}</th>
                    <td>{t.succeeded_count}</td>
                    <td>{t.failed_count}</td>
                    <td>{t.gross_amount}</td>
                    <td>{t.success_rate === null ? '–' : `${Math.round(t.success_rate * 100)}%`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <button type="button" class="small" onClick={() => void refresh()}>
            Refresh
          </button>
        </div>
        <div>
          <h3>Reports</h3>
          <button type="button" onClick={() => void request()}>
            Request a report of the last 24 hours
          </button>
          <ul class="reports" aria-live="polite">
            {reports.map((r) => (
              <li key={r.id}>
                <code>{r.id}</code>: {r.httpStatus} accepted → <strong>{r.status}</strong>
                {r.status === 'ready' && (
                  <>
                    {' '}
                    <button type="button" class="small" onClick={() => void download(r)}>
                      Download CSV<span class="sr-only"> of {r.id}</span>
                    </button>
                  </>
                )}
                {r.failure_reason && <span class="error-text"> {r.failure_reason}</span>}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}
