import type { SpanRecord } from './api.js';
import { formatMs } from './api.js';

/** One arrow (or note) of the sequence diagram. */
export interface Step {
  id: string;
  at: number;
  from: string;
  to: string;
  label: string;
  kind: 'request' | 'response' | 'note' | 'publish' | 'attempt';
  tone: 'neutral' | 'ok' | 'warn' | 'error';
  group?: string;
  outcome?: string;
}

export type EffectState = 'done' | 'retrying' | 'dead-lettered' | 'working';

export interface Effect {
  group: string;
  state: EffectState;
  attempts: number;
  lastError?: string;
  /** When its last attempt ended, ms after the request began. */
  atMs: number;
}

const GROUP_ORDER = ['email', 'analytics', 'reports-ledger', 'reports', 'webhooks', 'live'];
const SERVICES = ['email', 'analytics', 'notifications', 'reports'];

const attr = (span: SpanRecord, name: string) => span.attributes[name];

/** Turns a payment's spans into the steps of its sequence diagram, in time order. */
export function stepsOf(spans: readonly SpanRecord[]): Step[] {
  const steps: Step[] = [];
  // Events a relay published (a `send` span); the others were written on the queue by their commit.
  const sent = new Set(
    spans
      .filter((span) => span.kind === 'producer' && attr(span, 'messaging.operation.type') === 'send')
      .map((span) => String(attr(span, 'messaging.message.id'))),
  );
  for (const span of spans) {
    const end = span.startMs + span.durationMs;
    const route = String(attr(span, 'http.route') ?? '');
    const status = Number(attr(span, 'http.response.status_code') ?? 0);
    const tone = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'ok';
    if (span.kind === 'server') {
      let lane: string | undefined;
      let callerLane = 'payments';
      if (route === '/v1/payments' && attr(span, 'http.request.method') === 'POST') {
        lane = 'payments';
        callerLane = 'client';
      } else if (route.startsWith('/v1/charges')) {
        lane = 'gateway';
      } else {
        lane = SERVICES.find((service) => route.includes(service));
      }
      if (!lane) continue;
      const request = callerLane === 'client' ? 'POST /v1/payments' : `${span.name}`;
      steps.push({
        id: `${span.spanId}:req`,
        at: span.startMs,
        from: callerLane,
        to: lane,
        label: lane === 'gateway' ? 'authorize the charge' : request,
        kind: 'request',
        tone: 'neutral',
      });
      steps.push({
        id: `${span.spanId}:res`,
        at: end,
        from: lane,
        to: callerLane,
        label:
          `${status || '?'} ${callerLane === 'client' ? answerOf(status) : ''} (${formatMs(span.durationMs)})`.trim(),
        kind: 'response',
        tone,
        outcome: callerLane === 'client' ? answerOf(status) : undefined,
      });
      continue;
    }
    const operation = attr(span, 'messaging.operation.type');
    const type = String(attr(span, 'cloudevents.event_type') ?? '');
    if (span.kind === 'producer' && operation === 'create') {
      steps.push({
        id: span.spanId,
        at: span.startMs,
        from: 'payments',
        to: 'payments',
        label: `commit: payment + ${type}`,
        kind: 'note',
        tone: 'neutral',
      });
      if (!sent.has(String(attr(span, 'messaging.message.id')))) {
        steps.push({
          id: `${span.spanId}:queued`,
          at: end,
          from: 'payments',
          to: 'queue',
          label: `${type} queued by the same commit`,
          kind: 'publish',
          tone: 'neutral',
        });
      }
    } else if (span.kind === 'producer' && operation === 'send') {
      steps.push({
        id: span.spanId,
        at: span.startMs,
        from: 'payments',
        to: 'queue',
        label: `publish ${type}`,
        kind: 'publish',
        tone: span.status === 'error' ? 'error' : 'neutral',
      });
    } else if (span.kind === 'consumer' && operation === 'process') {
      const group = String(attr(span, 'messaging.consumer.group.name') ?? '?');
      const attempt = Number(attr(span, 'syncopate.attempt') ?? 1);
      const outcome = String(attr(span, 'syncopate.outcome') ?? (span.status === 'error' ? 'retry' : 'ack'));
      const error = span.statusMessage ? `: ${span.statusMessage}` : '';
      const label =
        outcome === 'ack'
          ? `attempt ${attempt}: done`
          : outcome === 'dead-letter'
            ? `attempt ${attempt}: dead-lettered${error}`
            : outcome === 'retry'
              ? `attempt ${attempt}: failed, will retry${error}`
              : `attempt ${attempt}: ${outcome}${error}`;
      steps.push({
        id: span.spanId,
        at: end,
        from: 'queue',
        to: group,
        label,
        kind: 'attempt',
        tone: outcome === 'ack' ? 'ok' : outcome === 'dead-letter' ? 'error' : 'warn',
        group,
        outcome,
      });
    }
  }
  return steps.sort((a, b) => a.at - b.at);
}

function answerOf(status: number): string {
  if (status === 201) return 'succeeded';
  if (status === 402) return 'declined';
  if (status === 202) return 'processing';
  if (status === 0) return '';
  return 'error';
}

export function effectsOf(steps: readonly Step[]): Effect[] {
  const start = steps[0]?.at ?? 0;
  const effects = new Map<string, Effect>();
  for (const step of steps) {
    if (step.kind !== 'attempt' || !step.group) continue;
    const effect = effects.get(step.group) ?? { group: step.group, state: 'working', attempts: 0, atMs: 0 };
    effect.attempts += 1;
    effect.atMs = step.at - start;
    effect.state =
      step.outcome === 'ack'
        ? 'done'
        : step.outcome === 'dead-letter'
          ? 'dead-lettered'
          : step.outcome === 'retry'
            ? 'retrying'
            : 'working';
    const error = /: (.*)$/.exec(step.label)?.[1];
    if (step.outcome !== 'ack' && error) effect.lastError = error;
    effects.set(step.group, effect);
  }
  return [...effects.values()].sort((a, b) => rank(a.group) - rank(b.group) || a.group.localeCompare(b.group));
}

const rank = (group: string) => {
  const index = GROUP_ORDER.indexOf(group);
  return index === -1 ? GROUP_ORDER.length : index;
};

function lanesOf(steps: readonly Step[]): string[] {
  const lanes = ['client', 'payments', 'gateway'];
  // Sync mode: the side-effect services called over HTTP from the request.
  lanes.push(...SERVICES.filter((s) => steps.some((step) => step.kind === 'request' && step.to === s)));
  if (steps.some((step) => step.to === 'queue' || step.from === 'queue')) lanes.push('queue');
  const groups = [...new Set(steps.flatMap((step) => (step.group ? [step.group] : [])))];
  lanes.push(...groups.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)));
  return [...new Set(lanes)];
}

const LANE_W = 92;
const ROW_H = 30;
const TOP = 36;
const LEFT = 66;

/** The sequence diagram: a lane per participant, an arrow per request, answer, publish and attempt. */
export function SequenceDiagram(props: { steps: Step[]; title: string }) {
  const { steps } = props;
  const lanes = lanesOf(steps);
  const x = (lane: string) => LEFT + LANE_W / 2 + Math.max(0, lanes.indexOf(lane)) * LANE_W;
  const width = LEFT + lanes.length * LANE_W + 8;
  const height = TOP + steps.length * ROW_H + 16;
  const start = steps[0]?.at ?? 0;
  return (
    <svg
      class="sequence"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.title}
      data-testid="sequence"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="currentColor" />
        </marker>
      </defs>
      {lanes.map((lane) => (
        <g key={lane} class="lane">
          <rect x={x(lane) - 44} y={4} width={88} height={22} rx={5} class={`lane-head lane-${lane}`} />
          <text x={x(lane)} y={19} text-anchor="middle" class="lane-name">
            {lane}
          </text>
          <line x1={x(lane)} x2={x(lane)} y1={26} y2={height - 6} class="lifeline" />
        </g>
      ))}
      {steps.map((step, i) => {
        const y = TOP + i * ROW_H + 18;
        const x1 = x(step.from);
        const x2 = x(step.to);
        const offset = `+${formatMs(step.at - start)}`;
        const common = {
          'data-kind': step.kind,
          'data-group': step.group,
          'data-outcome': step.outcome,
          class: `step step-${step.kind} tone-${step.tone}`,
        };
        if (step.kind === 'note' || x1 === x2) {
          return (
            <g key={step.id} {...common}>
              <text x={4} y={y} class="offset">
                {offset}
              </text>
              <rect x={x1 - 8} y={y - 12} width={16} height={16} rx={3} class="note-box" />
              <text x={x1 + 14} y={y} class="label">
                {step.label}
              </text>
            </g>
          );
        }
        const left = Math.min(x1, x2);
        return (
          <g key={step.id} {...common}>
            <title>{`${offset}: ${step.from} → ${step.to}: ${step.label}`}</title>
            <text x={4} y={y} class="offset">
              {offset}
            </text>
            <line
              x1={x1}
              x2={x2}
              y1={y + 4}
              y2={y + 4}
              marker-end="url(#arrow)"
              class={step.kind === 'response' ? 'arrow dashed' : 'arrow'}
            />
            <text x={left + 6} y={y} class="label">
              {truncate(step.label, Math.max(44, Math.floor((Math.abs(x2 - x1) + LANE_W) / 6.2)))}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
