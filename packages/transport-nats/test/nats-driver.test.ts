import { jetstreamManager } from '@nats-io/jetstream';
import {
  createEvent,
  createTransport,
  InvalidTransportUrlError,
  type Transport,
  UnroutableEventError,
} from '@syncopate/messaging';
import { happened, TestHappened, TestOther } from '@syncopate/messaging/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from '../../../test/support/nats-namespaces.js';
import { delay, waitFor } from '../../../test/support/wait.js';
import type { NatsGroupQueue } from '../src/group-queue.js';
import { type NatsDriver, openNatsDriver } from '../src/nats-driver.js';
import { parseNatsUrl } from '../src/nats-url.js';

const available = await requireServer('NATS', NATS_PORT);

describe('nats URL', () => {
  it('reads servers, credentials and the namespace, with defaults', () => {
    expect(parseNatsUrl('nats://127.0.0.1')).toEqual({
      servers: ['127.0.0.1:4222'],
      stream: 'SYNCOPATE',
      replicas: 1,
      maxAgeHours: 168,
    });
    expect(parseNatsUrl('nats://u:p%40ss@a:4223,b?stream=PAY-1&replicas=3')).toEqual({
      servers: ['a:4223', 'b:4222'],
      user: 'u',
      pass: 'p@ss',
      stream: 'PAY-1',
      replicas: 3,
      maxAgeHours: 168,
    });
    expect(parseNatsUrl('nats://s3cret@a:4222').token).toBe('s3cret');
  });

  it('rejects what would break stream or subject names, and unknown options', () => {
    for (const url of [
      'nats://a?stream=a.b',
      'nats://a?stream=a_b',
      'nats://a?replicas=0',
      'nats://a?maxAgeHours=0',
      'nats://a?strem=X',
      'nats://',
    ]) {
      expect(() => parseNatsUrl(url)).toThrow(InvalidTransportUrlError);
    }
  });
});

describe.skipIf(!available)('nats transport specifics', () => {
  const open: Transport[] = [];
  const connect = async (url: string) => {
    const driver = (await openNatsDriver(url)) as NatsDriver;
    const transport = createTransport(driver);
    open.push(transport);
    return { driver, transport };
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close({ deadlineMs: 1_000 }).catch(() => {})));
  });
  afterAll(deleteTestStreams);

  it('keeps consuming after the client is forced to reconnect', async () => {
    const { driver, transport } = await connect(freshNatsUrl());
    const received: number[] = [];
    await transport.subscribe({
      group: 'g',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.data.n),
    });
    await transport.publish(happened(1));
    await waitFor('the first event', () => received.length === 1);

    const reconnected = (async () => {
      for await (const status of driver.nc.status()) if (status.type === 'reconnect') return;
    })();
    await driver.nc.reconnect();
    await reconnected;
    await transport.publish([happened(2), happened(3)]);
    await waitFor('the events after the reconnect', () => received.length === 3, 15_000);
    expect(received.sort()).toEqual([1, 2, 3]);
  });

  it('sees a group declared by another process before calling an event unroutable', async () => {
    const url = freshNatsUrl();
    const { transport: publisher } = await connect(url);
    await expect(publisher.publish(happened(1))).rejects.toBeInstanceOf(UnroutableEventError);
    const { transport: consumer } = await connect(url);
    await consumer.declareGroup('late', [TestHappened.type]);
    await publisher.publish(happened(2)); // the publisher's cache said "unroutable"; the server says otherwise
    const received: number[] = [];
    await consumer.subscribe({
      group: 'late',
      events: [TestHappened],
      handler: ({ event }) => void received.push(event.data.n),
    });
    await waitFor('the event', () => received.length === 1);
    expect(received).toEqual([2]);
  });

  it('stores a re-published event once (publisher retry within the dedup window)', async () => {
    const { driver, transport } = await connect(freshNatsUrl());
    await transport.declareGroup('g', [TestHappened.type]);
    const event = happened(1);
    await transport.publish(event);
    await transport.publish(event);
    const jsm = await jetstreamManager(driver.nc);
    expect((await jsm.streams.info(driver.layout.stream)).state.messages).toBe(1);
  });

  it('keeps events for their age limit, each group consuming from its own position', async () => {
    const { driver, transport } = await connect(`${freshNatsUrl()}&maxAgeHours=2`);
    const jsm = await jetstreamManager(driver.nc);
    const info = await jsm.streams.info(driver.layout.stream);
    expect(info.config.retention).toBe('limits');
    expect(info.config.max_age).toBe(2 * 3_600 * 1_000_000_000);
    const seen: Record<string, number> = { a: 0, b: 0 };
    for (const group of ['a', 'b']) {
      await transport.subscribe({
        group,
        events: [TestHappened],
        handler: () => {
          seen[group] = (seen[group] ?? 0) + 1;
        },
      });
    }
    await transport.publish(Array.from({ length: 10 }, (_, n) => happened(n)));
    await waitFor('both groups', () => seen.a === 10 && seen.b === 10);
    expect((await jsm.streams.info(driver.layout.stream)).state.messages).toBe(10);
  });

  it('a settle after the lease was lost does not touch the newer delivery', async () => {
    const url = freshNatsUrl();
    const { driver } = await connect(url);
    await driver.declareGroup('g', [TestHappened.type]);
    const queue = await driver.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 300 });
    await driver.publish([happened(1)]);
    const [first] = await queue.claim(1, new AbortController().signal);
    expect(first?.attempt).toBe(1);
    await delay(700); // the lease lapses without extension: the server redelivers
    const [second] = await queue.claim(1, new AbortController().signal);
    expect(second?.eventId).toBe(first?.eventId);
    expect(second?.attempt).toBe(2);
    // The stale delivery's dead-letter is refused: nothing is stored and the newer delivery still holds the message.
    await queue.deadLetter(first as NonNullable<typeof first>, 'stale');
    expect(await driver.deadLetters.count('g')).toBe(0);
    await queue.ack([second as NonNullable<typeof second>]);
    await queue.close();
  });

  it('a message delivered but not yet claimed when its lease lapsed is not handed out: the server may have given it to another member', async () => {
    const { driver } = await connect(freshNatsUrl());
    const types = [TestHappened.type, TestOther.type];
    await driver.declareGroup('g', types);
    const queue = await driver.openQueue({ group: 'g', eventTypes: types, leaseMs: 1_000 });
    const events = [happened(1), createEvent(TestOther, { label: 'x' }, { source: 'urn:syncopate:test' })];
    await driver.publish(events);
    // One free slot, but each event type has a consumer of its own: both answer, one event waits in the queue's buffer.
    const [claimed] = await queue.claim(1, new AbortController().signal);
    expect(claimed?.attempt).toBe(1);
    await waitFor('the other event delivered into the buffer', () => (queue as NatsGroupQueue).held().length === 2);
    // The process stops past the lease (as under SIGSTOP or a long pause): JetStream redelivers both to whoever asks.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_500);
    // Running again, the runner's lease timer fires first: it must not revive the lapsed buffered delivery.
    await queue.extendLeases([claimed as NonNullable<typeof claimed>]);
    const seen = [];
    for (let i = 0; i < 2; i++) seen.push(...(await queue.claim(1, new AbortController().signal)));
    // Only redeliveries: the lapsed copy from before the stop (attempt 1) is not among them.
    expect(seen.map((delivery) => delivery.eventId).sort()).toEqual(events.map((event) => event.id).sort());
    for (const delivery of seen) expect(delivery.attempt).toBeGreaterThan(1);
    await queue.ack(seen);
    await queue.close();
  });
});
