import { deleteRedisNamespace } from '@syncopate/transport-redis';
import { Redis } from 'ioredis';
import { serverAnswers } from '../../test/support/availability.js';
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

const PORT = Number(process.env.REDIS_BENCH_PORT ?? 6379);
const BASE_URL = `redis://127.0.0.1:${PORT}`;

let namespaces = 0;
const freshPrefix = (kind: string) => `syncopate-bench-${kind}-${process.pid}-${namespaces++}`;

async function dropNamespace(prefix: string): Promise<void> {
  const redis = new Redis(BASE_URL);
  await deleteRedisNamespace({ redis, prefix }).finally(() => redis.disconnect());
}

/**
 * The floor: Redis Streams bare with ioredis. One XADD per message, awaited like the transport's
 * publishes; a consumer on its own connection reading with XREADGROUP … BLOCK, COUNT as many as
 * the transport's concurrency, and one XACK per batch read (sent without waiting, as a batcher would).
 */
function redisFloor(options: CaseOptions): Case {
  return {
    name: 'redis-floor',
    async run(mode) {
      const prefix = freshPrefix('floor');
      const stream = `{${prefix}}:floor`;
      const producer = new Redis(BASE_URL);
      const reader = new Redis(BASE_URL);
      await producer.call('XGROUP', ['CREATE', stream, 'g', '0', 'MKSTREAM']);
      const latencies: number[] = [];
      const target = targetOf(mode);
      const acks: Promise<unknown>[] = [];
      const consume = (async () => {
        while (latencies.length < target) {
          const reply = (await reader.call('XREADGROUP', [
            'GROUP',
            'g',
            'c',
            'COUNT',
            options.concurrency,
            'BLOCK',
            1_000,
            'STREAMS',
            stream,
            '>',
          ])) as [string, [string, string[]][]] | null;
          const entries = reply?.[1] ?? [];
          if (entries.length === 0) continue;
          const at = now();
          for (const [, fields] of entries) {
            latencies.push(at - (JSON.parse(fields[1] as string) as { data: { sentAt: number } }).data.sentAt);
          }
          acks.push(producer.call('XACK', [stream, 'g', ...entries.map(([id]) => id)]));
        }
      })();
      const started = now();
      await drive(mode, async (n) => {
        await producer.call('XADD', [stream, '*', 'body', benchEventJson(n)]);
      });
      await consume;
      const elapsed = now() - started;
      await Promise.all(acks);
      producer.disconnect();
      reader.disconnect();
      await dropNamespace(prefix);
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

/** The transport end to end, each run in a namespace of its own, removed afterwards. */
function redisTransport(options: CaseOptions): Case {
  const made: string[] = [];
  const inner = transportCase(
    'redis',
    () => {
      const prefix = freshPrefix('transport');
      made.push(prefix);
      return `${BASE_URL}?prefix=${prefix}`;
    },
    options,
  );
  return {
    name: inner.name,
    async run(mode) {
      const measured = await inner.run(mode);
      for (const prefix of made.splice(0)) await dropNamespace(prefix);
      return measured;
    },
  };
}

export const cases: CaseFactory = async (options) =>
  (await serverAnswers(PORT)) ? [redisFloor(options), redisTransport(options)] : [];
