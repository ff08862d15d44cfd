import type { Context } from '@opentelemetry/api';
import { backoffDelay } from './backoff.js';
import { Batcher } from './batcher.js';
import { Deadlines } from './deadlines.js';
import { decodeEnvelope, type Envelope } from './envelope.js';
import { errorMessage, HandlerTimeoutError, PermanentError } from './errors.js';
import { checkEventData } from './event-type.js';
import { sleep } from './sleep.js';
import type { ResolvedSubscribeOptions } from './subscribe-options.js';
import { contextOfSpan, failed, MessagingAttributes, startProcessSpan } from './tracing.js';
import type { CloseOptions, Delivery, GroupQueue, Handler, Message, Outcome, Subscription } from './transport.js';

const DEFAULT_CLOSE_DEADLINE_MS = 10_000;
const CLAIM_ERROR_PAUSE_MS = { first: 100, max: 5_000 };

/** Why a handler's signal was aborted when the subscription shut down under it. */
class ShutdownAbort extends Error {
  constructor() {
    super('subscription closed before the handler finished');
  }
}

/** The handler outcome plus "give it back untouched" (shutdown), which only the runner can decide. */
type Settlement = Outcome | { kind: 'release' };

/**
 * The one consumer loop every transport shares: claims as many deliveries as there are free
 * slots, runs same-key deliveries one after another and other keys in parallel, keeps leases
 * alive while handlers run, turns each run into ack / retry / dead-letter, and shuts down
 * without losing or double-running a message.
 */
export class ConsumerRunner implements Subscription {
  readonly group: string;
  private readonly handler: Handler;
  /** Deliveries claimed and not yet settled: they hold a slot and their lease is kept alive. */
  private readonly held = new Set<Delivery>();
  private readonly running = new Map<Delivery, { control: RunControl; done: Promise<void> }>();
  private readonly chains = new Map<string, Delivery[]>();
  private readonly stopClaiming = new AbortController();
  private readonly acks: Batcher<Delivery>;
  private readonly timeouts: Deadlines<RunControl>;
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly loop: Promise<void>;
  private slotFreed: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly queue: GroupQueue,
    private readonly options: ResolvedSubscribeOptions,
    /** The backend's name, for the spans' `messaging.system`. */
    private readonly system: string,
  ) {
    this.group = options.group;
    this.handler = options.middleware.reduceRight<Handler>((next, wrap) => wrap(next), options.handler);
    this.acks = new Batcher((deliveries) => queue.ack(deliveries));
    const timeoutMs = options.handlerTimeoutMs;
    this.timeouts = new Deadlines(timeoutMs, (control) => control.stop(new HandlerTimeoutError(timeoutMs)));
    this.leaseTimer = setInterval(() => this.extendLeases(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.leaseTimer.unref();
    this.loop = this.claimLoop();
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.deadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS);
    return this.closing;
  }

  private async claimLoop(): Promise<void> {
    const signal = this.stopClaiming.signal;
    let pauseMs = CLAIM_ERROR_PAUSE_MS.first;
    while (!signal.aborted) {
      const free = this.options.concurrency - this.held.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      let batch: Delivery[];
      try {
        batch = await this.queue.claim(free, signal);
        pauseMs = CLAIM_ERROR_PAUSE_MS.first;
      } catch (error) {
        if (signal.aborted) break;
        this.report(error, 'claim');
        await sleep(pauseMs, signal);
        pauseMs = Math.min(pauseMs * 2, CLAIM_ERROR_PAUSE_MS.max);
        continue;
      }
      if (signal.aborted) {
        // Claimed in the same moment as the close: give them back untouched.
        await this.queue.release(batch, { countAttempt: false }).catch((error) => this.report(error, 'release'));
        break;
      }
      for (const delivery of batch) this.dispatch(delivery);
    }
  }

  private dispatch(delivery: Delivery): void {
    this.held.add(delivery);
    const key = delivery.orderingKey;
    if (key === undefined) {
      void this.run(delivery);
      return;
    }
    const chain = this.chains.get(key);
    if (chain) {
      chain.push(delivery);
      return;
    }
    this.chains.set(key, [delivery]);
    void this.runChain(key);
  }

  /** Same-key deliveries, in claim (= publish) order; a retry sends the rest back behind it. */
  private async runChain(key: string): Promise<void> {
    const chain = this.chains.get(key);
    if (!chain) return;
    while (chain.length > 0) {
      const delivery = chain[0] as Delivery;
      const settlement = await this.run(delivery);
      chain.shift();
      if (settlement.kind === 'retry' || settlement.kind === 'release' || this.stopClaiming.signal.aborted) {
        await this.giveBack(chain.splice(0));
      }
    }
    this.chains.delete(key);
  }

  private async run(delivery: Delivery): Promise<Settlement> {
    const control = new RunControl();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    this.running.set(delivery, { control, done });
    const started = performance.now();
    let event: Envelope | undefined;
    let settlement: Settlement;
    try {
      const decoded = decodeEnvelope(delivery.body);
      event = decoded;
      const span = startProcessSpan(this.system, this.group, decoded, delivery.attempt);
      settlement = await this.attempt(decoded, delivery, control, contextOfSpan(span));
      span.setAttribute(MessagingAttributes.outcome, settlement.kind);
      if (settlement.kind === 'retry') failed(span, settlement.error);
      if (settlement.kind === 'dead-letter') failed(span, settlement.reason);
      span.end();
    } catch (error) {
      settlement = { kind: 'dead-letter', reason: `undecodable message: ${errorMessage(error)}` };
    }
    try {
      await this.settle(delivery, settlement);
    } catch (error) {
      // The lease will lapse and the message come back: at-least-once holds, so carry on.
      this.report(error, settlement.kind);
    }
    if (settlement.kind !== 'release') {
      this.options.hooks.onSettled?.({
        group: this.group,
        event,
        eventId: delivery.eventId,
        attempt: delivery.attempt,
        outcome: settlement,
        durationMs: performance.now() - started,
      });
    }
    this.running.delete(delivery);
    this.free(delivery);
    finished();
    return settlement;
  }

  private async attempt(
    event: Envelope,
    delivery: Delivery,
    control: RunControl,
    context: Context,
  ): Promise<Settlement> {
    const checked = checkEventData(event, this.options.events);
    if (checked.kind !== 'accepted') return { kind: 'dead-letter', reason: checked.reason };
    const endTimeout = this.timeouts.start(control);
    const message: Message = {
      event: { ...event, data: checked.data },
      group: this.group,
      attempt: delivery.attempt,
      get signal() {
        return control.signal;
      },
      trace: context,
    };
    try {
      await control.run(() => this.handler(message));
      return { kind: 'ack' };
    } catch (error) {
      const cause = control.reason ?? error;
      if (cause instanceof ShutdownAbort) return { kind: 'release' };
      if (cause instanceof PermanentError) return { kind: 'dead-letter', reason: cause.message };
      if (delivery.attempt >= this.options.maxAttempts) {
        return {
          kind: 'dead-letter',
          reason: `failed ${delivery.attempt} attempts; last error: ${errorMessage(cause)}`,
        };
      }
      return {
        kind: 'retry',
        delayMs: backoffDelay(delivery.attempt, this.options.backoff),
        error: errorMessage(cause),
      };
    } finally {
      endTimeout();
    }
  }

  private settle(delivery: Delivery, settlement: Settlement): Promise<void> {
    switch (settlement.kind) {
      case 'ack':
        return this.acks.add(delivery);
      case 'retry':
        return this.queue.retry(delivery, settlement.delayMs, { error: settlement.error, attempt: delivery.attempt });
      case 'dead-letter':
        return this.queue.deadLetter(delivery, settlement.reason);
      case 'release':
        return this.queue.release([delivery], { countAttempt: true });
    }
  }

  /** Returns deliveries whose handler never started, without counting an attempt. */
  private async giveBack(deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      await this.queue.release(deliveries, { countAttempt: false });
    } catch (error) {
      this.report(error, 'release');
    }
    for (const delivery of deliveries) this.free(delivery);
  }

  private free(delivery: Delivery): void {
    this.held.delete(delivery);
    const wake = this.slotFreed;
    this.slotFreed = undefined;
    wake?.();
  }

  private extendLeases(): void {
    if (this.held.size === 0) return;
    this.queue.extendLeases([...this.held]).catch((error) => this.report(error, 'extend-leases'));
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.stopClaiming.abort();
    this.slotFreed?.();
    await this.loop;
    // Deliveries still waiting behind a same-key one go back now; the running ones get the deadline.
    const waiting = [...this.chains.values()].flatMap((chain) => chain.slice(1));
    for (const chain of this.chains.values()) chain.splice(1);
    await this.giveBack(waiting);
    const inFlight = () => Promise.all([...this.running.values()].map((run) => run.done));
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      inFlight().then(() => false),
      new Promise<boolean>((resolve) => {
        deadline = setTimeout(() => resolve(true), deadlineMs);
      }),
    ]);
    clearTimeout(deadline);
    if (timedOut) {
      for (const run of this.running.values()) run.control.stop(new ShutdownAbort());
      await inFlight();
    }
    await this.acks.idle();
    clearInterval(this.leaseTimer);
    this.timeouts.close();
    await this.queue.close();
  }

  private report(error: unknown, operation: string): void {
    try {
      this.options.hooks.onError?.(error, operation);
    } catch {
      // A broken hook must not stop the consumer.
    }
  }
}

/**
 * How a handler run is stopped (its timeout, or a shutdown past the deadline). The AbortSignal is
 * built only when the handler asks for it: most never do, and an AbortController per attempt was
 * a measurable share of the consumer's CPU.
 */
class RunControl {
  /** Why the run was stopped; undefined while it may go on. */
  reason: unknown;
  private controller: AbortController | undefined;
  private interrupt: ((reason: unknown) => void) | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /**
   * Runs the work, settling with it or with the reason it is stopped for, whichever comes first:
   * a handler that ignores its signal cannot hold its slot past its timeout.
   */
  run(work: () => unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.reason !== undefined) return reject(this.reason);
      this.interrupt = reject;
      try {
        Promise.resolve(work()).then(() => resolve(), reject);
      } catch (error) {
        reject(error);
      }
    });
  }

  stop(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.interrupt?.(reason);
  }
}
