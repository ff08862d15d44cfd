import { type Attributes, type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';

/** One finished span as the API and the dashboard show it. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  service: string;
  /** Epoch milliseconds (fractional). */
  startMs: number;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage?: string;
  attributes: Attributes;
}

export interface RecentTracesOptions {
  /** Attributes whose value names a business object (a payment id): traces are found by it. */
  keys: readonly string[];
  /** Traces kept; the least recently touched go first. Default 2,000. */
  maxTraces?: number;
  /** Spans kept per trace; later ones are dropped. Default 500. */
  maxSpansPerTrace?: number;
}

const KINDS: Record<SpanKind, SpanRecord['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

const toMs = ([seconds, nanos]: HrTime) => seconds * 1_000 + nanos / 1_000_000;

/**
 * Keeps this process's recent finished spans in memory, bounded, and finds them by a business key
 * (any span of a trace carrying `payment.id` = X makes the whole trace X's). A span processor, so
 * it sees exactly what an OTLP exporter would.
 */
export class RecentTraces implements SpanProcessor {
  private readonly traces = new Map<string, SpanRecord[]>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly maxTraces: number;
  private readonly maxSpansPerTrace: number;
  private readonly listeners = new Set<(span: SpanRecord) => void>();

  constructor(private readonly options: RecentTracesOptions) {
    this.maxTraces = options.maxTraces ?? 2_000;
    this.maxSpansPerTrace = options.maxSpansPerTrace ?? 500;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const { traceId, spanId } = span.spanContext();
    const record: SpanRecord = {
      traceId,
      spanId,
      parentSpanId: span.parentSpanContext?.spanId ?? null,
      name: span.name,
      kind: KINDS[span.kind],
      service: String(span.resource.attributes['service.name'] ?? 'unknown'),
      startMs: toMs(span.startTime),
      durationMs: toMs(span.duration),
      status:
        span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
      attributes: span.attributes,
    };
    if (span.status.message) record.statusMessage = span.status.message;
    let spans = this.traces.get(traceId);
    if (spans) {
      this.traces.delete(traceId); // re-inserted below: Map order is our recency order
    } else {
      spans = [];
    }
    this.traces.set(traceId, spans);
    if (spans.length < this.maxSpansPerTrace) spans.push(record);
    for (const key of this.options.keys) {
      const value = span.attributes[key];
      if (typeof value !== 'string') continue;
      const traceIds = this.byKey.get(value) ?? new Set<string>();
      this.byKey.set(value, traceIds.add(traceId));
    }
    this.evict();
    for (const listener of this.listeners) listener(record);
  }

  /** Every kept span of every trace that carries `key`, in start order. */
  find(key: string): SpanRecord[] {
    const traceIds = this.byKey.get(key);
    if (!traceIds) return [];
    return [...traceIds].flatMap((id) => this.traces.get(id) ?? []).sort((a, b) => a.startMs - b.startMs);
  }

  trace(traceId: string): SpanRecord[] {
    return [...(this.traces.get(traceId) ?? [])].sort((a, b) => a.startMs - b.startMs);
  }

  /** Calls `listener` with each span as it finishes (the dashboard's live view); returns the unsubscribe. */
  subscribe(listener: (span: SpanRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  private evict(): void {
    while (this.traces.size > this.maxTraces) {
      const oldest = this.traces.keys().next().value as string;
      this.traces.delete(oldest);
    }
    // The key index is pruned lazily: a key whose traces are all gone is dropped when it grows too big.
    if (this.byKey.size > this.maxTraces * 4) {
      for (const [key, ids] of this.byKey) {
        for (const id of ids) if (!this.traces.has(id)) ids.delete(id);
        if (ids.size === 0) this.byKey.delete(key);
      }
    }
  }
}
