import { sleep } from '@syncopate/messaging';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { z } from 'zod';
import { ApiError } from './http/api-error.js';

/** Added latency: a fixed delay, or one drawn from a distribution, per request. */
export const latencySchema = z.union([
  z.strictObject({ fixedMs: z.number().int().min(0).max(120_000) }),
  z.strictObject({ uniformMs: z.tuple([z.number().int().min(0), z.number().int().max(120_000)]) }),
  z.strictObject({
    normalMs: z.strictObject({ mean: z.number().min(0).max(120_000), stddev: z.number().min(0).max(60_000) }),
  }),
]);

/** The knobs every service has, for the lab and the dashboard: how slow, how flaky, whether up at all. */
export const faultSettingsSchema = z
  .strictObject({
    latency: latencySchema.nullable(),
    /** Share of requests answered 500 at once. */
    errorRate: z.number().min(0).max(1),
    /** The next this-many requests are answered 500, whatever the rate: a deterministic burst of errors. */
    failNext: z.number().int().min(0).max(1_000_000),
    /** Share of requests whose work is done but whose answer comes only after `hangMs` (a timeout, for the caller). */
    timeoutRate: z.number().min(0).max(1),
    hangMs: z.number().int().min(0).max(300_000),
    /** Connections are dropped without an answer, as if the service were not running. */
    down: z.boolean(),
  })
  .partial()
  .meta({ id: 'FaultSettings' });

export type FaultSettings = Required<z.output<typeof faultSettingsSchema>>;
export type FaultSettingsInput = z.input<typeof faultSettingsSchema>;

export const NO_FAULTS: FaultSettings = {
  latency: null,
  errorRate: 0,
  failNext: 0,
  timeoutRate: 0,
  hangMs: 30_000,
  down: false,
};

export class InjectedFaultError extends Error {
  constructor(service: string) {
    super(`injected fault in ${service}`);
  }
}

/** One service's current fault settings and the means to apply them to a request or to a unit of work. */
export class Faults {
  private settings: FaultSettings = NO_FAULTS;
  /** Wakes each delay or hang in progress; after release() none starts. */
  private readonly pauses = new Set<() => void>();
  private released = false;

  constructor(
    readonly service: string,
    initial?: FaultSettingsInput,
    private readonly random: () => number = Math.random,
  ) {
    if (initial) this.set(initial);
  }

  get current(): FaultSettings {
    return this.settings;
  }

  /** Replaces every knob; the ones not given go back to "no fault". */
  set(input: FaultSettingsInput): FaultSettings {
    this.settings = { ...NO_FAULTS, ...faultSettingsSchema.parse(input) };
    return this.settings;
  }

  /** Replaces only the given knobs. */
  patch(input: FaultSettingsInput): FaultSettings {
    this.settings = { ...this.settings, ...faultSettingsSchema.parse(input) };
    return this.settings;
  }

  /** Stops every hang in progress, so shutdown does not wait for them. */
  release(): void {
    this.released = true;
    for (const wake of this.pauses) wake();
    this.pauses.clear();
  }

  /**
   * An onRequest hook for a service's routes: drops the connection when down, waits the added
   * latency, and answers 500 at the error rate.
   */
  readonly onRequest = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (this.settings.down) {
      request.raw.socket.destroy();
      reply.hijack();
      done();
      return;
    }
    // Callback style, so that a request with no latency to wait (nearly all) costs no promise.
    const waiting = this.delay();
    if (waiting) waiting.then(() => this.failOrPass(done), done);
    else this.failOrPass(done);
  };

  private failOrPass(done: HookHandlerDoneFunction): void {
    done(
      this.takeFailure()
        ? new ApiError(500, 'api_error', 'injected_fault', `${this.service} failed on purpose (fault injection)`)
        : undefined,
    );
  }

  /**
   * The same knobs for work that is not an HTTP request (a consumer's handler): throws when down or
   * failing. `within` (a handler's message) cuts an added latency short when its signal aborts; its
   * signal is read only then, since a message's signal is made when first asked for.
   */
  async disturb(within?: { readonly signal: AbortSignal }): Promise<void> {
    if (this.settings.down) throw new InjectedFaultError(`${this.service} (down)`);
    await this.delay(within);
    if (this.takeFailure()) throw new InjectedFaultError(this.service);
  }

  private takeFailure(): boolean {
    if (this.settings.failNext > 0) {
      this.settings = { ...this.settings, failNext: this.settings.failNext - 1 };
      return true;
    }
    return this.random() < this.settings.errorRate;
  }

  /** Whether this request's answer should hang past the caller's timeout. */
  shouldHang(): boolean {
    return this.random() < this.settings.timeoutRate;
  }

  async hang(signal?: AbortSignal): Promise<void> {
    await this.pause(this.settings.hangMs, signal);
  }

  /** The added latency's wait, or undefined when there is none to wait. */
  private delay(within?: { readonly signal: AbortSignal }): Promise<void> | undefined {
    const ms = this.drawLatency();
    return ms > 0 ? this.pause(ms, within?.signal) : undefined;
  }

  /**
   * Sleeps `ms`, less if the caller's signal aborts or release() comes. Each pause has a signal of
   * its own: an abort listener per request on one long-lived signal set off Node's
   * MaxListenersExceededWarning past ten at once, and AbortSignal.any() with a long-lived source
   * keeps a reference per call in that source for good (Node 20).
   */
  private async pause(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.released || signal?.aborted) return;
    const wake = new AbortController();
    const stop = () => wake.abort();
    this.pauses.add(stop);
    signal?.addEventListener('abort', stop, { once: true });
    try {
      await sleep(ms, wake.signal);
    } finally {
      this.pauses.delete(stop);
      signal?.removeEventListener('abort', stop);
    }
  }

  private drawLatency(): number {
    const latency = this.settings.latency;
    if (!latency) return 0;
    if ('fixedMs' in latency) return latency.fixedMs;
    if ('uniformMs' in latency) {
      const [min, max] = latency.uniformMs;
      return min + this.random() * Math.max(0, max - min);
    }
    // Box-Muller: a normal draw from two uniform ones.
    const { mean, stddev } = latency.normalMs;
    const z0 = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    return Math.max(0, mean + z0 * stddev);
  }
}
