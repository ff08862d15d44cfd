import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('runs as the package’s `syncopate` command (what npx runs), with plain node', async () => {
    const { bin } = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: { syncopate: string } };
    // The built CLI (npm install builds it), not the sources the other tests run.
    const env = { ...process.env, NODE_OPTIONS: '' };
    const { stdout } = await run(process.execPath, [bin.syncopate, '--help'], { timeout: 60_000, env });
    expect(stdout).toContain('Usage: syncopate');
  });

  it('pays in bulk and prints latency percentiles and status counts', async () => {
    const { stdout } = await cli(['pay', '--url', t.url, '--key', TEST_API_KEY, '--count', '40', '--concurrency', '4']);
    expect(stdout).toMatch(/latency ms: p50 \d+/);
    expect(stdout).toContain('statuses: 201: 40');
    // The rate is the count over the time to the last answer (autocannon's own rounds up to whole seconds).
    const sent = /payments sent: 40 in (\d+\.\d\d) s \((\d+) per second\)/.exec(stdout);
    expect(sent).not.toBeNull();
    const [seconds, rate] = [Number(sent?.[1]), Number(sent?.[2])];
    expect(Math.abs(rate - 40 / seconds)).toBeLessThanOrEqual(1 + (40 / seconds) * 0.02); // the seconds are rounded
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

  it('starts a cluster with the keys set in the environment, and stops it on Ctrl-C', async () => {
    const apiKey = 'sk_test_cluster_key_from_env_0001';
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'cluster',
        '--port',
        '0',
        '--email',
        '1',
        '--analytics',
        '0',
        '--reports',
        '0',
        '--notifications',
        '0',
      ],
      {
        env: { ...process.env, API_KEY: apiKey, DATA_DIR: mkdtempSync(join(tmpdir(), 'syncopate-cluster-cli-')) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Whatever fails below, the launcher is told to stop, so it takes its service processes with it.
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    };
    try {
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Press Ctrl-C')) resolve();
        });
        void exited.then((code) => reject(new Error(`cluster exited with ${code}: ${stdout}`)));
      });
      expect(stdout).toContain(`API key: ${apiKey}`);
      const url = /payments API at (http:\/\/[\d.:]+)/.exec(stdout)?.[1];
      const answer = await fetch(`${url}/v1/payments?limit=1`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect(answer.status).toBe(200);
      expect(await stop()).toBe(0);
    } finally {
      await stop();
    }
  }, 60_000);
});
