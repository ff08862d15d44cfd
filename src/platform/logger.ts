import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

/** Fields that must never reach a log line, whatever a caller passes in. */
const REDACTED = [
  'req.headers.authorization',
  'headers.authorization',
  '*.card.number',
  '*.card.cvc',
  'card.number',
  'card.cvc',
  '*.apiKey',
  '*.secret',
];

/** Structured JSON logs, one object per line, with the service's name on every line. */
export function createLogger(options: {
  level: string;
  service?: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: options.service ? { service: options.service } : {},
      redact: { paths: REDACTED, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A line written inside a span (a request, a handling attempt) carries its trace.
      mixin() {
        const spanContext = trace.getActiveSpan()?.spanContext();
        return spanContext && trace.isSpanContextValid(spanContext)
          ? { traceId: spanContext.traceId, spanId: spanContext.spanId }
          : {};
      },
    },
    options.destination,
  );
}
