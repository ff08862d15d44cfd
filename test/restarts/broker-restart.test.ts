import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/app/cluster.js';
import { requireServer, runningInCi } from '../support/availability.js';
import { payMany, receiptsByCustomer } from '../support/pay-many.js';
import { POSTGRES_PORT } from '../support/postgres.js';
import { RABBITMQ_PORT } from '../support/rabbitmq-namespaces.js';
import { createTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { waitFor } from '../support/wait.js';
import { nats, postgres, type RestartableServer, rabbitmq, redisWithAof } from './servers.js';

/**
 * These tests stop and start brokers, so they run on their own, after the main suite
 * (vitest.restarts.config.ts): nothing else is using the servers meanwhile.
 */
const PAYMENTS = 400;

/**
 * Restarting the machine's PostgreSQL, RabbitMQ and NATS is for CI machines (CI=true or 1) or when asked
 * (SYNCOPATE_RESTART_BROKERS=1): on a developer's laptop `npm test` must not stop their servers.
 */
const allowed = runningInCi() || process.env.SYNCOPATE_RESTART_BROKERS === '1';
if (!allowed) console.warn('skipping the broker-restart tests: set CI=true or SYNCOPATE_RESTART_BROKERS=1 to run them');

const servers: (() => Promise<RestartableServer | undefined>)[] = [
  async () => ((await requireServer('PostgreSQL', POSTGRES_PORT)) ? postgres() : undefined),
  async () => ((await requireServer('RabbitMQ', RABBITMQ_PORT)) ? rabbitmq() : undefined),
  async () => ((await requireServer('NATS', 4222)) ? nats() : undefined),
  async () => redisWithAof(),
];
const available = allowed
  ? (await Promise.all(servers.map((open) => open()))).filter((s): s is RestartableServer => !!s)
  : [];

describe.each(available.map((server) => [server.name, server] as const))(
  'the broker restarted mid-run: %s',
  (_name, server) => {
    let smtp: TestSmtpServer;
    let cluster: Cluster | undefined;
    afterAll(async () => {
      await cluster?.stop();
      await smtp?.stop();
      await server.dispose();
    });

    it('payments are answered while the broker is down (their events wait in the outbox), and every confirmed payment gets its receipt once it is back', async () => {
      smtp = createTestSmtpServer();
      await smtp.start();
      cluster = await startCluster({
        port: 0,
        processes: { gateway: 1, payments: 1, email: 1 },
        env: {
          DATA_DIR: mkdtempSync(join(tmpdir(), 'syncopate-restart-')),
          TRANSPORT_URL: server.transportUrl(),
          SMTP_URL: smtp.url,
          // Payments answer 201 however slowly the gateway's process answers on a busy machine.
          GATEWAY_TIMEOUT_MS: '30000',
          LOG_LEVEL: process.env.RESTART_LOG_LEVEL ?? 'error',
          API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
        },
        output: process.env.RESTART_LOG_LEVEL ? (line) => console.log(line) : () => {},
      });
      // A quarter of the way in, the load pauses until the broker is down; the next quarter is sent
      // and answered while it is down (only then is it started again, the load paused meanwhile).
      const run: { phase: 'before' | 'stopping' | 'down' | 'starting' | 'back'; answeredWhileDown: number } = {
        phase: 'before',
        answeredWhileDown: 0,
      };
      const load = payMany({
        url: cluster.url,
        apiKey: cluster.apiKey,
        count: PAYMENTS,
        concurrency: 4,
        keyPrefix: 'restart',
        onSent: (sent, status) => {
          if (run.phase === 'before' && sent >= PAYMENTS / 4) {
            run.phase = 'stopping';
            return server.stop().then(() => {
              run.phase = 'down';
            });
          }
          if (run.phase !== 'down') return;
          if (status === 201) run.answeredWhileDown += 1;
          if (run.answeredWhileDown < PAYMENTS / 4) return;
          run.phase = 'starting';
          return server.start().then(() => {
            run.phase = 'back';
          });
        },
      });
      const statuses = await load.finally(async () => {
        // Whatever failed, the machine's broker does not stay down.
        if (run.phase !== 'before' && run.phase !== 'back') await server.start();
      });
      expect(run.phase).toBe('back');
      expect(run.answeredWhileDown).toBe(PAYMENTS / 4);
      // The critical path never touched the broker: the payment and its event commit to the
      // service's own database, and the relay publishes when the broker answers again.
      expect(statuses.filter((s) => s === 201)).toHaveLength(PAYMENTS);
      await waitFor(
        'a receipt for every payment',
        () => {
          if (process.env.RESTART_LOG_LEVEL) console.log('receipts', receiptsByCustomer(smtp).size);
          return receiptsByCustomer(smtp).size >= PAYMENTS;
        },
        120_000,
      );
      const lost = Array.from({ length: PAYMENTS }, (_, n) => `customer-${n}@example.com`).filter(
        (to) => !receiptsByCustomer(smtp).has(to),
      );
      expect(lost).toEqual([]);
      expect([...receiptsByCustomer(smtp).values()].filter((ids) => ids.size > 1)).toEqual([]);
    }, 300_000);
  },
);
