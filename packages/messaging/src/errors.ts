import type { z } from 'zod';

/** Every error the toolkit raises carries a stable `code` that callers can switch on. */
export class MessagingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidEventError extends MessagingError {
  constructor(eventType: string, problem: z.ZodError | string) {
    const detail = typeof problem === 'string' ? problem : formatZodError(problem);
    super('invalid_event', `${eventType}: ${detail}`);
  }
}

/**
 * Thrown by a handler (or the runtime) when retrying cannot help: the message goes straight to the
 * dead-letter queue with this error as the reason.
 */
export class PermanentError extends MessagingError {
  constructor(message: string, options?: ErrorOptions) {
    super('permanent_failure', message, options);
  }
}

export class HandlerTimeoutError extends MessagingError {
  constructor(timeoutMs: number) {
    super('handler_timeout', `handler did not finish within ${timeoutMs} ms`);
  }
}

export class TransportClosedError extends MessagingError {
  constructor(transport: string) {
    super('transport_closed', `the ${transport} transport is closed`);
  }
}

export class InvalidTransportUrlError extends MessagingError {
  constructor(url: string, reason: string) {
    super('invalid_transport_url', `TRANSPORT_URL "${url}": ${reason}`);
  }
}

export class UnroutableEventError extends MessagingError {
  constructor(eventType: string) {
    super('unroutable_event', `no group is declared for "${eventType}": declare its consumer groups before publishing`);
  }
}

export class InvalidOptionsError extends MessagingError {
  constructor(what: string, problem: z.ZodError) {
    super('invalid_options', `${what}: ${formatZodError(problem)}`);
  }
}

export class DeadLetterNotFoundError extends MessagingError {
  constructor(group: string, id: string) {
    super('dead_letter_not_found', `no dead letter ${id} in group "${group}"`);
  }
}

export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
