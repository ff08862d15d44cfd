import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayModule } from '../../src/services/gateway/gateway-service.js';
import { paymentsModule } from '../../src/services/payments/index.js';
import { startTestSystem, TEST_API_KEY, type TestSystem } from '../support/system.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

describe('the syncopate CLI', () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({ modules: [gatewayModule, paymentsModule] });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('explains itself with --help', async () => {
    const { stdout } = await cli(['--help']);
    for (const command of ['start', 'serve', 'pay', 'keys']) expect(stdout).toContain(command);
  });

  it('pays in bulk and prints latency percentiles and status counts', async () => {
    const { stdout } = await cli(['pay', '--url', t.url, '--key', TEST_API_KEY, '--count', '40', '--concurrency', '4']);
    expect(stdout).toMatch(/latency ms: p50 \d+/);
    expect(stdout).toContain('statuses: 201: 40');
    const list = await t.api('GET', '/v1/payments?limit=100');
    expect(list.body.data.filter((p: { description: string }) => p.description === 'syncopate pay')).toHaveLength(40);
  });

  it('counts declines as declines', async () => {
    const { stdout } = await cli([
      'pay',
      '--url',
      t.url,
      '--key',
      TEST_API_KEY,
      '--count',
      '5',
      '--card',
      '4000000000000002',
    ]);
    expect(stdout).toContain('statuses: 402: 5');
  });

  it('refuses to start with a bad setting, naming it', async () => {
    await expect(cli(['serve', 'gateway'], { PORT: 'eighty' })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('PORT'),
    });
  });

  it('refuses an unknown service name', async () => {
    await expect(cli(['serve', 'mailroom'])).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown service "mailroom"'),
    });
  });
});
