/**
 * What the Redis transport does beyond the shared contract, proved against the real server:
 * its streams do not keep finished work, a lapsed delivery cannot settle the newer one, a
 * dropped connection resumes, and its URL options say what they do.
 */

import {
  type Delivery,
  type GroupQueue,
  InvalidTransportUrlError,
  type TransportDriver,
  UnroutableEventError,
} from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { REDIS_PORT, redisNamespaces } from '../../../test/support/redis-namespaces.js';
import { delay, waitFor } from '../../../test/support/wait.js';
import type { RedisGroupQueue } from '../src/group-queue.js';
import { namespaceKeys } from '../src/keys.js';
import { openRedisDriver, ReplicationTimeoutError } from '../src/redis-driver.js';

const available = await requireServer('Redis', REDIS_PORT);
const namespaces = redisNamespaces('driver');

describe.skipIf(!available)('redis transport specifics', () => {
  let inspect: Redis;
  const drivers: TransportDriver[] = [];
  const queues: GroupQueue[] = [];

  const open = async (options: { lease?: number } = {}) => {
    const { url, prefix } = namespaces.fresh();
    const driver = await openRedisDriver(url);
    drivers.push(driver);
    await driver.declareGroup('g', [TestHappened.type]);
    const keys = namespaceKeys(prefix);
    const queue = async (leaseMs = options.lease ?? 30_000) => {
      const q = await driver.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs });
      queues.push(q);
      return q as RedisGroupQueue;
    };
    return { url, driver, keys, stream: keys.stream('g'), queue };
  };
  const claimOne = async (queue: GroupQueue) => {
    const [delivery] = await queue.claim(1, AbortSignal.timeout(5_000));
    if (!delivery) throw new Error('nothing claimed');
    return delivery;
  };
  const pending = async (stream: string) =>
    (await inspect.call('XPENDING', [stream, 'g', '-', '+', 10])) as [string, string, number, number][];

  beforeAll(() => {
    inspect = new Redis(REDIS_PORT, '127.0.0.1');
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await Promise.all(drivers.splice(0).map((d) => d.close()));
  });
  afterAll(async () => {
    inspect?.disconnect();
    await namespaces.cleanUp();
  });

  it('an unroutable batch writes nothing to any stream', async () => {
    const { driver, stream } = await open();
    const stray = { ...happened(2), type: 'test.stray' };
    await expect(driver.publish([happened(1), stray])).rejects.toBeInstanceOf(UnroutableEventError);
    expect(await inspect.call('XLEN', [stream])).toBe(0);
  });

  it('deletes what a group finished: acknowledged, retried and dead-lettered entries leave its stream', async () => {
    const { driver, keys, stream, queue } = await open();
    const q = await queue();
    await driver.publish(Array.from({ length: 30 }, (_, n) => happened(n)));
    const claimed: Delivery[] = [];
    while (claimed.length < 30) claimed.push(...(await q.claim(30 - claimed.length, AbortSignal.timeout(5_000))));
    await q.ack(claimed.slice(0, 28));
    await q.retry(claimed[28] as Delivery, 50, { error: 'later', attempt: 1 });
    await q.deadLetter(claimed[29] as Delivery, 'poison');
    expect(await inspect.call('XLEN', [stream])).toBe(0);
    expect(await pending(stream)).toEqual([]);
    expect(await inspect.call('ZCARD', [keys.delayed('g')])).toBe(1);

    const again = await claimOne(q);
    expect(again.attempt).toBe(2);
    expect(again.firstAttemptAt).toEqual(claimed[28]?.firstAttemptAt);
    await q.ack([again]);
    expect(await inspect.call('XLEN', [stream])).toBe(0);
    expect(await inspect.call('ZCARD', [keys.delayed('g')])).toBe(0);
    expect(await driver.deadLetters.count('g')).toBe(1);
  });

  it('a delivery whose lease lapsed cannot ack, extend, retry or dead-letter the newer delivery', async () => {
    const { driver, stream, queue } = await open({ lease: 100 });
    const [a, b] = [await queue(), await queue()];
    await driver.publish([happened(1)]);
    const stale = await claimOne(a);
    await delay(250);
    const fresh = await claimOne(b);
    expect(fresh.eventId).toBe(stale.eventId);
    expect(fresh.attempt).toBe(2);

    await a.ack([stale]);
    await a.extendLeases([stale]);
    await a.retry(stale, 0, { error: 'x', attempt: 1 });
    await a.deadLetter(stale, 'stale');
    await a.release([stale], { countAttempt: false });
    const [entry] = await pending(stream);
    expect(entry?.[1]).toBe(b.consumer);
    expect(entry?.[3]).toBe(2);
    expect(await inspect.call('XLEN', [stream])).toBe(1);
    expect(await driver.deadLetters.count('g')).toBe(0);

    await b.ack([fresh]);
    expect(await inspect.call('XLEN', [stream])).toBe(0);
  });

  it('a release that does not count the attempt hands the message out with the same attempt', async () => {
    const { driver, queue } = await open();
    const q = await queue();
    await driver.publish([happened(1)]);
    const first = await claimOne(q);
    await q.release([first], { countAttempt: false });
    const second = await claimOne(q);
    expect(second.attempt).toBe(1);
    await q.release([second], { countAttempt: true });
    const third = await claimOne(q);
    expect(third.attempt).toBe(2);
    expect(third.firstAttemptAt).toEqual(second.firstAttemptAt);
  });

  it('an aborted claim returns at once, not at the end of its BLOCK time', async () => {
    const { queue } = await open({ lease: 30_000 });
    const q = await queue();
    const abort = new AbortController();
    const claiming = q.claim(10, abort.signal);
    await delay(100);
    const started = performance.now();
    abort.abort();
    expect(await claiming).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('a consumer whose blocking connection is dropped resumes and receives', async () => {
    const { driver, queue } = await open();
    const q = await queue();
    const claiming = q.claim(10, AbortSignal.timeout(10_000));
    await waitFor('the blocking connection id', () => q.reader.id);
    await inspect.call('CLIENT', ['KILL', 'ID', q.reader.id as number]);
    await delay(200);
    await driver.publish([happened(5)]);
    const [delivery] = await claiming;
    expect(delivery?.attempt).toBe(1);
  });

  it('forgets a closed consumer that holds nothing, so the group does not collect dead consumers', async () => {
    const { driver, stream, queue } = await open();
    const q = await queue();
    await driver.publish([happened(1)]);
    await q.ack([await claimOne(q)]);
    const consumers = async () => ((await inspect.call('XINFO', ['CONSUMERS', stream, 'g'])) as unknown[]).length;
    expect(await consumers()).toBe(1);
    await q.close();
    expect(await consumers()).toBe(0);
  });

  it('with replicas=N a publish fails when fewer replicas confirm it in time, and says the primary has it', async () => {
    const { url } = namespaces.fresh();
    const driver = await openRedisDriver(`${url}&replicas=1&replicaTimeout=50`);
    drivers.push(driver);
    await driver.declareGroup('g', [TestHappened.type]);
    await expect(driver.publish([happened(1)])).rejects.toBeInstanceOf(ReplicationTimeoutError);
  });

  it('fails to open with the address and the cause when no server answers', async () => {
    await expect(openRedisDriver('redis://127.0.0.1:1?prefix=nobody')).rejects.toThrow(
      /cannot reach Redis at 127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
  });

  it('rejects URLs it cannot honour with a clear error', async () => {
    const base = `redis://127.0.0.1:${REDIS_PORT}`;
    for (const [url, message] of [
      [`${base}?prefix=a*b`, /prefix must be/],
      [`${base}?prefix=`, /prefix must be/],
      [`${base}?replicas=-1`, /replicas must be an integer/],
      [`${base}?replicaTimeout=soon`, /replicaTimeout must be an integer/],
      [`${base}?preifx=typo`, /unknown parameter "preifx"/],
      [`${base}/queues`, /database number/],
    ] as const) {
      const opening = openRedisDriver(url);
      await expect(opening).rejects.toBeInstanceOf(InvalidTransportUrlError);
      await expect(opening).rejects.toThrow(message);
    }
  });
});
