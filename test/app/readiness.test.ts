import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '@syncopate/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODULES } from '../../src/app/modules.js';
import { PaymentSucceeded } from '../../src/contracts/payment-events.js';
import type { Service, ServiceModule } from '../../src/platform/service.js';
import { gatewayModule } from '../../src/services/gateway/gateway-service.js';
import { paymentsModule } from '../../src/services/payments/index.js';
import { sample, scrape } from '../support/metrics.js';
import { paymentBody, startTestSystem, type TestSystem } from '../support/system.js';
import { delay, waitFor } from '../support/wait.js';

interface Readiness {
  status: number;
  checks: Record<string, boolean>;
}

const readiness = async (t: TestSystem): Promise<Readiness> => {
  const response = await fetch(`${t.url}/readyz`);
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, boolean> }).checks };
};

/** Every check passes but the named ones. */
const onlyFailing = (checks: Record<string, boolean>) =>
  Object.entries(checks)
    .filter(([, passed]) => !passed)
    .map(([name]) => name);

describe('readiness names what is not ready: a database, a subscription', () => {
  let t: TestSystem;
  let email: Service | undefined;
  let ledger: SqlDatabase | undefined;
  // The real email service, kept at hand so the test can stop it while the rest runs on.
  const modules: ServiceModule[] = ALL_MODULES.map((module) =>
    module.name === 'email'
      ? {
          ...module,
          create: async (context) => {
            email = await module.create(context);
            return email;
          },
        }
      : module,
  );
  // A service with a database of its own and nothing else: a transaction the test holds open keeps
  // its one connection busy, as a stuck query would.
  const ledgerModule: ServiceModule = {
    name: 'ledger',
    groups: [],
    create: async (context) => {
      ledger = await context.database(['CREATE TABLE entries (id TEXT PRIMARY KEY)']);
      return { name: 'ledger' };
    },
  };

  beforeAll(async () => {
    t = await startTestSystem({ modules: [...modules, ledgerModule] });
  });
  afterAll(() => t?.stop());

  it('is ready when the databases and the transport answer and every consumer is subscribed', async () => {
    const ready = await readiness(t);
    expect(ready.status).toBe(200);
    expect(ready.checks).toMatchObject({ databases: true, transport: true, 'email.subscribed': true });
    expect(onlyFailing(ready.checks)).toEqual([]);
  });

  it('answers 503 naming the databases when one does not answer within the bound, and 200 once it does', async () => {
    let release = () => {};
    let holding = () => {};
    const holds = new Promise<void>((resolve) => {
      holding = resolve;
    });
    const held = ledger?.transaction(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
          holding();
        }),
    );
    await holds;
    try {
      // The probe does not hang with the database: it answers, after its bound (2 s), that it is
      // not ready. (Waited for far longer than the bound, so that a probe that hangs fails here.)
      const stuck = await Promise.race([
        readiness(t),
        delay(30_000).then(() => Promise.reject(new Error('the probe did not answer while the database hung'))),
      ]);
      expect(stuck.status).toBe(503);
      expect(onlyFailing(stuck.checks)).toEqual(['databases']);
    } finally {
      release();
      await held;
    }
    expect((await readiness(t)).status).toBe(200);
  });

  it('answers 503 naming a consumer that is not subscribed, and its group’s lag grows while no one consumes it', async () => {
    await email?.stop?.(1_000);
    const notReady = await readiness(t);
    expect(notReady.status).toBe(503);
    expect(onlyFailing(notReady.checks)).toEqual(['email.subscribed']);

    // A receipt waits for the email group, and the age of the oldest waiting message grows.
    const lag = async () =>
      sample(await scrape(t.url), 'syncopate_queue_oldest_waiting_age_seconds{group="email"}') ?? Number.NaN;
    expect(await lag()).toBe(0);
    const paid = await t.api('POST', '/v1/payments', { body: paymentBody(), idempotencyKey: randomUUID() });
    expect(paid.status).toBe(201);
    const first = await waitFor('a receipt waiting', async () => {
      const seconds = await lag();
      return seconds > 0 ? seconds : undefined;
    });
    await waitFor('its age to grow', async () => (await lag()) > first);

    // A consumer of the group takes it: nothing waits any more.
    const taken: string[] = [];
    const subscription = await t.system.transport.subscribe({
      group: 'email',
      events: [PaymentSucceeded],
      handler: ({ event }) => void taken.push(event.subject ?? ''),
    });
    await waitFor('the receipt taken', () => taken.includes(paid.body.id));
    await waitFor('no lag', async () => (await lag()) === 0);
    await subscription.close();
  });
});

describe('readiness names a stopped outbox relay', () => {
  let t: TestSystem;
  beforeAll(async () => {
    // With a transport elsewhere than its database, payments keeps an outbox table and a relay.
    t = await startTestSystem({ modules: [gatewayModule, paymentsModule], env: { TRANSPORT_URL: 'memory:' } });
  });
  afterAll(() => t?.stop());

  it('answers 503 naming outbox_relays once the relay has stopped', async () => {
    const ready = await readiness(t);
    expect(ready.status).toBe(200);
    expect(ready.checks.outbox_relays).toBe(true);
    await t.system.resources.stopRelays();
    const stopped = await readiness(t);
    expect(stopped.status).toBe(503);
    expect(onlyFailing(stopped.checks)).toEqual(['outbox_relays']);
  });
});
