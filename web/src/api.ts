/** Keys, requests and the shapes the dashboard reads from the Syncopate API. */

export interface Keys {
  apiKey: string;
  adminKey: string;
}

const STORAGE = 'syncopate.keys';

/**
 * The keys come in the URL fragment (`#api_key=…&admin_key=…`, never sent to the server), are kept
 * in sessionStorage for this tab, and the fragment is then removed from the address bar.
 */
export function loadKeys(): Keys | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const apiKey = fragment.get('api_key');
  const adminKey = fragment.get('admin_key');
  if (apiKey && adminKey) {
    saveKeys({ apiKey, adminKey });
    history.replaceState(null, '', location.pathname + location.search);
  }
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE) ?? 'null') as Keys | null;
    return stored?.apiKey && stored.adminKey ? stored : undefined;
  } catch {
    return undefined;
  }
}

export function saveKeys(keys: Keys): void {
  sessionStorage.setItem(STORAGE, JSON.stringify(keys));
}

export function forgetKeys(): void {
  sessionStorage.removeItem(STORAGE);
}

/** A JSON answer whose shape the caller knows better than the compiler. */
// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as the API documents them
export type Json = any;

export interface Answer<T = Json> {
  status: number;
  body: T;
  ms: number;
}

export class Api {
  constructor(readonly keys: Keys) {}

  async call<T = Json>(
    method: string,
    path: string,
    options: { body?: unknown; admin?: boolean; idempotent?: boolean } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.admin ? this.keys.adminKey : this.keys.apiKey}`,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotent) headers['idempotency-key'] = crypto.randomUUID();
    const started = performance.now();
    const response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the text.
    }
    return { status: response.status, body: body as T, ms };
  }

  admin<T = Json>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    return this.call<T>(method, path, { admin: true, body });
  }

  streamUrl(): string {
    const query = new URLSearchParams({ key: this.keys.apiKey, admin_key: this.keys.adminKey });
    return `/v1/dashboard/stream?${query}`;
  }
}

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  service: string;
  startMs: number;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage?: string;
  attributes: Record<string, unknown>;
}

export interface QueueRow {
  group: string;
  waiting: number;
  delayed: number | null;
  in_flight: number;
  dead_lettered: number;
  oldest_waiting_age_ms: number | null;
  this_process: { handled: number; failed_attempts: number; retries: number; dead_lettered: number };
}

export interface FaultRow {
  service: string;
  latency:
    | { fixedMs: number }
    | { uniformMs: [number, number] }
    | { normalMs: { mean: number; stddev: number } }
    | null;
  errorRate: number;
  failNext: number;
  failNextAfterWork: number;
  timeoutRate: number;
  hangMs: number;
  down: boolean;
}

export interface DeadLetter {
  group: string;
  event_id: string;
  type: string;
  reason: string;
  attempts: number;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  dead_lettered_at: string;
  event: { subject?: string; data?: Record<string, unknown> } | null;
  body: string | null;
}

export type Mode = 'async' | 'sync';

/** One payment made from this page. */
export interface PaymentRun {
  /** The payment id, or a local id when the request failed before one was given. */
  id: string;
  mode: Mode;
  status: number;
  paymentStatus: string;
  ms: number;
  card: string;
  amount: number;
  currency: string;
  at: number;
  error?: string;
}

export const TEST_CARDS = [
  { number: '4242424242424242', label: '4242 4242 4242 4242: approved' },
  { number: '4000000000000002', label: '4000 0000 0000 0002: declined (card_declined)' },
  { number: '4000000000009995', label: '4000 0000 0000 9995: insufficient funds' },
  { number: '4000000000000119', label: '4000 0000 0000 0119: processing error' },
] as const;

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}
