import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  benchEventJson,
  type Case,
  type CaseFactory,
  type CaseOptions,
  drive,
  now,
  targetOf,
  transportCase,
} from './support.js';

const SERVER = '127.0.0.1:4222';
const runPrefix = `SYNCBENCH-${process.pid}-${randomBytes(3).toString('hex')}`;
let namespaces = 0;

/** Removes the streams of one benchmark namespace (and only those). */
async function dropNamespace(nc: NatsConnection, namespace: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names())
    if (name === namespace || name.startsWith(`${namespace}_`)) names.push(name);
  await Promise.all(names.map((name) => jsm.streams.delete(name)));
}

/**
 * The floor: the same stream shape (file storage, interest retention), each publish awaiting its
 * PubAck, and one durable pull consumer read with the library's `consume` and acked per message.
 */
function natsFloor(nc: NatsConnection, options: CaseOptions): Case {
  return {
    name: 'nats-floor',
    async run(mode) {
      const stream = `${runPrefix}-floor-${namespaces++}`;
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], retention: 'interest', storage: 'file' });
      await jsm.consumers.add(stream, {
        durable_name: 'bench',
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        max_ack_pending: -1,
      });
      const consumer = await js.consumers.get(stream, 'bench');
      const messages = await consumer.consume({ max_messages: options.concurrency });
      const latencies: number[] = [];
      const target = targetOf(mode);
      const done = (async () => {
        for await (const m of messages) {
          latencies.push(now() - (m.json() as { data: { sentAt: number } }).data.sentAt);
          m.ack();
          if (latencies.length >= target) break;
        }
      })();
      const started = now();
      await drive(mode, async (n) => {
        await js.publish(`${stream}.bench`, benchEventJson(n), { msgID: `${stream}-${n}` });
      });
      await done;
      const elapsed = now() - started;
      await messages.close();
      await jsm.streams.delete(stream);
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

/** The transport end to end, in a namespace of its own per run, removed afterwards. */
function natsTransport(nc: NatsConnection, options: CaseOptions): Case {
  return {
    name: 'nats',
    async run(mode) {
      const namespace = `${runPrefix}-${namespaces++}`;
      const inner = transportCase('nats', () => `nats://${SERVER}?stream=${namespace}`, options);
      try {
        return await inner.run(mode);
      } finally {
        await dropNamespace(nc, namespace);
      }
    },
  };
}

export const cases: CaseFactory = async (options) => {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: SERVER, timeout: 1_000 });
  } catch {
    return [];
  }
  return [natsFloor(nc, options), natsTransport(nc, options)];
};
