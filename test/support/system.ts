import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '@syncopate/messaging';
import { type RunningSystem, startSystem } from '../../src/app/system.js';
import { paymentEvents } from '../../src/contracts/payment-events.js';
import { loadConfig } from '../../src/platform/config.js';
import type { FaultSettingsInput } from '../../src/platform/faults.js';
import { createLogger } from '../../src/platform/logger.js';
import type { ServiceModule } from '../../src/platform/service.js';

export const TEST_API_KEY = 'sk_test_first_account_key_0001';
export const TEST_ADMIN_KEY = 'sk_admin_test_key_000000000001';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestSystem {
  system: RunningSystem;
  url: string;
  dataDir: string;
  /** Every event the `audit` group received, in arrival order. */
  audit: Envelope[];
  api<T = any>(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      key?: string | null;
      idempotencyKey?: string;
      headers?: Record<string, string>;
      rawBody?: string;
    },
  ): Promise<ApiResponse<T>>;
  setFaults(service: string, settings: FaultSettingsInput): Promise<void>;
  stop(): Promise<void>;
}

/** An `audit` group that records every payment event: proof of what was published, in tests. */
function auditModule(audit: Envelope[]): ServiceModule {
  return {
    name: 'audit',
    groups: [{ group: 'audit', events: paymentEvents }],
    create: ({ transport }) => {
      let subscription: Awaited<ReturnType<typeof transport.subscribe>> | undefined;
      return {
        name: 'audit',
        async start() {
          subscription = await transport.subscribe({
            group: 'audit',
            events: paymentEvents,
            handler: ({ event }) => void audit.push(event),
          });
        },
        async stop(deadlineMs) {
          await subscription?.close({ deadlineMs });
        },
      };
    },
  };
}

/** Starts the given services in this process on a random port, with a fresh DATA_DIR and known keys. */
export async function startTestSystem(options: {
  modules: readonly ServiceModule[];
  env?: Record<string, string>;
  faults?: Record<string, FaultSettingsInput>;
}): Promise<TestSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'syncopate-system-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    API_KEY: TEST_API_KEY,
    ADMIN_KEY: TEST_ADMIN_KEY,
    RECONCILE_INTERVAL_MS: '100',
    ...options.env,
  });
  const audit: Envelope[] = [];
  const modules = [...options.modules, auditModule(audit)];
  const system = await startSystem({
    config,
    logger: createLogger({ level: 'silent' }),
    services: modules,
    topology: modules,
    faults: options.faults,
  });
  const api: TestSystem['api'] = async (method, path, request = {}) => {
    const headers: Record<string, string> = { ...request.headers };
    const key = request.key === undefined ? TEST_API_KEY : request.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
    let body: string | undefined = request.rawBody;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
    }
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${system.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a CSV, an HTML page): the text itself.
    }
    return { status: response.status, headers: response.headers, body: parsed as any };
  };
  return {
    system,
    url: system.url,
    dataDir,
    audit,
    api,
    async setFaults(service, settings) {
      const response = await api('PUT', `/v1/admin/faults/${service}`, { body: settings, key: TEST_ADMIN_KEY });
      if (response.status !== 200) throw new Error(`setting faults failed: ${JSON.stringify(response.body)}`);
    },
    stop: () => system.stop(2_000),
  };
}

/** A valid payment body; override what a test is about. */
export function paymentBody(overrides: Record<string, unknown> = {}) {
  return {
    amount: 1999,
    currency: 'usd',
    card: { number: '4242424242424242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, cvc: '123' },
    customer: { email: 'ada@example.com' },
    description: 'Order #1',
    ...overrides,
  };
}
