import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ApiKeyStore } from '../platform/auth/api-keys.js';
import { authenticate, principalOf } from '../platform/auth/authenticate.js';
import { ApiError } from '../platform/http/api-error.js';
import { openEventStream, StreamAdmission, writeEvent } from '../platform/http/event-stream.js';
import { encapsulate, type HttpServer } from '../platform/http/server.js';
import type { RecentTraces, SpanRecord } from '../platform/telemetry/recent-traces.js';
import type { QueueRow } from './dead-letter-routes.js';

export interface DashboardStreamOptions {
  keys: ApiKeyStore;
  /** Streams one key may hold open at once (SSE_MAX_STREAMS_PER_KEY). */
  maxStreamsPerKey: number;
  traces: RecentTraces;
  /** Every service's fault settings in this process, by service. */
  faults: () => { service: string }[];
  queues: () => Promise<QueueRow[]>;
  /** How often queue figures (and fault changes) are pushed. Default 500 ms. */
  tickMs?: number;
  /** A comment line this often keeps proxies and browsers from dropping an idle stream. Default 15 s. */
  keepAliveMs?: number;
  /** A client this far behind is cut off rather than buffered without end. Default 1 MiB. */
  maxBufferedBytes?: number;
}

interface Stream {
  accountId: string;
  admin: boolean;
  response: ServerResponse;
}

/** Spans of traces whose account is not known yet (their request span has not ended): kept this many traces. */
const MAX_PENDING_TRACES = 500;
const MAX_PENDING_SPANS = 100;

/**
 * The dashboard's live feed over Server-Sent Events: each finished span of the caller's payments
 * (`span`), and for an admin every group's queue figures (`queues`) and the fault settings when they
 * change (`faults`). One span subscription and one queue read per tick serve every open stream;
 * nothing runs while none is open.
 */
export class DashboardStreams {
  private readonly streams = new Set<Stream>();
  /** traceId → spans that ended before the span that names the trace's account. */
  private readonly pending = new Map<string, SpanRecord[]>();
  private unsubscribe: (() => void) | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private lastFaults = '';
  private reading = false;
  private closed = false;
  readonly admission: StreamAdmission;

  constructor(private readonly options: DashboardStreamOptions) {
    this.admission = new StreamAdmission({
      maxPerKey: options.maxStreamsPerKey,
      isActive: (keyId) => options.keys.isActive(keyId),
    });
  }

  get size(): number {
    return this.streams.size;
  }

  attach(stream: Stream): void {
    const { response } = stream;
    if (!openEventStream(response, this.closed)) return;
    this.streams.add(stream);
    if (stream.admin) this.write(stream, frame('faults', this.options.faults()));
    response.once('close', () => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.idle();
    });
    this.start();
  }

  /** Ends every stream; later connections are refused. */
  close(): void {
    this.closed = true;
    for (const { response } of this.streams) response.end();
    this.streams.clear();
    this.idle();
    this.admission.close();
  }

  private start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.options.traces.subscribe((span) => this.onSpan(span));
    this.ticker = setInterval(() => void this.tick(), this.options.tickMs ?? 500);
    this.ticker.unref();
    this.keepAlive = setInterval(() => {
      for (const stream of this.streams) this.write(stream, ': keep-alive\n\n');
    }, this.options.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
    void this.tick();
  }

  private idle(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.ticker);
    clearInterval(this.keepAlive);
    this.pending.clear();
    this.lastFaults = '';
  }

  private onSpan(span: SpanRecord): void {
    const trace = this.options.traces.trace(span.traceId);
    const owner = trace.find((s) => typeof s.attributes['account.id'] === 'string')?.attributes['account.id'];
    if (typeof owner !== 'string') {
      const waiting = this.pending.get(span.traceId) ?? [];
      this.pending.delete(span.traceId); // re-inserted: Map order is our recency order
      if (waiting.length < MAX_PENDING_SPANS) waiting.push(span);
      this.pending.set(span.traceId, waiting);
      while (this.pending.size > MAX_PENDING_TRACES) this.pending.delete(this.pending.keys().next().value as string);
      return;
    }
    const spans = [...(this.pending.get(span.traceId) ?? []), span];
    this.pending.delete(span.traceId);
    const paymentId = paymentOf(trace);
    const frames = spans.map((s) => frame('span', { payment_id: paymentId, span: s }));
    for (const stream of this.streams) {
      if (stream.accountId !== owner) continue;
      for (const f of frames) this.write(stream, f);
    }
  }

  private async tick(): Promise<void> {
    const admins = [...this.streams].filter((s) => s.admin);
    if (admins.length === 0 || this.reading) return;
    const faults = JSON.stringify(this.options.faults());
    if (faults !== this.lastFaults) {
      this.lastFaults = faults;
      for (const stream of admins) this.write(stream, `event: faults\ndata: ${faults}\n\n`);
    }
    this.reading = true;
    try {
      const queues = frame('queues', await this.options.queues());
      for (const stream of this.streams) if (stream.admin) this.write(stream, queues);
    } catch {
      // A failed read is skipped; the next tick tries again.
    } finally {
      this.reading = false;
    }
  }

  private write(stream: Stream, chunk: string): void {
    writeEvent(stream.response, chunk, this.options.maxBufferedBytes ?? 1024 * 1024);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function paymentOf(trace: readonly SpanRecord[]): string | null {
  for (const span of trace) {
    const id = span.attributes['payment.id'] ?? span.attributes['cloudevents.event_subject'];
    if (typeof id === 'string') return id;
  }
  return null;
}

/** `GET /v1/dashboard/stream?key=<API key>[&admin_key=<admin key>]`: EventSource cannot set headers. */
export function registerDashboardStream(app: HttpServer, streams: DashboardStreams, keys: ApiKeyStore): void {
  encapsulate(app, (scope) => {
    scope.addHook('onRequest', authenticate(keys));
    scope.get(
      '/v1/dashboard/stream',
      {
        // EventSource cannot set headers: this route takes its keys in the query.
        config: { keyInQuery: true },
        schema: {
          summary:
            "The dashboard's live feed (Server-Sent Events): a `span` event per finished span of the account's payments; with an admin key, `queues` every half second and `faults` when they change",
          tags: ['events'],
          querystring: z.object({
            key: z.string().max(256).optional(),
            admin_key: z.string().max(256).optional(),
          }),
        },
      },
      async (request, reply) => {
        const { accountId, keyId } = principalOf(request);
        const adminKey = request.query.admin_key;
        const admin = adminKey === undefined ? undefined : keys.verify(adminKey);
        if (adminKey !== undefined && admin?.role !== 'admin') {
          throw new ApiError(401, 'authentication_error', 'invalid_api_key', 'Invalid admin key', 'admin_key');
        }
        // Counted against both keys, and ended when either is revoked.
        streams.admission.admit(keyId, reply.raw);
        if (admin) streams.admission.admit(admin.keyId, reply.raw);
        reply.hijack();
        streams.attach({ accountId, admin: admin !== undefined, response: reply.raw });
      },
    );
  });
}
