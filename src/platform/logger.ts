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
    },
    options.destination,
  );
}
