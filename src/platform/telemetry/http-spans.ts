import {
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { contextOfSpan } from '@syncopate/messaging';
import type { FastifyRequest } from 'fastify';
import type { HttpServer } from '../http/server.js';

const tracer = () => trace.getTracer('syncopate.http');
const spans = new WeakMap<FastifyRequest, Span>();

/** The trace id of a request's server span; undefined when tracing is off. */
export function requestTraceId(request: FastifyRequest): string | undefined {
  const spanContext = spans.get(request)?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * The request's trace context (its server span), for what the handler does on its behalf: pass it
 * to outgoing calls and to `createEvent`, so they become the span's children.
 */
export function requestTrace(request: FastifyRequest): Context {
  const span = spans.get(request);
  return span ? contextOfSpan(span) : ROOT_CONTEXT;
}

/**
 * A server span per request (HTTP semantic conventions), child of the caller's `traceparent`.
 * It starts when the request arrives and ends when the response has gone.
 */
export function traceRequests(app: HttpServer): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0] ?? request.url,
          ...(route ? { 'http.route': route } : {}),
        },
      },
      propagation.extract(ROOT_CONTEXT, request.headers),
    );
    spans.set(request, span);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
