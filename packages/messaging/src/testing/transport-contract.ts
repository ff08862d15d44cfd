/**
 * The universal transport suite: every backend runs these same tests against its real server, and
 * a transport written anywhere else runs them too. The suite opens drivers through the target's
 * factory and reads what the backend can do from the driver's own `capabilities`: tests that need
 * one it lacks (several processes, durability, per-key order across consumers) are not registered,
 * and each kind of lease is held to what it promises.
 *
 * It asserts with `node:assert` and registers its tests with the framework it is given, so it runs
 * under `node --test` with nothing installed, and under vitest, jest or mocha alike.
 */
import assert from 'node:assert/strict';
import { createTransport } from '../driven-transport.js';
import { createEvent } from '../event-type.js';
import {
  type AttemptReport,
  DeadLetterNotFoundError,
  type Envelope,
  type GroupQueue,
  type GroupStats,
  type Message,
  PermanentError,
  type Transport,
  type TransportCapabilities,
  TransportClosedError,
  type TransportDriver,
  UnroutableEventError,
} from '../index.js';
import { happened, TestHappened, TestOther } from './events.js';
import { delay, waitFor } from './wait.js';
import type { WorkerConfig } from './worker.js';
import { killWorkers, startWorker, type Worker } from './workers.js';

/** The test functions the suite registers its tests with: node:test's, vitest's, jest's or mocha's. */
export interface TestFramework {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  afterEach(body: () => Promise<void>): unknown;
}

export interface ContractTarget {
  /** Names the suite; the driver's own `name` when left out. */
  name?: string;
  /**
   * A new, empty namespace of the backend, in whatever form `openDriver` reads (a URL, a file, a
   * prefix); every call returns another, so tests never see each other's messages.
   */
  namespace(): string | Promise<string>;
  /** Opens a driver on a namespace; called several times for one (a second consumer, a restart). */
  openDriver(namespace: string): Promise<TransportDriver>;
  /**
   * Required when the driver declares `crossProcess`: a module (a file: URL or a path) exporting the
   * same `openDriver`, which the suite's child processes import to consume beside this one.
   */
  driverModule?: string | URL;
}

type Counts = Pick<GroupStats, 'waiting' | 'delayed' | 'inFlight' | 'deadLettered'>;

const FAST = { leaseMs: 1_000, backoff: { initialDelayMs: 10, maxDelayMs: 50 } };

/**
 * Registers the contract's tests for the target. Resolves once they are registered: it first opens
 * one driver to read its name and capabilities, so await it at the top of the test module.
 */
export async function transportContract(target: ContractTarget, test: TestFramework): Promise<void> {
  const probe = await target.openDriver(await target.namespace());
  const name = target.name ?? probe.name;
  const capabilities: TransportCapabilities = probe.capabilities;
  await probe.close();
  const driverModule = target.driverModule === undefined ? undefined : String(target.driverModule);
  if (capabilities.crossProcess && !driverModule) {
    throw new Error(`${name} declares crossProcess: give the target a driverModule for the suite's child processes`);
  }
  const { describe, it, afterEach } = test;

  describe(`transport contract: ${name}`, () => {
    const open: Transport[] = [];
    const connect = async (namespace: string) => {
      const transport = createTransport(await target.openDriver(namespace));
      open.push(transport);
      return transport;
    };
    const fresh = async () => {
      const namespace = await target.namespace();
      return { namespace, transport: await connect(namespace) };
    };
    const drivers: TransportDriver[] = [];
    const driverOn = async (namespace: string) => {
      const driver = await target.openDriver(namespace);
      drivers.push(driver);
      return driver;
    };
    const spawnWorker = (config: Omit<WorkerConfig, 'driverModule'>): Worker =>
      startWorker({ ...config, driverModule: driverModule as string });

    const unknownStats = new Set(capabilities.unknownStats);
    /**
     * Waits until the group's stats show exactly `expected` (a backend settles asynchronously), and
     * returns them; `delayed` may be null only where the target says so. The timeout names what was seen.
     */
    const statsReach = async (transport: Transport, group: string, expected: Counts): Promise<GroupStats> => {
      let seen: GroupStats | undefined;
      const matches = (stats: GroupStats) =>
        stats.group === group &&
        stats.waiting === expected.waiting &&
        stats.inFlight === expected.inFlight &&
        stats.deadLettered === expected.deadLettered &&
        (stats.delayed === expected.delayed || (stats.delayed === null && unknownStats.has('delayed')));
      try {
        return await waitFor(`stats ${JSON.stringify(expected)}`, async () => {
          seen = await transport.stats(group);
          return matches(seen) ? seen : undefined;
        });
      } catch (error) {
        throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(seen)}`);
      }
    };
    const expectAge = (stats: GroupStats, check: (ageMs: number) => void) => {
      if (stats.oldestWaitingAgeMs === null)
        assert.ok(unknownStats.has('oldestWaitingAgeMs'), 'oldestWaitingAgeMs is null');
      else check(stats.oldestWaitingAgeMs);
    };

    afterEach(async () => {
      killWorkers();
      await Promise.all(open.splice(0).map((t) => t.close({ deadlineMs: 1_000 }).catch(() => {})));
      await Promise.all(drivers.splice(0).map((d) => d.close().catch(() => {})));
    });

    it('delivers the envelope as published: id, type, data and extensions', async () => {
      const { transport } = await fresh();
      const received: Envelope[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        handler: ({ event }) => void received.push(event),
      });
      const event = {
        ...happened(1, { key: 'pay_1', note: 'hello' }),
        correlationid: 'req_1',
        causationid: 'cause_1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        subject: 'pay_1',
      };
      await transport.publish(event);
      await waitFor('the event', () => received.length === 1);
      assert.deepStrictEqual(received[0], event);
    });

    it('gives every group every event (fan-out)', async () => {
      const { transport } = await fresh();
      const seen: Record<string, number[]> = { email: [], analytics: [] };
      for (const group of ['email', 'analytics']) {
        await transport.subscribe({
          group,
          events: [TestHappened],
          handler: ({ event }) => void seen[group]?.push(event.data.n),
        });
      }
      await transport.publish([happened(1), happened(2), happened(3)]);
      await waitFor('both groups', () => seen.email?.length === 3 && seen.analytics?.length === 3);
      assert.deepStrictEqual(seen.email?.sort(), [1, 2, 3]);
      assert.deepStrictEqual(seen.analytics?.sort(), [1, 2, 3]);
    });

    it('shares one group between competing consumers: each event is handled once', async () => {
      const { transport } = await fresh();
      const handledBy = new Map<string, string[]>();
      for (const member of ['a', 'b']) {
        await transport.subscribe({
          group: 'workers',
          events: [TestHappened],
          concurrency: 2,
          handler: async ({ event }) => {
            handledBy.set(event.id, [...(handledBy.get(event.id) ?? []), member]);
            await delay(5);
          },
        });
      }
      await transport.publish(Array.from({ length: 40 }, (_, n) => happened(n)));
      await waitFor('40 events', () => handledBy.size === 40);
      await delay(100);
      assert.strictEqual(
        [...handledBy.values()].every((members) => members.length === 1),
        true,
      );
      const members = new Set([...handledBy.values()].flat());
      assert.deepStrictEqual(members, new Set(['a', 'b']));
    });

    it('keeps events of a declared group until it subscribes', async () => {
      const { transport } = await fresh();
      await transport.declareGroup('late', [TestHappened.type]);
      await transport.publish(happened(7));
      const received: number[] = [];
      await transport.subscribe({
        group: 'late',
        events: [TestHappened],
        handler: ({ event }) => void received.push(event.data.n),
      });
      await waitFor('the kept event', () => received.length === 1);
      assert.deepStrictEqual(received, [7]);
    });

    it('rejects an event no group is bound to, and stores none of its batch', async () => {
      const { transport } = await fresh();
      await transport.declareGroup('g', [TestHappened.type]);
      const stray = { ...happened(2), type: 'test.stray' };
      await assert.rejects(transport.publish([happened(1), stray]), UnroutableEventError);
      const received: number[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        handler: ({ event }) => void received.push(event.data.n),
      });
      await transport.publish(happened(3));
      await waitFor('the later event', () => received.length === 1);
      await delay(100);
      assert.deepStrictEqual(received, [3]);
    });

    it('retries a failing handler with backoff and acknowledges once it succeeds', async () => {
      const { transport } = await fresh();
      const attempts: number[] = [];
      let acked = false;
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        handler: ({ attempt }) => {
          attempts.push(attempt);
          if (attempt < 3) throw new Error(`flaky ${attempt}`);
          acked = true;
        },
      });
      await transport.publish(happened(1));
      await waitFor('the third attempt', () => acked);
      await delay(200);
      assert.deepStrictEqual(attempts, [1, 2, 3]);
      assert.strictEqual(await transport.deadLetters.count('g'), 0);
    });

    it('dead-letters a message after maxAttempts with the last error, attempts and times', async () => {
      const { transport } = await fresh();
      const attempts: number[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        maxAttempts: 3,
        handler: ({ attempt }) => {
          attempts.push(attempt);
          throw new Error(`smtp down (attempt ${attempt})`);
        },
      });
      const event = happened(1);
      const before = Date.now();
      await transport.publish(event);
      await waitFor('the dead letter', async () => (await transport.deadLetters.count('g')) === 1);
      await delay(200);
      assert.deepStrictEqual(attempts, [1, 2, 3]);
      const letter = await transport.deadLetters.get('g', event.id);
      assert.match(letter.reason, /smtp down \(attempt 3\)/);
      assert.strictEqual(letter.attempts, 3);
      assert.deepStrictEqual(letter.event, event);
      assert.strictEqual(letter.type, TestHappened.type);
      const [first, last] = [letter.firstAttemptAt?.getTime() ?? 0, letter.lastAttemptAt?.getTime() ?? 0];
      assert.ok(first >= before - 5, `first attempt ${first} before the publish at ${before}`);
      assert.ok(last >= first, `last attempt ${last} before the first ${first}`);
      assert.ok(letter.deadLetteredAt.getTime() >= last, `dead-lettered before the last attempt ${last}`);
    });

    it('a poison message does not block the messages behind it', async () => {
      const { transport } = await fresh();
      const handled: number[] = [];
      let poisonAttempts = 0;
      // The poison cannot run out of attempts during the test: the good messages must pass it while
      // it is retried, whatever delays the jitter draws (a transport that queued them behind it
      // would time out here). Dead-lettering after the last attempt has its own test above.
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        concurrency: 1,
        maxAttempts: 100,
        leaseMs: 1_000,
        backoff: { initialDelayMs: 1_000, maxDelayMs: 1_000 },
        handler: ({ event }) => {
          if (event.data.n === 0) {
            poisonAttempts += 1;
            throw new Error('poison');
          }
          handled.push(event.data.n);
        },
      });
      await transport.publish([happened(0), ...Array.from({ length: 20 }, (_, i) => happened(i + 1))]);
      await waitFor('the 20 good messages', () => handled.length === 20);
      assert.deepStrictEqual(
        handled.sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      await waitFor('the poison tried and failing', () => poisonAttempts >= 1);
      assert.strictEqual(await transport.deadLetters.count('g'), 0);
    });

    it('sends data that fails its schema straight to the dead-letter queue, without retries', async () => {
      const { transport } = await fresh();
      const attempts: number[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        handler: ({ attempt }) => void attempts.push(attempt),
      });
      // A producer on another schema version: it bypassed createEvent's validation.
      const bad = { ...happened(1), data: { n: 'one' } } as unknown as Envelope;
      await transport.publish([bad, happened(2)]);
      await waitFor('the dead letter', async () => (await transport.deadLetters.count('g')) === 1);
      const letter = await transport.deadLetters.get('g', bad.id);
      assert.strictEqual(letter.attempts, 1);
      assert.match(letter.reason, /invalid data for test\.happened: n: /);
      await waitFor('the valid event', () => attempts.length === 1);
      assert.deepStrictEqual(attempts, [1]);
    });

    it('dead-letters at once when the handler throws PermanentError', async () => {
      const { transport } = await fresh();
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        handler: () => {
          throw new PermanentError('merchant account closed');
        },
      });
      const event = happened(1);
      await transport.publish(event);
      await waitFor('the dead letter', async () => (await transport.deadLetters.count('g')) === 1);
      const letter = await transport.deadLetters.get('g', event.id);
      assert.strictEqual(letter.attempts, 1);
      assert.strictEqual(letter.reason, 'merchant account closed');
    });

    it('aborts a handler that runs past its timeout and counts it as a failed attempt', async () => {
      const { transport } = await fresh();
      const signals: AbortSignal[] = [];
      const attempts: number[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        handlerTimeoutMs: 100,
        handler: async ({ attempt, signal }) => {
          attempts.push(attempt);
          if (attempt === 1) {
            signals.push(signal);
            await new Promise(() => {}); // ignores its signal: the runner must not wait for it
          }
        },
      });
      await transport.publish(happened(1));
      await waitFor('the retry', () => attempts.length === 2);
      assert.strictEqual(signals[0]?.aborted, true);
      assert.match(String(signals[0]?.reason), /did not finish within 100 ms/);
      assert.deepStrictEqual(attempts, [1, 2]);
    });

    it('extends the lease of a slow handler, so it never runs twice at once', async () => {
      const { transport } = await fresh();
      const starts: string[] = [];
      for (const member of ['a', 'b']) {
        await transport.subscribe({
          group: 'g',
          events: [TestHappened],
          leaseMs: 300,
          handler: async () => {
            starts.push(member);
            await delay(1_200); // four leases long
          },
        });
      }
      await transport.publish(happened(1));
      await waitFor('the handler', () => starts.length === 1);
      await delay(1_600);
      assert.strictEqual(starts.length, 1);
    });

    /** Claims until a delivery comes (a claim may also end empty, when its wait runs out). */
    const claimOne = (queue: GroupQueue) =>
      waitFor('a delivery', async () => {
        const batch = await queue.claim(1, AbortSignal.timeout(1_000));
        return batch.length > 0 ? batch : undefined;
      });

    /** Claims one message on a fresh namespace through the driver, with a `leaseMs` the test never renews. */
    const claimUnrenewed = async (leaseMs: number) => {
      const namespace = await target.namespace();
      const driver = await driverOn(namespace);
      await driver.declareGroup('g', [TestHappened.type]);
      const event = happened(1);
      await driver.publish([event]);
      const options = { group: 'g', eventTypes: [TestHappened.type], leaseMs };
      const holder = await driver.openQueue(options);
      const [held] = await claimOne(holder);
      assert.strictEqual(held?.eventId, event.id);
      const other = await (await driverOn(namespace)).openQueue(options);
      return { event, holder, other };
    };

    if (capabilities.leases === 'timed') {
      it('timed leases: a claimed message nobody renews goes to another consumer once its lease lapses', async () => {
        const { event, other } = await claimUnrenewed(300);
        const [again] = await claimOne(other);
        assert.strictEqual(again?.eventId, event.id);
        assert.strictEqual(again?.attempt, 2);
        await other.ack([again]);
      });
    } else {
      it('connection leases: a claimed message stays with its consumer past leaseMs, and comes back when it closes', async () => {
        const { event, holder, other } = await claimUnrenewed(300);
        // Four leases long, never renewed: a timed lease would have lapsed three times over.
        assert.deepStrictEqual(await other.claim(1, AbortSignal.timeout(1_200)), []);
        await holder.close();
        const [again] = await claimOne(other);
        assert.strictEqual(again?.eventId, event.id);
        assert.strictEqual(again?.attempt, 2);
        await other.ack([again]);
      });
    }

    it('runs at most `concurrency` handlers at once', async () => {
      const { transport } = await fresh();
      let running = 0;
      let peak = 0;
      let done = 0;
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        concurrency: 3,
        handler: async () => {
          running += 1;
          peak = Math.max(peak, running);
          await delay(20);
          running -= 1;
          done += 1;
        },
      });
      await transport.publish(Array.from({ length: 15 }, (_, n) => happened(n)));
      await waitFor('15 handled', () => done === 15);
      assert.strictEqual(peak, 3);
    });

    if (capabilities.perKeyOrder) {
      it('handles same-key events in publish order while different keys run in parallel', async () => {
        const { transport } = await fresh();
        const order = new Map<string, number[]>();
        let running = 0;
        let peak = 0;
        let done = 0;
        await transport.subscribe({
          group: 'g',
          events: [TestHappened],
          concurrency: 8,
          handler: async ({ event }) => {
            running += 1;
            peak = Math.max(peak, running);
            const key = event.orderingkey as string;
            await delay(Math.random() * 6);
            order.set(key, [...(order.get(key) ?? []), event.data.n]);
            running -= 1;
            done += 1;
          },
        });
        const keys = ['pay_a', 'pay_b', 'pay_c', 'pay_d'];
        const events = Array.from({ length: 80 }, (_, n) => happened(n, { key: keys[n % keys.length] as string }));
        for (let i = 0; i < events.length; i += 10) await transport.publish(events.slice(i, i + 10));
        await waitFor('80 handled', () => done === 80);
        for (const [index, key] of keys.entries()) {
          assert.deepStrictEqual(
            order.get(key),
            events.filter((_, n) => n % keys.length === index).map((e) => e.data.n),
          );
        }
        assert.ok(peak > 1, `keys ran one at a time (peak ${peak})`);
      });

      it('holds later same-key events while an earlier one waits for its retry', async () => {
        const { transport } = await fresh();
        const log: string[] = [];
        await transport.subscribe({
          group: 'g',
          events: [TestHappened],
          concurrency: 4,
          ...FAST,
          backoff: { initialDelayMs: 150, maxDelayMs: 150 },
          handler: ({ event, attempt }) => {
            log.push(`${event.data.n}#${attempt}`);
            if (event.data.n === 1 && attempt === 1) throw new Error('first try fails');
          },
        });
        await transport.publish([happened(1, { key: 'k' }), happened(2, { key: 'k' }), happened(3, { key: 'k' })]);
        await waitFor('all three', () => log.length === 4);
        assert.deepStrictEqual(log, ['1#1', '1#2', '2#1', '3#1']);
      });
    }

    it('inspects, pages, replays and purges dead letters', async () => {
      const { transport } = await fresh();
      let healthy = false;
      const handled: number[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        maxAttempts: 1,
        handler: ({ event }) => {
          if (!healthy) throw new Error('downstream down');
          handled.push(event.data.n);
        },
      });
      const events = Array.from({ length: 5 }, (_, n) => happened(n));
      await transport.publish(events);
      await waitFor('five dead letters', async () => (await transport.deadLetters.count('g')) === 5);

      const first = await transport.deadLetters.list('g', { limit: 2 });
      assert.strictEqual(first.items.map((l) => l.event?.data).length, 2);
      assert.notStrictEqual(first.nextCursor, null);
      const rest = await transport.deadLetters.list('g', { limit: 10, after: first.nextCursor ?? undefined });
      assert.strictEqual(rest.nextCursor, null);
      const listed = [...first.items, ...rest.items].map((l) => l.eventId);
      assert.deepStrictEqual(listed.sort(), events.map((e) => e.id).sort());
      await assert.rejects(transport.deadLetters.list('g', { limit: 100_000 }), /limit/);
      await assert.rejects(transport.deadLetters.get('g', 'no-such-id'), DeadLetterNotFoundError);

      healthy = true;
      await transport.deadLetters.replay('g', events[0]?.id as string);
      await waitFor('the replayed one', () => handled.length === 1);
      assert.deepStrictEqual(handled, [0]);
      assert.strictEqual(await transport.deadLetters.purge('g', events[1]?.id), 1);
      assert.strictEqual(await transport.deadLetters.replayAll('g'), 3);
      await waitFor('the other replays', () => handled.length === 4);
      assert.deepStrictEqual(handled.sort(), [0, 2, 3, 4]);
      assert.strictEqual(await transport.deadLetters.count('g'), 0);

      healthy = false;
      await transport.publish(happened(9));
      await waitFor('a new dead letter', async () => (await transport.deadLetters.count('g')) === 1);
      assert.strictEqual(await transport.deadLetters.purge('g'), 1);
      assert.strictEqual(await transport.deadLetters.count('g'), 0);
    });

    it('closes gracefully: in-flight handlers finish and are acknowledged, waiting messages are released', async () => {
      const { namespace, transport } = await fresh();
      const started: number[] = [];
      let finished = 0;
      const subscription = await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        concurrency: 3,
        handler: async ({ event }) => {
          started.push(event.data.n);
          await delay(300);
          finished += 1;
        },
      });
      // Same key: the second waits in the runner behind the first, claimed but not started.
      await transport.publish([happened(1, { key: 'k' }), happened(2, { key: 'k' }), happened(3)]);
      await waitFor('two handlers running', () => started.length === 2);
      await subscription.close({ deadlineMs: 5_000 });
      assert.strictEqual(finished, 2);

      const again: Message[] = [];
      const next = await connect(namespace);
      await next.subscribe({ group: 'g', events: [TestHappened], ...FAST, handler: (m) => void again.push(m) });
      await waitFor('the released message', () => again.length === 1);
      await delay(200);
      assert.deepStrictEqual(
        again.map((m) => [m.event.data, m.attempt]),
        [[{ n: 2 }, 1]],
      );
    });

    it('closes past its deadline by aborting the handler and releasing its message at once', async () => {
      const { namespace, transport } = await fresh();
      let signal: AbortSignal | undefined;
      const subscription = await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        leaseMs: 60_000, // if the message were not released, nobody would see it for a minute
        handler: async (message) => {
          signal = message.signal;
          await new Promise((resolve) => message.signal.addEventListener('abort', resolve));
        },
      });
      await transport.publish(happened(1));
      await waitFor('the handler', () => signal);
      await subscription.close({ deadlineMs: 100 });
      assert.strictEqual(signal?.aborted, true);

      const again: Message[] = [];
      const next = await connect(namespace);
      await next.subscribe({ group: 'g', events: [TestHappened], handler: (m) => void again.push(m) });
      await waitFor('the released message', () => again.length === 1, 5_000);
      assert.strictEqual(again[0]?.attempt, 2);
    });

    it('stats: counts the waiting messages of a group nobody consumes, and how long the oldest has waited', async () => {
      const { transport } = await fresh();
      await transport.declareGroup('g', [TestHappened.type]);
      await transport.declareGroup('other', [TestOther.type]);
      const before = Date.now();
      await transport.publish([happened(1), happened(2), happened(3)]);
      await delay(50);
      const stats = await statsReach(transport, 'g', { waiting: 3, delayed: 0, inFlight: 0, deadLettered: 0 });
      const elapsed = Date.now() - before;
      expectAge(stats, (age) => {
        assert.ok(age >= 40, `oldest waited ${age} ms`);
        assert.ok(age <= elapsed + 1_000, `oldest waited ${age} ms, of ${elapsed} ms`);
      });
      // Another group's queue, and a group never declared, have nothing waiting.
      const other = await statsReach(transport, 'other', { waiting: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
      assert.strictEqual(other.oldestWaitingAgeMs, 0);
      assert.strictEqual((await transport.stats('nobody')).waiting, 0);
    });

    it('stats: counts the messages blocked handlers hold as in flight, and the rest as waiting', async () => {
      const { transport } = await fresh();
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      let started = 0;
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        concurrency: 2,
        handler: async () => {
          started += 1;
          await gate;
        },
      });
      await transport.publish(Array.from({ length: 5 }, (_, n) => happened(n)));
      await waitFor('two handlers running', () => started === 2);
      // The waiting messages must have waited measurably (ages count whole milliseconds).
      await delay(20);
      const busy = await statsReach(transport, 'g', { waiting: 3, delayed: 0, inFlight: 2, deadLettered: 0 });
      expectAge(busy, (age) => assert.ok(age > 0, `oldest waited ${age} ms`));
      open();
      const idle = await statsReach(transport, 'g', { waiting: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
      assert.strictEqual(idle.oldestWaitingAgeMs, 0);
      assert.strictEqual(started, 5);
    });

    it('stats: counts a message waiting for a long retry delay as waiting and delayed, not in flight', async () => {
      const { transport } = await fresh();
      const reports: AttemptReport[] = [];
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        maxAttempts: 10,
        backoff: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
        hooks: { onSettled: (report) => void reports.push(report) },
        handler: () => {
          throw new Error('downstream down');
        },
      });
      await transport.publish(happened(1));
      // Full jitter may draw any delay below the hour. A short one brings the message back soon
      // for another draw; waiting for a draw above a minute could instead wait that long (CI failed
      // on it). Ten seconds is long enough to see the message waiting, short enough to be redrawn.
      await waitFor('a retry due in ten seconds or more', () =>
        reports.some((r) => r.outcome.kind === 'retry' && r.outcome.delayMs >= 10_000),
      );
      const stats = await statsReach(transport, 'g', { waiting: 1, delayed: 1, inFlight: 0, deadLettered: 0 });
      expectAge(stats, (age) => assert.ok(age > 0, `oldest waited ${age} ms`));
    });

    it('stats: counts a dead-lettered message', async () => {
      const { transport } = await fresh();
      await transport.subscribe({
        group: 'g',
        events: [TestHappened],
        ...FAST,
        handler: () => {
          throw new PermanentError('merchant account closed');
        },
      });
      await transport.publish(happened(1));
      const stats = await statsReach(transport, 'g', { waiting: 0, delayed: 0, inFlight: 0, deadLettered: 1 });
      assert.strictEqual(stats.oldestWaitingAgeMs, 0);
      await transport.deadLetters.purge('g');
      await statsReach(transport, 'g', { waiting: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
    });

    it('ping resolves while the transport is open and rejects once it is closed', async () => {
      const { transport } = await fresh();
      assert.strictEqual(await transport.ping(), undefined);
      await transport.close();
      await assert.rejects(transport.ping(), TransportClosedError);
      await assert.rejects(transport.stats('g'), TransportClosedError);
    });

    it('does not deliver an event type the group did not subscribe to', async () => {
      const { transport } = await fresh();
      const seen: string[] = [];
      await transport.subscribe({
        group: 'one',
        events: [TestHappened],
        handler: ({ event }) => void seen.push(event.type),
      });
      await transport.subscribe({ group: 'two', events: [TestOther], handler: () => {} });
      await transport.publish([createEvent(TestOther, { label: 'x' }, { source: 'urn:t' }), happened(1)]);
      await waitFor('the subscribed type', () => seen.length === 1);
      await delay(100);
      assert.deepStrictEqual(seen, [TestHappened.type]);
    });

    if (capabilities.durable) {
      it('keeps published events across a restart of the transport', async () => {
        const { namespace, transport } = await fresh();
        await transport.declareGroup('g', [TestHappened.type]);
        await transport.publish([happened(1), happened(2)]);
        await transport.close();
        const reopened = await connect(namespace);
        const received: number[] = [];
        await reopened.subscribe({
          group: 'g',
          events: [TestHappened],
          handler: ({ event }) => void received.push(event.data.n),
        });
        await waitFor('both events', () => received.length === 2);
        assert.deepStrictEqual(received.sort(), [1, 2]);
      });
    }

    if (capabilities.crossProcess) {
      it('shares a group between consumers in two processes: each event handled once', async () => {
        const { namespace, transport } = await fresh();
        await transport.declareGroup('g', [TestHappened.type]);
        const workers = [0, 1].map(() =>
          spawnWorker({ namespace, group: 'g', mode: 'record', concurrency: 4, leaseMs: 5_000, handlerDelayMs: 2 }),
        );
        await Promise.all(workers.map((w) => w.next((r) => r.kind === 'ready')));
        const events = Array.from({ length: 200 }, (_, n) => happened(n));
        for (let i = 0; i < events.length; i += 20) await transport.publish(events.slice(i, i + 20));
        const handled = () => workers.flatMap((w) => w.reports.filter((r) => r.kind === 'handled'));
        await waitFor('200 handled', () => handled().length >= 200, 30_000);
        await Promise.all(
          workers.map(async (w) => {
            w.process.send('close');
            await w.next((r) => r.kind === 'closed');
          }),
        );
        const ids = handled().map((r) => (r as { id: string }).id);
        assert.strictEqual(ids.length, 200);
        assert.strictEqual(new Set(ids).size, 200);
        assert.strictEqual(
          workers.every((w) => w.reports.some((r) => r.kind === 'handled')),
          true,
        );
      });

      it('redelivers the message of a consumer process killed mid-handler, after its lease', async () => {
        const { namespace, transport } = await fresh();
        await transport.declareGroup('g', [TestHappened.type]);
        const doomed = spawnWorker({ namespace, group: 'g', mode: 'hang', concurrency: 1, leaseMs: 800 });
        await doomed.next((r) => r.kind === 'ready');
        const event = happened(42);
        await transport.publish(event);
        await doomed.next((r) => r.kind === 'started');
        await doomed.kill('SIGKILL');

        const again: Message[] = [];
        await transport.subscribe({
          group: 'g',
          events: [TestHappened],
          leaseMs: 800,
          handler: (m) => void again.push(m),
        });
        await waitFor('the redelivery', () => again.length === 1, 10_000);
        assert.strictEqual(again[0]?.event.id, event.id);
        assert.strictEqual(again[0]?.attempt, 2);
      });
    }
  });
}
