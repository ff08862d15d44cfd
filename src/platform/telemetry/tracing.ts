import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { RecentTraces } from './recent-traces.js';

/** Span attributes by which a trace is found again: the payment it is about. */
export const TRACE_KEYS = ['payment.id', 'cloudevents.event_subject'] as const;

export interface Tracing {
  /** This process's recent spans, for `GET /v1/traces/:paymentId` and the dashboard. */
  readonly recent: RecentTraces;
  /** Whether spans also leave for an OTLP endpoint. */
  readonly exporting: boolean;
  /** Hands finished spans to the exporter (at shutdown). */
  flush(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Registers the OpenTelemetry SDK for this process, once: W3C trace context, the in-memory recent
 * traces, and OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set. Later
 * calls return the same one: tracing is per process, whatever number of systems a test starts in it.
 */
export function installTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (installed) return installed;
  const recent = new RecentTraces({ keys: TRACE_KEYS });
  // The standard switch: no SDK at all, the API's no-op spans (no traces for the API or the dashboard).
  if (env.OTEL_SDK_DISABLED === 'true') {
    installed = { recent, exporting: false, flush: async () => {} };
    return installed;
  }
  const processors: SpanProcessor[] = [recent];
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (exporting) processors.push(new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: processors,
  });
  // No context manager: trace context is passed explicitly (a request's, a message's), never found
  // as an "active" context. On Node 20 the AsyncLocalStorage behind one puts a hook on every promise
  // of the process: going without saved about a tenth of a payment's CPU (BENCHMARKS.md).
  provider.register({ contextManager: null });
  installed = { recent, exporting, flush: () => provider.forceFlush() };
  return installed;
}
