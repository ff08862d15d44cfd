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
  /** The payment gateway's base URL; unset in one process, where it is the process's own server. */
  GATEWAY_URL: httpUrl.optional(),
  /** The secret payments presents to the gateway. */
  GATEWAY_KEY: secret.default('gw_local_development_key'),
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
  /** Base URLs of services in other processes, as JSON: {"email":"http://127.0.0.1:3002"}; default this process. */
  SERVICE_URLS: json.pipe(z.record(z.string(), httpUrl)).default({}),
  /** The secret services present to each other's internal endpoints. */
  INTERNAL_KEY: secret.default('internal_local_development_key'),
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
