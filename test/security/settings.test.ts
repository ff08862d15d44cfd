import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';

/** Every limit issue 20 added is a setting: a default, bounds, and a refusal that names the variable. */
describe('the limits are validated settings with defaults', () => {
  it('has the documented defaults, and no default for a secret', () => {
    const config = loadConfig({});
    expect({
      INTERNAL_HOST: config.INTERNAL_HOST,
      INTERNAL_PORT: config.INTERNAL_PORT,
      RATE_LIMIT_MAX: config.RATE_LIMIT_MAX,
      RATE_LIMIT_WINDOW_MS: config.RATE_LIMIT_WINDOW_MS,
      SSE_MAX_STREAMS_PER_KEY: config.SSE_MAX_STREAMS_PER_KEY,
      REPORTS_MAX_PER_ACCOUNT: config.REPORTS_MAX_PER_ACCOUNT,
      REPORTS_RETENTION_HOURS: config.REPORTS_RETENTION_HOURS,
      WEBHOOK_CONCURRENCY: config.WEBHOOK_CONCURRENCY,
      WEBHOOK_ENDPOINT_CONCURRENCY: config.WEBHOOK_ENDPOINT_CONCURRENCY,
      WEBHOOK_TIMEOUT_MS: config.WEBHOOK_TIMEOUT_MS,
      WEBHOOK_ALLOW_LOCAL: config.WEBHOOK_ALLOW_LOCAL,
      GATEWAY_KEY: config.GATEWAY_KEY,
      INTERNAL_KEY: config.INTERNAL_KEY,
    }).toEqual({
      INTERNAL_HOST: '127.0.0.1',
      INTERNAL_PORT: 0,
      RATE_LIMIT_MAX: 6_000,
      RATE_LIMIT_WINDOW_MS: 60_000,
      SSE_MAX_STREAMS_PER_KEY: 10,
      REPORTS_MAX_PER_ACCOUNT: 100,
      REPORTS_RETENTION_HOURS: 24,
      WEBHOOK_CONCURRENCY: 16,
      WEBHOOK_ENDPOINT_CONCURRENCY: 2,
      WEBHOOK_TIMEOUT_MS: 5_000,
      WEBHOOK_ALLOW_LOCAL: false,
      GATEWAY_KEY: undefined,
      INTERNAL_KEY: undefined,
    });
  });

  it('refuses a value out of bounds, naming the variable', () => {
    const refused: Record<string, string> = {
      RATE_LIMIT_MAX: '0',
      RATE_LIMIT_WINDOW_MS: '10',
      SSE_MAX_STREAMS_PER_KEY: 'many',
      REPORTS_MAX_PER_ACCOUNT: '0',
      REPORTS_RETENTION_HOURS: '0',
      WEBHOOK_CONCURRENCY: '1000',
      WEBHOOK_ENDPOINT_CONCURRENCY: '0',
      WEBHOOK_TIMEOUT_MS: '10',
      WEBHOOK_ALLOW_LOCAL: 'yes',
      INTERNAL_PORT: '70000',
    };
    for (const [name, value] of Object.entries(refused)) {
      expect(() => loadConfig({ [name]: value }), name).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value }), name).toThrow(new RegExp(`${name}:`));
    }
    expect(loadConfig({ WEBHOOK_ALLOW_LOCAL: 'true' }).WEBHOOK_ALLOW_LOCAL).toBe(true);
  });
});
