import { useState } from 'preact/hooks';
import { type Api, formatMs, type Mode, type PaymentRun, TEST_CARDS } from './api.js';

export function PayPanel(props: { api: Api; syncAvailable: boolean; onPaid(run: PaymentRun): void }) {
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
