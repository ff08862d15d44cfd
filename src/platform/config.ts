import { resolve } from 'node:path';
import { formatZodError } from '@syncopate/messaging';
import { z } from 'zod';
import { faultSettingsSchema } from './faults.js';

/**
 * Every setting comes from an environment variable with a safe default (12-factor), is validated
 * once at start, and a bad one stops the process with a message naming the variable.
 */
const secret = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const httpUrl = z.url({ protocol: /^https?$/ });
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const count = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const json = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * The internal listener: the routes only the system's own processes call (the gateway simulator,
   * sync mode's effect endpoints). Loopback by default; port 0 picks a free one, announced at start.
   */
  INTERNAL_HOST: z.string().min(1).default('127.0.0.1'),
  INTERNAL_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  DATA_DIR: z.string().min(1).default('./data'),
  /**
   * The services' databases: unset, each service keeps a SQLite file of its own in DATA_DIR;
   * postgres://…, each service keeps its tables in a schema of its own in that database (named
   * after the service; `?schema_prefix=x_` prefixes them, to keep installations apart).
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (or unset for SQLite files)')
    .optional(),
  /** Where events travel; defaults to the embedded SQLite queue in DATA_DIR. */
  TRANSPORT_URL: z.string().min(1).optional(),
  /** The API key clients present; when unset, one is generated at first start and printed. */
  API_KEY: secret.optional(),
  /** Protects the fault-injection and dead-letter admin endpoints; generated and printed when unset. */
  ADMIN_KEY: secret.optional(),
  /** The gateway's internal listener; unset when the gateway runs in this process. */
  GATEWAY_URL: httpUrl.optional(),
  /** The secret payments presents to the gateway; unset, one is generated at first start and kept in DATA_DIR. */
  GATEWAY_KEY: secret.optional(),
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** How long the gateway circuit breaker stays open before it lets one call through. */
  GATEWAY_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** smtp://user:pass@host:port; when unset, receipts are written as .eml files under DATA_DIR/mail. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  EMAIL_FROM: z.string().min(3).default('Syncopate Receipts <receipts@syncopate.local>'),
  /** Receipts one email process sends at once (and its SMTP connections). */
  EMAIL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Deliveries of a receipt before it goes to the dead-letter queue. */
  EMAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  /** The longest pause between two attempts of a receipt (full jitter below it). */
  EMAIL_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  /** How long a claimed receipt stays another email process's: after a crash, it is sent by another after this. */
  EMAIL_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How often the payments reconciler looks for payments left `processing` by a gateway timeout. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(2_000),
  /**
   * How payments does its side effects: `async` (the default: an event on the queue, handled later)
   * or `sync` (calling email, analytics and notifications over HTTP before it answers: the design
   * the lab measures against).
   */
  SIDE_EFFECTS: z.enum(['async', 'sync']).default('async'),
  /** In sync mode, the services called, in order. */
  SYNC_EFFECTS: z
    .string()
    .default('email,analytics,notifications')
    .transform((list) =>
      list
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(['email', 'analytics', 'notifications', 'reports']))
        .min(1)
        .max(4),
    ),
  /** In sync mode, each call's timeout. */
  SYNC_EFFECT_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** Internal listeners of services in other processes, as JSON: {"email":"http://127.0.0.1:4002"}; default this process. */
  SERVICE_URLS: json.pipe(z.record(z.string(), httpUrl)).default({}),
  /** The secret services present to each other's internal endpoints; unset, generated at first start and kept in DATA_DIR. */
  INTERNAL_KEY: secret.optional(),
  /**
   * Requests one API key (or, without a live key, one client address) may make per window; past
   * it, 429 until the window ends. By default 6,000 a minute: 100 a second on average, in bursts.
   */
  RATE_LIMIT_MAX: count(1, 10_000_000, 6_000),
  RATE_LIMIT_WINDOW_MS: count(100, 3_600_000, 60_000),
  /** Server-Sent Events streams one key may hold open at once, per stream route and process. */
  SSE_MAX_STREAMS_PER_KEY: count(1, 1_000, 10),
  /** Reports an account may hold (pending, ready or failed) before it is refused another. */
  REPORTS_MAX_PER_ACCOUNT: count(1, 100_000, 100),
  /** How long a report (and its CSV) is kept after it was asked for. */
  REPORTS_RETENTION_HOURS: count(1, 24 * 366, 24),
  /** Webhook events handled at once by one notifications process. */
  WEBHOOK_CONCURRENCY: count(1, 256, 16),
  /**
   * Requests in flight to one webhook endpoint; an event finding its endpoint this busy is retried
   * later, so a slow endpoint holds at most this many of the consumer's slots.
   */
  WEBHOOK_ENDPOINT_CONCURRENCY: count(1, 64, 2),
  /** How long a merchant's endpoint has to answer a webhook. */
  WEBHOOK_TIMEOUT_MS: count(100, 60_000, 5_000),
  /**
   * Development and tests only: webhook URLs may be http:// and point at loopback and private
   * addresses (a receiver on this machine). Off, only https:// URLs on public addresses are taken.
   */
  WEBHOOK_ALLOW_LOCAL: flag.default(false),
  /** A sync-mode system's base URL (same API_KEY): the dashboard then pays in either mode, to compare. */
  SYNC_SYSTEM_URL: httpUrl.optional(),
  /** Where the dashboard finds the latest lab report (lab-report.json, lab-report.html). */
  LAB_REPORT_DIR: z.string().min(1).default('./lab-report'),
  /** Fault knobs at start, per service, as JSON: {"gateway":{"latency":{"fixedMs":100}},"email":{"down":true}}. */
  FAULTS: json.pipe(z.record(z.string(), faultSettingsSchema)).optional(),
});

export type Config = Omit<z.output<typeof envSchema>, 'TRANSPORT_URL'> & {
  TRANSPORT_URL: string;
  /** DATA_DIR made absolute. */
  dataDir: string;
};

export class ConfigError extends Error {
  readonly code = 'invalid_configuration';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(Object.keys(envSchema.shape).map((name) => [name, emptyToUndefined(env[name])]));
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${formatZodError(parsed.error)}`);
  const values = parsed.data;
  const dataDir = resolve(values.DATA_DIR);
  return {
    ...values,
    dataDir,
    TRANSPORT_URL: values.TRANSPORT_URL ?? `sqlite:${resolve(dataDir, 'syncopate.db')}`,
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
