import { type Context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('syncopate.http');

/**
 * Runs one outgoing HTTP call as a client span (HTTP semantic conventions), child of `parent`, and
 * puts the span's W3C context in `headers` so the callee's server span joins the trace. `send`
 * makes the call with those headers and reads the answer; the span ends when it returns. With no
 * trace in `parent` it only calls `send`.
 */
export async function tracedCall<T extends { statusCode: number }>(
  parent: Context,
  method: string,
  url: URL,
  headers: Record<string, string>,
  send: () => Promise<T>,
): Promise<T> {
  if (!trace.getSpan(parent)) return send();
  const span = tracer.startSpan(
    method,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'url.full': url.href,
        'server.address': url.hostname,
        'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      },
    },
    parent,
  );
  propagation.inject(trace.setSpan(parent, span), headers);
  try {
    const answer = await send();
    span.setAttribute('http.response.status_code', answer.statusCode);
    if (answer.statusCode >= 400) {
      span.setAttribute('error.type', String(answer.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    return answer;
  } catch (error) {
    span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}
