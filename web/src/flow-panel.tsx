import { useMemo } from 'preact/hooks';
import { formatMs, type PaymentRun, type SpanRecord } from './api.js';
import { effectsOf, SequenceDiagram, stepsOf } from './flow.js';

export function FlowPanel(props: {
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
