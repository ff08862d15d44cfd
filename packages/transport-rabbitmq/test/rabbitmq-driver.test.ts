/**
 * What the contract suite cannot see on RabbitMQ: recovery after the connection drops (provoked
 * by cutting this client's own socket, never by touching the shared broker), delays that take
 * several retry tiers, attempts across releases, and the URL's options.
 */

import {
  createTransport,
  type Delivery,
  type GroupQueue,
  InvalidTransportUrlError,
  type Transport,
  type TransportDriver,
  UnroutableEventError,
} from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { TestNamespaces } from '../../../test/support/rabbitmq-namespaces.js';
import { delay, waitFor } from '../../../test/support/wait.js';
import { parseRabbitMqUrl } from '../src/options.js';
import { openRabbitMqDriver, type RabbitMqDriver } from '../src/rabbitmq-driver.js';

const available = await requireServer('RabbitMQ', 5672);
const namespaces = new TestNamespaces('driver');

describe('rabbitmq URL', () => {
  it('takes prefix, window, heartbeat and reconnectWait, and passes the rest to amqplib', () => {
    const options = parseRabbitMqUrl('amqp://u:p@host:5673/vh?prefix=shop&window=50&frameMax=8192');
    expect(options).toMatchObject({ prefix: 'shop', window: 50, heartbeat: 10, reconnectWaitMs: 10_000 });
    expect(options.brokerUrl).toBe('amqp://u:p@host:5673/vh?frameMax=8192&heartbeat=10');
    expect(parseRabbitMqUrl('amqp://localhost').prefix).toBe('syncopate');
  });

  it('rejects bad options with a clear InvalidTransportUrlError', () => {
    expect(() => parseRabbitMqUrl('amqp://localhost?prefix=a b')).toThrow(InvalidTransportUrlError);
    expect(() => parseRabbitMqUrl('amqp://localhost?window=0')).toThrow(/window must be an integer from 1/);
    expect(() => parseRabbitMqUrl('amqp://localhost?heartbeat=x')).toThrow(/heartbeat/);
    expect(() => parseRabbitMqUrl('http://localhost')).toThrow(/amqp/);
  });
});

describe.skipIf(!available)('rabbitmq driver', () => {
  const drivers: TransportDriver[] = [];
  const transports: Transport[] = [];
  const driver = async (url = namespaces.url()) => {
    const opened = (await openRabbitMqDriver(url)) as RabbitMqDriver;
    drivers.push(opened);
    return opened;
  };
  const claimOne = async (queue: GroupQueue, timeoutMs = 10_000): Promise<Delivery> => {
    const [delivery] = await queue.claim(1, AbortSignal.timeout(timeoutMs));
    if (!delivery) throw new Error('nothing claimed');
    return delivery;
  };

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close({ deadlineMs: 500 }).catch(() => {})));
    await Promise.all(drivers.splice(0).map((d) => d.close().catch(() => {})));
  });
  afterAll(() => namespaces.cleanup());

  it('resumes publishing and consuming after its connection drops, and redelivers what was in flight', async () => {
    const d = await driver();
    const transport = createTransport(d);
    transports.push(transport);
    const seen: string[] = [];
    let holdFirst = true;
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: async ({ event, attempt }) => {
        seen.push(`${event.data.n}#${attempt}`);
        if (event.data.n === 1 && holdFirst) await delay(300); // in flight when the connection drops
      },
    });
    await transport.publish(happened(1));
    await waitFor('the first delivery', () => seen.length === 1);
    holdFirst = false;
    d.dropConnectionForTest();
    await delay(50); // amqplib notices the reset on the next tick
    // A publish while the connection is down waits for it to come back, then succeeds.
    await transport.publish(happened(2));
    await waitFor('the redelivery and the new event', () => seen.length === 3);
    expect(seen.sort()).toEqual(['1#1', '1#2', '2#1']);
  });

  it('a consumer whose connection drops gets its delivery back, and its stale ack changes nothing', async () => {
    const d = await driver();
    await d.declareGroup('g', [TestHappened.type]);
    await d.publish([happened(1)]);
    const queue = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 1_000 });
    const first = await claimOne(queue);
    expect(first.attempt).toBe(1);
    d.dropConnectionForTest();
    await queue.ack([first]); // its channel is gone: a no-op, not an error
    const again = await claimOne(queue);
    expect(again.eventId).toBe(first.eventId);
    expect(again.attempt).toBe(2);
    await queue.ack([again]);
    await queue.close();
  });

  it('rejects a publish whose confirms were lost with the connection, never reporting it stored', async () => {
    const d = await driver();
    await d.declareGroup('g', [TestHappened.type]);
    await d.publish([happened(0)]); // the routing check is done: the batch goes straight out
    const publishing = d.publish(Array.from({ length: 2_000 }, (_, n) => happened(n)));
    setImmediate(() => d.dropConnectionForTest());
    await expect(publishing).rejects.toThrow();
    // And the driver carries on once it is back.
    await d.publish([happened(1)]);
  });

  it('a delay longer than one tier takes several, and counts as one attempt', async () => {
    const d = await driver();
    await d.declareGroup('g', [TestHappened.type]);
    await d.publish([happened(1)]);
    const queue = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 1_000 });
    const first = await claimOne(queue);
    const retriedAt = Date.now();
    // 700 ms: 512 + 128 + 32 ms tiers, then due within 70 ms (10%).
    await queue.retry(first, 700, { error: 'boom', attempt: 1 });
    const again = await claimOne(queue);
    const waited = Date.now() - retriedAt;
    expect(waited).toBeGreaterThanOrEqual(630);
    expect(waited).toBeLessThan(2_000);
    expect(again.attempt).toBe(2);
    expect(again.firstAttemptAt.getTime()).toBe(first.firstAttemptAt.getTime());
    await queue.ack([again]);
    await queue.close();
  });

  it('a release that does not count keeps the attempt; one that counts adds it', async () => {
    const d = await driver();
    await d.declareGroup('g', [TestHappened.type]);
    await d.publish([happened(1)]);
    const queue = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 1_000 });
    const first = await claimOne(queue);
    await queue.release([first], { countAttempt: false });
    const second = await claimOne(queue);
    expect(second.attempt).toBe(1);
    await queue.release([second], { countAttempt: true });
    const third = await claimOne(queue);
    expect(third.attempt).toBe(2);
    await queue.release([third], { countAttempt: false });
    const fourth = await claimOne(queue);
    expect(fourth.attempt).toBe(2);
    await queue.ack([fourth]);
    await queue.close();
  });

  it('probes routing anew: a type rejected as unroutable is accepted once a group binds it', async () => {
    const d = await driver();
    await d.declareGroup('g', [TestHappened.type]);
    const stray = { ...happened(1), type: 'test.stray' };
    await expect(d.publish([stray])).rejects.toBeInstanceOf(UnroutableEventError);
    const other = await driver(); // another namespace: its bindings do not count here
    await other.declareGroup('g', ['test.stray']);
    await expect(d.publish([stray])).rejects.toBeInstanceOf(UnroutableEventError);
    await d.declareGroup('one', ['test.stray']);
    await d.publish([stray]);
    const queue = await d.openQueue({ group: 'one', eventTypes: ['test.stray'], leaseMs: 1_000 });
    expect((await claimOne(queue)).eventId).toBe(stray.id);
    await queue.close();
  });

  it('a closed queue gives back what arrived but was never claimed, uncounted', async () => {
    const url = namespaces.url();
    const d = await driver(url);
    await d.declareGroup('g', [TestHappened.type]);
    await d.publish([happened(1), happened(2), happened(3)]);
    const queue = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 1_000 });
    const [claimed] = await queue.claim(1, AbortSignal.timeout(5_000)); // prefetch 1: one arrives
    expect(claimed).toBeDefined();
    await queue.ack(claimed ? [claimed] : []);
    await delay(50);
    await queue.close();
    const next = await d.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 1_000 });
    const rest = await next.claim(2, AbortSignal.timeout(5_000)); // prefetch 2 from now on
    if (rest.length < 2) rest.push(await claimOne(next));
    expect(rest.map((r) => r.attempt)).toEqual([1, 1]);
    await next.ack(rest);
    await next.close();
  });
});
