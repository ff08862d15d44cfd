import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';

describe('configuration from the environment', () => {
  it('has safe defaults: port 3000, the embedded queue under DATA_DIR', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/somewhere' });
    expect(config.PORT).toBe(3000);
    expect(config.TRANSPORT_URL).toBe('sqlite:/tmp/somewhere/syncopate.db');
    expect(config.GATEWAY_URL).toBeUndefined();
    expect(config.FAULTS).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ API_KEY: 'short' })).toThrow(/API_KEY: must be at least 16 characters/);
    expect(() => loadConfig({ SMTP_URL: 'http://mail' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ FAULTS: '{not json' })).toThrow(/FAULTS: must be JSON/);
    expect(() => loadConfig({ FAULTS: '{"gateway":{"errorRate":2}}' })).toThrow(/FAULTS\.gateway\.errorRate/);
  });

  it('reads fault knobs at start', () => {
    const config = loadConfig({ FAULTS: '{"gateway":{"latency":{"fixedMs":100}},"email":{"down":true}}' });
    expect(config.FAULTS).toEqual({ gateway: { latency: { fixedMs: 100 } }, email: { down: true } });
  });
});
