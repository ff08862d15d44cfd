import type { Context } from '@opentelemetry/api';
import { formatZodError } from '@syncopate/messaging';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { tracedCall } from '../../platform/telemetry/client-spans.js';

/**
 * The gateway's answers, as far as payments needs them: parsed, never cast. What payments stores
 * and tells its clients (a status, a brand, a decline message) must have the shape and size it
 * expects even when the gateway is wrong.
 */
const gatewayChargeSchema = z.object({
  id: z.string().min(1).max(128),
  status: z.enum(['succeeded', 'failed']),
  amount: z.number().int(),
  amount_refunded: z.number().int(),
  currency: z.string().max(8),
  card: z.object({ brand: z.string().max(32), last4: z.string().regex(/^\d{4}$/) }),
  failure_code: z.string().max(64).nullable(),
  failure_message: z.string().max(500).nullable(),
});

export type GatewayCharge = z.infer<typeof gatewayChargeSchema>;

const declineSchema = z.object({
  error: z.object({ code: z.string().min(1).max(64), message: z.string().max(500) }),
  charge: gatewayChargeSchema.extend({ status: z.literal('failed') }),
});

const approvedSchema = gatewayChargeSchema.extend({ status: z.literal('succeeded') });

const refundAnswerSchema = z.object({ id: z.string().min(1).max(128) });

export type Authorization =
  | { outcome: 'approved'; charge: GatewayCharge }
  | { outcome: 'declined'; charge: GatewayCharge; code: string; message: string };

/** The gateway could not be reached or failed: nothing was charged. */
export class GatewayUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    /** The breaker is open: the gateway was not even called. */
    readonly breakerOpen = false,
  ) {
    super(message);
  }
}

/** The gateway did not answer in time: the charge may or may not have happened. */
export class GatewayTimeoutError extends Error {}

/**
 * The gateway answered, but not as its contract says (a body of the wrong shape, or a charge of
 * another amount than asked): what it did is unknown, as after a timeout.
 */
export class GatewayAnswerError extends Error {}

/** A failure worth another try with the same idempotency key: the connection, or a 5xx. */
class TransientGatewayError extends Error {}

export interface GatewayClientOptions {
  baseUrl: () => string;
  key: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts for transient failures (connection refused or reset, 5xx). Default 3. */
  attempts?: number;
  /** Consecutive failures that open the breaker. Default 5. */
  breakerThreshold?: number;
  /** How long the breaker stays open before letting one call through. Default 5 s. */
  halfOpenAfterMs?: number;
}

export interface ChargeRequest {
  idempotencyKey: string;
  amount: number;
  currency: string;
  card: { number: string; exp_month: number; exp_year: number; cvc: string };
  description: string | null;
}

/**
 * The synchronous hop of the critical path, made safe: a timeout per attempt, retries of
 * transient failures that reuse the same idempotency key (so a retry can never charge twice), and
 * a circuit breaker that fails fast while the gateway is down. A timeout is not retried: it has
 * already spent the customer's waiting budget, and the reconciler settles it later.
 */
export class GatewayClient {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  private readonly breaker;
  private readonly policy;
  private readonly halfOpenAfterMs: number;
  private openedAt = 0;

  constructor(private readonly options: GatewayClientOptions) {
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? 5_000;
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof TransientGatewayError || error instanceof TaskCancelledError),
      { halfOpenAfter: this.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5) },
    );
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
    });
    const retries = retry(
      handleWhen((error) => error instanceof TransientGatewayError),
      {
        maxAttempts: (options.attempts ?? 3) - 1,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
      },
    );
    // Each attempt reads the whole answer before it returns, so nothing is left to abort then; and
    // an abort builds a DOMException with its stack (about 1% of a payment's CPU, profiled).
    const perAttempt = timeout(options.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.policy = wrap(retries, this.breaker, perAttempt);
  }

  get breakerState(): 'closed' | 'open' | 'half-open' {
    switch (this.breaker.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'closed';
    }
  }

  /** `trace`: the context each attempt's client span is a child of (the payment request's). */
  async authorize(charge: ChargeRequest, trace: Context): Promise<Authorization> {
    const { idempotencyKey, ...body } = charge;
    const response = await this.call('POST', '/v1/charges', trace, { body, idempotencyKey });
    let authorization: Authorization;
    if (response.status === 201) {
      authorization = { outcome: 'approved', charge: parsed(approvedSchema, response) };
    } else if (response.status === 402) {
      const { error, charge: declined } = parsed(declineSchema, response);
      authorization = { outcome: 'declined', charge: declined, code: error.code, message: error.message };
    } else {
      throw unexpected(response);
    }
    if (authorization.charge.amount !== charge.amount || authorization.charge.currency !== charge.currency) {
      throw new GatewayAnswerError(
        `the gateway answered for ${authorization.charge.amount} ${authorization.charge.currency}, not the ${charge.amount} ${charge.currency} asked`,
      );
    }
    return authorization;
  }

  /** What the gateway did with a key, or undefined if it never received it. */
  async lookup(idempotencyKey: string, trace: Context): Promise<GatewayCharge | undefined> {
    const path = `/v1/charges/by-idempotency-key/${encodeURIComponent(idempotencyKey)}`;
    const response = await this.call('GET', path, trace, {});
    if (response.status === 200) return parsed(gatewayChargeSchema, response);
    if (response.status === 404) return undefined;
    throw unexpected(response);
  }

  async refund(
    options: { chargeId: string; amount: number; idempotencyKey: string },
    trace: Context,
  ): Promise<{ id: string }> {
    const response = await this.call('POST', `/v1/charges/${encodeURIComponent(options.chargeId)}/refunds`, trace, {
      body: { amount: options.amount },
      idempotencyKey: options.idempotencyKey,
    });
    if (response.status === 201) return parsed(refundAnswerSchema, response);
    throw unexpected(response);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    trace: Context,
    options: { body?: unknown; idempotencyKey?: string },
  ): Promise<{ status: number; body: unknown }> {
    // The call's own parent signal: without one, cockatiel's timeout hangs each attempt's abort
    // listener on one signal shared by every call in the process, and more than ten calls in flight
    // at once set off Node's MaxListenersExceededWarning ("possible EventTarget memory leak").
    const call = new AbortController();
    try {
      return await this.policy.execute(async ({ signal }) => {
        const url = new URL(path, this.options.baseUrl());
        const headers: Record<string, string> = { authorization: `Bearer ${this.options.key}` };
        if (options.body !== undefined) headers['content-type'] = 'application/json';
        if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
        let answer: { statusCode: number; text: string };
        try {
          answer = await tracedCall(trace, method, url, headers, async () => {
            const response = await request(url, {
              method,
              dispatcher: this.agent,
              signal,
              headers,
              body: options.body === undefined ? undefined : JSON.stringify(options.body),
            });
            return { statusCode: response.statusCode, text: await response.body.text() };
          });
        } catch (error) {
          if (signal.aborted) throw error;
          throw new TransientGatewayError(`gateway unreachable: ${(error as Error).message}`);
        }
        if (answer.statusCode >= 500) throw new TransientGatewayError(`gateway answered ${answer.statusCode}`);
        return { status: answer.statusCode, body: jsonOf(answer.statusCode, answer.text) };
      }, call.signal);
    } catch (error) {
      if (error instanceof TaskCancelledError) {
        throw new GatewayTimeoutError(`gateway did not answer within ${this.options.timeoutMs} ms`);
      }
      if (error instanceof BrokenCircuitError) {
        const left = Math.max(1, Math.ceil((this.openedAt + this.halfOpenAfterMs - Date.now()) / 1000));
        throw new GatewayUnavailableError('the gateway is failing; the circuit breaker is open', left, true);
      }
      if (error instanceof TransientGatewayError) throw new GatewayUnavailableError(error.message, 1);
      throw error;
    }
  }
}

function jsonOf(status: number, text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayAnswerError(`the gateway answered ${status} with a body that is not JSON`);
  }
}

function parsed<T>(schema: z.ZodType<T>, response: { status: number; body: unknown }): T {
  const result = schema.safeParse(response.body);
  if (result.success) return result.data;
  throw new GatewayAnswerError(
    `the gateway answered ${response.status} with a body that breaks its contract: ${formatZodError(result.error)}`,
  );
}

function unexpected(response: { status: number; body: unknown }): Error {
  return new Error(`unexpected gateway answer ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
}
