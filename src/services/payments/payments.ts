import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type Context, trace as otelTrace } from '@opentelemetry/api';
import {
  contextOfSpan,
  createEvent,
  type Envelope,
  newEventId,
  type SqlDatabase,
  type SqlExecutor,
} from '@syncopate/messaging';
import type { Logger } from 'pino';
import { PaymentFailed, PaymentRefunded, PaymentSucceeded } from '../../contracts/payment-events.js';
import type { Principal } from '../../platform/auth/api-keys.js';
import { ApiError, notFound } from '../../platform/http/api-error.js';
import { keyReused } from '../../platform/idempotent-requests.js';
import type { SideEffects } from '../../platform/service.js';
import {
  type Authorization,
  GatewayAnswerError,
  type GatewayClient,
  GatewayTimeoutError,
  GatewayUnavailableError,
} from './gateway-client.js';
import { IdempotencyStore } from './idempotency-store.js';
import { type PaymentRow, type RefundRow, type Settlement, paymentStore as store, toPayment } from './payment-store.js';
import type { CreatePayment, Payment, SideEffectView } from './schemas.js';
import type { SideEffectDispatch } from './side-effect-dispatch.js';

/** What a route sends back: the idempotency store keeps exactly this, to replay it. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface PaymentsOptions {
  db: SqlDatabase;
  sideEffects: SideEffects;
  /** Queued with the change (async), or called before the answer (sync, for the lab). */
  dispatch: SideEffectDispatch;
  gateway: GatewayClient;
  logger: Logger;
  /** A request holding an idempotency key longer than this is presumed dead and taken over. */
  staleKeyAfterMs: number;
  /** How long a payment may stay `processing` before the reconciler asks the gateway about it. */
  reconcileAfterMs: number;
}

const SOURCE = 'urn:syncopate:payments';
const tracer = otelTrace.getTracer('syncopate.payments');

/**
 * The critical path. A payment is claimed under its idempotency key, authorized by the gateway
 * synchronously, and committed together with its event in one transaction before the client
 * hears the answer; everything else happens later, from that event.
 */
export class Payments {
  private readonly keys: IdempotencyStore;
  private readonly db: SqlDatabase;

  private constructor(
    private readonly options: PaymentsOptions,
    private readonly hashSecret: string,
  ) {
    this.db = options.db;
    this.keys = new IdempotencyStore(options.staleKeyAfterMs);
  }

  static async create(options: PaymentsOptions): Promise<Payments> {
    return new Payments(options, await loadSecret(options.db));
  }

  /** `trace`: the request's trace context; the gateway call and the payment's event join it. */
  async create(principal: Principal, idempotencyKey: string, request: CreatePayment, trace: Context): Promise<Answer> {
    const { accountId } = principal;
    const paymentId = `pay_${newEventId().replaceAll('-', '')}`;
    const gatewayKey = derivedKey('charge', accountId, idempotencyKey);
    const requestHash = this.requestHash('POST /v1/payments', { ...request, card: keptOfCard(request.card) });
    // The claim need not reach the disk: if a crash loses it, the retried request charges under the
    // same derived gateway key, and the gateway answers with the charge it already made.
    const claim = await this.db.transaction(
      async (tx) => {
        const result = await this.keys.claim(tx, accountId, idempotencyKey, requestHash, paymentId);
        if (result.kind === 'new') {
          const now = new Date();
          await store.insert(tx, {
            id: paymentId,
            account_id: accountId,
            amount: request.amount,
            currency: request.currency,
            description: request.description ?? null,
            metadata: JSON.stringify(request.metadata ?? {}),
            customer_email: request.customer.email,
            card_brand: 'unknown',
            card_last4: request.card.number.slice(-4),
            gateway_key: gatewayKey,
            created_at: now.toISOString(),
            updated_at: now.getTime(),
          });
        }
        return result;
      },
      { durable: false },
    );

    switch (claim.kind) {
      case 'replay':
        return { status: claim.status, body: JSON.parse(claim.body), headers: { 'idempotent-replayed': 'true' } };
      case 'mismatch':
        throw keyReused();
      case 'in-flight':
        throw keyInUse();
      case 'resume': {
        const row = await store.get(this.db, claim.resourceId);
        if (row && row.status !== 'processing') {
          const answer = await this.answerFor(this.db, row);
          await this.db.transaction((tx) =>
            this.keys.complete(tx, accountId, idempotencyKey, answer.status, answer.body),
          );
          return answer;
        }
        if (!row) throw new Error(`payment ${claim.resourceId} vanished between claim and authorization`);
        return this.authorize(principal, idempotencyKey, row.id, row.gateway_key, request, trace);
      }
      case 'new':
        return this.authorize(principal, idempotencyKey, paymentId, gatewayKey, request, trace);
    }
  }

  async get(principal: Principal, id: string): Promise<Payment> {
    const row = await store.get(this.db, id);
    if (!row || row.account_id !== principal.accountId) throw notFound('payment', id);
    return toPayment(row, await store.refundsOf(this.db, row));
  }

  /** Where each asynchronous consequence of the payment stands: its events, times the groups bound to them. */
  async sideEffects(principal: Principal, id: string): Promise<SideEffectView[]> {
    const row = await store.get(this.db, id);
    if (!row || row.account_id !== principal.accountId) throw notFound('payment', id);
    // In sync mode nothing is queued: the side effects were done, or failed, within the request.
    if (this.options.dispatch.mode === 'sync') return [];
    const events: { id: string; type: string }[] = [];
    if (row.event_id) {
      events.push({ id: row.event_id, type: row.status === 'succeeded' ? PaymentSucceeded.type : PaymentFailed.type });
    }
    for (const refund of await store.refundsOf(this.db, row)) {
      if (refund.event_id) events.push({ id: refund.event_id, type: PaymentRefunded.type });
    }
    return (await this.options.sideEffects.of(events)).map((effect) => ({
      object: 'side_effect' as const,
      event_id: effect.eventId,
      event_type: effect.eventType,
      group: effect.group,
      state: effect.state,
      attempts: effect.attempts,
      last_error: effect.lastError,
      next_attempt_at: effect.nextAttemptAt?.toISOString() ?? null,
      updated_at: effect.updatedAt?.toISOString() ?? null,
    }));
  }

  async list(principal: Principal, limit: number, after?: string): Promise<{ data: Payment[]; has_more: boolean }> {
    const rows = await store.list(this.db, principal.accountId, limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      data: await Promise.all(page.map(async (row) => toPayment(row, await store.refundsOf(this.db, row)))),
      has_more: rows.length > limit,
    };
  }

  async refund(
    principal: Principal,
    idempotencyKey: string,
    paymentId: string,
    amount: number | undefined,
    trace: Context,
  ): Promise<Answer> {
    const { accountId } = principal;
    const refundId = `re_${randomBytes(12).toString('base64url')}`;
    const requestHash = this.requestHash(`POST /v1/payments/${paymentId}/refunds`, { amount: amount ?? null });
    const claim = await this.db.transaction(
      (tx) => this.keys.claim(tx, accountId, idempotencyKey, requestHash, refundId),
      {
        durable: false,
      },
    );
    if (claim.kind === 'replay') {
      return { status: claim.status, body: JSON.parse(claim.body), headers: { 'idempotent-replayed': 'true' } };
    }
    if (claim.kind === 'mismatch') throw keyReused();
    if (claim.kind === 'in-flight') throw keyInUse();
    const id = claim.kind === 'resume' ? claim.resourceId : refundId;
    try {
      return await this.refundOnce(principal, idempotencyKey, paymentId, id, amount, trace);
    } catch (error) {
      // A refused refund changed nothing: the key is released so a corrected request can use it.
      await this.db.transaction((tx) => this.keys.release(tx, accountId, idempotencyKey));
      throw error;
    }
  }

  /** Settles payments a gateway timeout (or a crash) left `processing`; returns how many it settled. */
  async reconcile(): Promise<number> {
    await this.db.transaction((tx) => this.keys.purgeExpired(tx), { durable: false });
    let settled = 0;
    for (const row of await store.processingSince(this.db, Date.now() - this.options.reconcileAfterMs, 50)) {
      // Its own trace, carrying the payment: the event it publishes and its side effects join it.
      const span = tracer.startSpan('reconcile payment', {
        attributes: { 'payment.id': row.id, 'account.id': row.account_id },
      });
      const outcome = await this.reconcileOne(row, contextOfSpan(span)).finally(() => span.end());
      if (outcome === 'gateway-unreachable') break;
      if (outcome === 'settled') settled += 1;
    }
    return settled;
  }

  private async reconcileOne(
    row: PaymentRow,
    trace: Context,
  ): Promise<'settled' | 'unchanged' | 'gateway-unreachable'> {
    let charge: Awaited<ReturnType<GatewayClient['lookup']>>;
    try {
      charge = await this.options.gateway.lookup(row.gateway_key, trace);
    } catch (error) {
      this.options.logger.warn({ err: error, paymentId: row.id }, 'reconciler could not reach the gateway');
      return 'gateway-unreachable';
    }
    // Never received by the gateway: nothing was charged, and without the card it cannot be retried.
    const settlement: Settlement = charge
      ? charge.status === 'succeeded'
        ? { status: 'succeeded', chargeId: charge.id, brand: charge.card.brand }
        : {
            status: 'failed',
            chargeId: charge.id,
            failureCode: charge.failure_code ?? 'card_declined',
            failureMessage: charge.failure_message ?? 'The card was declined.',
            brand: charge.card.brand,
          }
      : {
          status: 'failed',
          chargeId: null,
          brand: null,
          failureCode: 'gateway_timeout',
          failureMessage: 'The payment gateway did not receive the charge in time; nothing was charged.',
        };
    const final = await this.settle(
      row.id,
      settlement,
      (tx, answer) => this.keys.completeForResource(tx, row.id, answer.status, answer.body),
      trace,
    );
    if (!final) return 'unchanged';
    this.options.logger.info({ paymentId: row.id, status: final.row.status }, 'reconciled a processing payment');
    // In sync mode nobody waits for this answer: a failed side effect is only logged.
    await this.options.dispatch
      .after([final.event], trace)
      .catch((error) => this.options.logger.error({ err: error, paymentId: row.id }, 'side effect failed'));
    return 'settled';
  }

  private async authorize(
    principal: Principal,
    idempotencyKey: string,
    paymentId: string,
    gatewayKey: string,
    request: CreatePayment,
    trace: Context,
  ): Promise<Answer> {
    const { accountId } = principal;
    otelTrace.getSpan(trace)?.setAttributes({ 'payment.id': paymentId, 'account.id': accountId });
    let authorization: Authorization;
    try {
      authorization = await this.options.gateway.authorize(
        {
          idempotencyKey: gatewayKey,
          amount: request.amount,
          currency: request.currency,
          card: request.card,
          description: request.description ?? null,
        },
        trace,
      );
    } catch (error) {
      if (error instanceof GatewayUnavailableError) {
        // Nothing was charged: leave no trace, so the client can retry with the same key.
        await this.db.transaction(async (tx) => {
          await store.discard(tx, paymentId);
          await this.keys.release(tx, accountId, idempotencyKey);
        });
        // What failed inside (an address, a connection error) is for the log, not for the client.
        this.options.logger.warn({ err: error, paymentId }, 'the gateway is unavailable');
        throw new ApiError(
          503,
          'api_error',
          'gateway_unavailable',
          `The payment gateway is ${error.breakerOpen ? 'failing, so the circuit breaker is open' : 'unavailable'}: nothing was charged. Retry with the same Idempotency-Key`,
          undefined,
          { 'retry-after': String(error.retryAfterSeconds) },
        );
      }
      if (error instanceof GatewayAnswerError) {
        this.options.logger.error({ err: error, paymentId }, 'the gateway answered outside its contract');
      }
      if (error instanceof GatewayTimeoutError || error instanceof GatewayAnswerError) {
        const answer: Answer = { status: 202, body: await this.get(principal, paymentId) };
        await this.db.transaction((tx) =>
          this.keys.complete(tx, accountId, idempotencyKey, answer.status, answer.body),
        );
        return answer;
      }
      throw error;
    }
    const { charge } = authorization;
    const settlement: Settlement =
      authorization.outcome === 'approved'
        ? { status: 'succeeded', chargeId: charge.id, brand: charge.card.brand }
        : {
            status: 'failed',
            chargeId: charge.id,
            failureCode: authorization.code,
            failureMessage: authorization.message,
            brand: charge.card.brand,
          };
    const final = await this.settle(
      paymentId,
      settlement,
      (tx, answer) => this.keys.complete(tx, accountId, idempotencyKey, answer.status, answer.body),
      trace,
    );
    if (final) {
      await this.options.dispatch.after([final.event], trace);
      return final.answer;
    }
    // Someone (the reconciler) settled it while the gateway answered: report what was stored.
    const current = await store.get(this.db, paymentId);
    if (!current) throw new Error(`payment ${paymentId} vanished after authorization`);
    return this.answerFor(this.db, current);
  }

  /**
   * One transaction: the payment's outcome, its event and (through `alsoInside`) the idempotent
   * answer. Returns the settled row, or undefined if it was no longer processing.
   */
  private settle(
    paymentId: string,
    settlement: Settlement,
    alsoInside: (tx: SqlExecutor, answer: Answer) => Promise<void>,
    trace: Context,
  ): Promise<{ row: PaymentRow; event: Envelope; answer: Answer } | undefined> {
    return this.db.transaction(async (tx) => {
      const settled = await store.settle(tx, paymentId, settlement, newEventId());
      if (!settled) return undefined;
      const event = paymentEvent(settled, trace);
      await this.options.dispatch.within(tx, [event]);
      const answer = await this.answerFor(tx, settled);
      await alsoInside(tx, answer);
      return { row: settled, event, answer };
    });
  }

  private async refundOnce(
    principal: Principal,
    idempotencyKey: string,
    paymentId: string,
    refundId: string,
    requested: number | undefined,
    trace: Context,
  ): Promise<Answer> {
    const row = await store.get(this.db, paymentId);
    if (!row || row.account_id !== principal.accountId) throw notFound('payment', paymentId);
    if (row.status !== 'succeeded' || !row.gateway_charge) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'payment_not_refundable',
        `Payment ${paymentId} is ${row.status}; only a succeeded payment can be refunded`,
      );
    }
    const left = row.amount - row.amount_refunded;
    const amount = requested ?? left;
    if (amount <= 0 || amount > left) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'amount_too_large',
        `Refund of ${amount} exceeds the ${left} left to refund`,
        'amount',
      );
    }
    try {
      await this.options.gateway.refund(
        {
          chargeId: row.gateway_charge,
          amount,
          idempotencyKey: derivedKey('refund', principal.accountId, idempotencyKey),
        },
        trace,
      );
    } catch (error) {
      if (
        error instanceof GatewayUnavailableError ||
        error instanceof GatewayTimeoutError ||
        error instanceof GatewayAnswerError
      ) {
        this.options.logger.warn({ err: error, paymentId }, 'the gateway could not refund now');
        throw new ApiError(
          503,
          'api_error',
          'gateway_unavailable',
          'The refund could not be made now: the payment gateway is unavailable. Retry with the same Idempotency-Key',
          undefined,
          { 'retry-after': String(error instanceof GatewayUnavailableError ? error.retryAfterSeconds : 1) },
        );
      }
      throw error;
    }
    const refund = {
      id: refundId,
      payment_id: paymentId,
      amount,
      created_at: new Date().toISOString(),
      event_id: newEventId(),
    };
    const { answer, event } = await this.db.transaction(async (tx) => {
      if (!(await store.addRefund(tx, refund))) {
        throw new ApiError(
          409,
          'invalid_request_error',
          'refund_conflict',
          'Another refund changed this payment; retry with a new key',
        );
      }
      const updated = (await store.get(tx, paymentId)) as PaymentRow;
      const refunded = paymentEvent(updated, trace, refund);
      await this.options.dispatch.within(tx, [refunded]);
      const created: Answer = {
        status: 201,
        body: { id: refund.id, object: 'refund', payment: paymentId, amount, created: refund.created_at },
      };
      await this.keys.complete(tx, principal.accountId, idempotencyKey, created.status, created.body);
      return { answer: created, event: refunded };
    });
    await this.options.dispatch.after([event], trace);
    return answer;
  }

  private async answerFor(ex: SqlExecutor, row: PaymentRow): Promise<Answer> {
    const payment = toPayment(row, await store.refundsOf(ex, row));
    if (row.status === 'succeeded') return { status: 201, body: payment };
    if (row.status === 'processing') return { status: 202, body: payment };
    return {
      status: 402,
      body: {
        error: {
          type: 'card_error',
          code: row.failure_code ?? 'card_declined',
          message: row.failure_message ?? 'The card was declined.',
        },
        payment,
      },
    };
  }

  /**
   * What tells a retry from another request under the same key. The card enters it only as what is
   * kept in clear anyway (last 4, expiry): a hash of the full number or the CVC could be brute-forced
   * back to them by whoever reads the database (its key lives there too). So a retry that changes
   * only the card's middle digits is answered as the first request was.
   */
  private requestHash(route: string, body: unknown): string {
    return createHmac('sha256', this.hashSecret).update(route).update('\0').update(JSON.stringify(body)).digest('hex');
  }
}

function keptOfCard(card: CreatePayment['card']) {
  return { last4: card.number.slice(-4), exp_month: card.exp_month, exp_year: card.exp_year };
}

function paymentEvent(row: PaymentRow, trace: Context, refund?: RefundRow): Envelope {
  const facts = {
    payment_id: row.id,
    account_id: row.account_id,
    amount: row.amount,
    currency: row.currency,
    customer_email: row.customer_email,
    description: row.description,
    card: { brand: row.card_brand, last4: row.card_last4 },
    created_at: row.created_at,
  };
  const id = (refund ? refund.event_id : row.event_id) ?? undefined;
  const options = { source: SOURCE, subject: row.id, orderingKey: row.id, id, trace };
  if (refund) {
    return createEvent(
      PaymentRefunded,
      {
        ...facts,
        refund: { id: refund.id, amount: refund.amount, created_at: refund.created_at },
        amount_refunded: row.amount_refunded,
      },
      options,
    );
  }
  if (row.status === 'succeeded') return createEvent(PaymentSucceeded, facts, options);
  return createEvent(
    PaymentFailed,
    { ...facts, failure_code: row.failure_code ?? 'card_declined', failure_message: row.failure_message ?? '' },
    options,
  );
}

/**
 * The gateway key follows from the client's key, so a retried request can never charge twice. A key
 * reused after it expired is a new charge all the same: the gateway forgets its keys a little sooner.
 */
function derivedKey(kind: 'charge' | 'refund', accountId: string, idempotencyKey: string): string {
  return `${kind}_${createHash('sha256').update(`${accountId}\0${idempotencyKey}`).digest('hex').slice(0, 40)}`;
}

async function loadSecret(db: SqlDatabase): Promise<string> {
  await db.transaction((tx) =>
    tx.run("INSERT INTO payment_settings (name, value) VALUES ('request_hash_secret', ?) ON CONFLICT DO NOTHING", [
      randomBytes(32).toString('hex'),
    ]),
  );
  const row = await db.get<{ value: string }>("SELECT value FROM payment_settings WHERE name = 'request_hash_secret'");
  if (!row) throw new Error('the request hash secret could not be stored');
  return row.value;
}

const keyInUse = () =>
  new ApiError(
    409,
    'idempotency_error',
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still being processed; retry shortly',
    'Idempotency-Key',
  );
